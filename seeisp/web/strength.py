"""The strength control, as Lightroom's "Amount": the network's picture blended with a lightly denoised naive one.

The naive picture is the raw amplified by the same ratio, its two greens averaged and each colour smoothed over
3x3 half-size pixels: light noise reduction, no network. Both pictures are linear camera RGB in the sensor's
orientation, so the blend is made before rendering and reaches every format, the linear DNG included.

A ``Blend`` holds the two; ``store`` keeps them in a run's folder, so that the downloads can be written again at
another strength, and any part of the picture shown at 100 %, without the network.
"""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.ndimage import uniform_filter

from ..enhance import EnhanceResult, network_mosaic
from ..pack import from_rggb, pack
from ..raw import CFA, Flip, RawImage
from ..render import render

FULL_STRENGTH = 100  # percent: the network's picture alone

# A stored blend's files. The network's camera RGB is kept as float16: 11 significant bits, far finer than the
# noise the network leaves, at half the disk of float32. The metadata file is written and read by the page only.
_NETWORK_FILE, _SOFT_FILE, _METADATA_FILE = "network.npy", "soft.npy", "result.pickle"


def soft_naive(mosaic_rggb: np.ndarray, ratio: float) -> np.ndarray:
    """(H/2, W/2, 3) linear camera RGB of an RGGB mosaic amplified by ``ratio`` and lightly smoothed."""
    red, green1, green2, blue = pack(mosaic_rggb)
    half = np.stack([red, (green1 + green2) / 2, blue], axis=-1) * np.float32(ratio)
    return uniform_filter(np.clip(half, 0, 1), size=(3, 3, 1), mode="nearest").astype(np.float32)


def half_size_index(cfa: CFA, half_shape: tuple[int, int], shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """For each row and each column of a picture of ``shape`` in the sensor's orientation, the row and column of a
    half-size RGGB picture (``soft_naive``) it takes its colour from: pixels doubled, the mirroring to RGGB undone,
    an odd last row or column repeated (as ``from_rggb`` and ``restore_size`` do to the network's picture)."""
    rows = from_rggb(np.repeat(np.arange(half_shape[0]), 2)[:, None], cfa)[:, 0]
    cols = from_rggb(np.repeat(np.arange(half_shape[1]), 2)[None, :], cfa)[0]
    return np.pad(rows, (0, shape[0] - rows.size), mode="edge"), np.pad(cols, (0, shape[1] - cols.size), mode="edge")


def crop_box(shape: tuple[int, int], centre: tuple[float, float], size: tuple[int, int]) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of ``size`` (width, height) pixels around ``centre`` (x, y) in a picture of
    ``shape`` (height, width): moved inside it near an edge, cut to it where it is smaller."""
    height, width = shape
    crop_width, crop_height = min(size[0], width), min(size[1], height)
    left = int(np.clip(round(centre[0] - crop_width / 2), 0, width - crop_width))
    top = int(np.clip(round(centre[1] - crop_height / 2), 0, height - crop_height))
    return top, left, top + crop_height, left + crop_width


def sensor_box(box: tuple[int, int, int, int], sensor_shape: tuple[int, int], flip: Flip) -> tuple[slice, slice]:
    """The rows and columns of a sensor-oriented picture that ``render`` turns into the display box ``box``
    (top, left, bottom, right), for a picture of ``sensor_shape`` (height, width) before it is turned."""
    top, left, bottom, right = box
    height, width = sensor_shape
    if flip == Flip.ROTATE_180:
        return slice(height - bottom, height - top), slice(width - right, width - left)
    if flip == Flip.ROTATE_90_CCW:  # display row i is sensor column width - 1 - i; display column j, sensor row j
        return slice(left, right), slice(width - bottom, width - top)
    if flip == Flip.ROTATE_90_CW:  # display row i is sensor column i; display column j, sensor row height - 1 - j
        return slice(height - right, height - left), slice(top, bottom)
    return slice(top, bottom), slice(left, right)


@dataclass(frozen=True)
class Blend:
    """The network's result and the lightly denoised naive picture it is blended with at a strength below 100 %."""

    result: EnhanceResult  # the network's: its camera RGB is the network's picture alone
    soft: np.ndarray  # ``soft_naive`` of the mosaic the network read: (H/2, W/2, 3), mirrored to RGGB
    cfa: CFA  # the Bayer filter ``soft`` was mirrored from

    @classmethod
    def of(cls, result: EnhanceResult) -> Blend:
        cfa, mosaic = network_mosaic(result.raw)  # X-Trans raws resampled onto a Bayer grid, as for the network
        return cls(result, soft_naive(mosaic, result.ratio), cfa)

    def camera_rgb(self, percent: float, rows: slice = slice(None), cols: slice = slice(None)) -> np.ndarray:
        """Linear camera RGB, sensor orientation, at ``percent`` of the network's: all of it, or ``rows``, ``cols``."""
        network = np.asarray(self.result.camera_rgb[rows, cols], np.float32)
        if percent >= FULL_STRENGTH:
            return network
        row_index, col_index = half_size_index(self.cfa, self.soft.shape[:2], self.result.camera_rgb.shape[:2])
        naive = np.asarray(self.soft[row_index[rows, None], col_index[None, cols]], np.float32)
        share = np.float32(max(percent, 0) / 100)
        return share * network + (1 - share) * naive

    def at(self, percent: float) -> EnhanceResult:
        """The result at ``percent``: its camera RGB blended and rendered (every format is written from these)."""
        if percent >= FULL_STRENGTH and self.result.image.size:  # a stored blend keeps no rendered picture
            return self.result
        camera_rgb = self.camera_rgb(percent)
        return dataclasses.replace(
            self.result, camera_rgb=camera_rgb, image=render(camera_rgb, self.result.raw, self.result.gains)
        )

    def crop(self, percent: float, centre: tuple[float, float], size: tuple[int, int]) -> np.ndarray:
        """The rendered picture at ``percent``, only the ``size`` (width, height) display pixels around ``centre``
        (x, y, display pixels; moved inside the picture where it is near an edge): what a 1:1 view shows."""
        box = crop_box(self.result.raw.shape, centre, size)
        rows, cols = sensor_box(box, self.result.camera_rgb.shape[:2], self.result.raw.flip)
        return render(self.camera_rgb(percent, rows, cols), self.result.raw, self.result.gains)

    def soft_picture(self) -> np.ndarray:
        """The lightly denoised naive picture at half size, rendered as the result is (its white balance)."""
        return render(from_rggb(self.soft, self.cfa), self.result.raw, self.result.gains)

    def store(self, folder: Path) -> Path:
        """Keep the blend in ``folder`` (made if need be): the two pictures and the result's metadata, not its
        rendered picture nor the raw's pixels (neither is needed again). ``load`` reads it back."""
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / _NETWORK_FILE, self.result.camera_rgb.astype(np.float16))
        np.save(folder / _SOFT_FILE, self.soft.astype(np.float16))
        raw = dataclasses.replace(self.result.raw, mosaic=np.zeros((0, 0), np.float32))
        metadata = dataclasses.replace(self.result, image=_NOTHING, camera_rgb=_NOTHING, raw=raw)
        with open(folder / _METADATA_FILE, "wb") as file:
            pickle.dump((metadata, self.cfa, self.result.raw.mosaic.shape), file)
        return folder

    @classmethod
    def load(cls, folder: Path) -> Blend:
        """A blend kept by ``store``; its network picture is read from disk as it is used (a 1:1 crop reads only
        the crop's rows). The raw it returns has no pixels (zeros of the raw's shape)."""
        with open(folder / _METADATA_FILE, "rb") as file:
            metadata, cfa, mosaic_shape = pickle.load(file)  # the page's own file, never an upload
        raw: RawImage = dataclasses.replace(metadata.raw, mosaic=np.broadcast_to(np.float32(0), mosaic_shape))
        network = np.load(folder / _NETWORK_FILE, mmap_mode="r")
        result = dataclasses.replace(metadata, raw=raw, camera_rgb=network)
        return cls(result, np.load(folder / _SOFT_FILE), cfa)


_NOTHING = np.zeros((0, 0, 3), np.float32)


def blend_previews(seeisp: np.ndarray, naive: np.ndarray, percent: float) -> np.ndarray:
    """Two 8-bit previews of one size blended at ``percent`` of ``seeisp``: what the strength control shows at once."""
    share = min(max(percent, 0), 100) / 100
    mixed = share * seeisp.astype(np.float32) + (1 - share) * naive.astype(np.float32)
    return np.round(mixed).astype(np.uint8)
