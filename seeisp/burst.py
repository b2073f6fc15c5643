"""Bursts: several dark raws of one scene, aligned and merged in the raw domain into one cleaner raw.

    result = enhance_burst(["a.ARW", "b.ARW", "c.ARW"], ratio=300)  # a.ARW is the reference
    result.save("a.png")

As in HDR+ (Hasinoff et al. 2016), every frame is aligned to the first one (the reference) on a
downsampled grey image of its 2x2-packed mosaic: first the global motion of a handheld camera (a turn and a
translation that most of the picture shares: phase correlation, then a flow field and RANSAC), then a dense
coarse-to-fine local flow (OpenCV's DIS), so that parts of the scene that moved are followed too.
The frame is then merged tile by tile (overlapping tiles of 16x16 packed pixels, one frame at a time: frames are
streamed, never held together). Each tile moves by whole 2x2 cells, so every site stays on its colour and no
resampling blurs the noise or ties it between neighbours; the fraction of a pixel left is a linear phase of
the tile's spectrum, which keeps the noise's power and independence. Each frequency of the tile is then pulled
towards the reference's where the two differ by more than the noise of both predicts (HDR+'s pairwise Wiener
merge): a fine detail that the frames alias differently, or that moved, comes from the reference, while the
rest averages. A tile that differs on the whole comes from the reference alone (a moving object). Where fewer
frames were kept, the merged raw's noise is then brought down to that of the rest (``even_out_noise``): the
networks, trained on noise of one strength, leave a patch of one frame's noise in a cleaner picture speckled.
The noise is measured on the reference itself (``NoiseModel.of_planes``). A frame that agrees with the reference
almost nowhere (another scene) is left out with a ``BurstFrameWarning``. X-Trans frames are merged on the Bayer
grid the networks read (``seeisp.xtrans``).

The merged mosaic has the reference's brightness and the noise of a longer exposure, and goes through
the same network as one frame (``enhance_raw``) at the burst's own ratio: measured on simulated bursts
(``benchmarks/burst.py``), passing the ratio unchanged is as good as or better than feeding the network
at a lower ratio (a smaller amplification, with the output scaled back up), so the networks trained on
single frames need nothing else for a merged one.

OpenCV and SciPy (the tiles' FFTs) are an optional extra: ``pip install 'seeisp[burst]'``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .dark_frame import DarkFrames, as_dark_frames
from .enhance import EnhanceResult, enhance_file, enhance_raw, load_session
from .errors import DarkFrameError, SeeispError
from .pack import even_crop
from .raw import CFAKind, RawImage, read_raw
from .session import ModelSession
from .xtrans import as_bayer

GLOBAL_SIDE = 768  # packed pixels: the longer side of the grey image the global motion is found on
FLOW_SIDE = 1536  # packed pixels: the longer side of the grey image the local flow is found on
FLOW_DEADBAND = 0.5  # grey pixels of local flow taken for the noise's jitter (``significant``)
MIN_OVERLAP = 0.5  # the least share of the reference a frame must still cover after its global motion
MIN_AGREEMENT = 0.3  # the least share of its tiles a frame must keep (``merge_frame``) to count as the same scene


NOISE_FLOOR = 1e-4  # of the white level: the least noise assumed (a noise-free raw is still quantised)


class BurstError(SeeispError):
    """The frames of a burst cannot be merged: another camera, size, colour filter or ISO than the reference."""


class BurstFrameWarning(UserWarning):
    """A frame of a burst was left out (it does not align with the reference); its message names it."""


def _fft() -> Any:
    try:
        import scipy.fft
    except ImportError:
        raise SeeispError("merging a burst needs SciPy: pip install 'seeisp[burst]'") from None
    return scipy.fft


def rfft2(tiles: np.ndarray) -> np.ndarray:
    """The 2-D real FFT of (..., TILE, TILE) tiles, in single precision on all cores (SciPy's: numpy's is several
    times slower on many small tiles)."""
    return _fft().rfft2(tiles, workers=-1)


def irfft2(spectra: np.ndarray) -> np.ndarray:
    """The inverse of ``rfft2``."""
    return _fft().irfft2(spectra, s=(TILE, TILE), workers=-1)


def _cv2() -> Any:
    try:
        import cv2
    except ImportError:
        raise SeeispError("merging a burst needs OpenCV: pip install 'seeisp[burst]'") from None
    return cv2


# --- the 2x2 planes ---------------------------------------------------------------------------------------------

SITES = ((0, 0), (0, 1), (1, 0), (1, 1))  # (row, column) of each plane's site in the 2x2 cell, in plane order


def to_planes(mosaic: np.ndarray) -> np.ndarray:
    """(H, W) mosaic -> (4, H/2, W/2) float32: one plane per site of the 2x2 cell (whatever its colour)."""
    even = even_crop(mosaic)
    return np.stack([even[i::2, j::2] for i, j in SITES]).astype(np.float32, copy=False)


def from_planes(planes: np.ndarray, shape: tuple[int, int], fill: np.ndarray) -> np.ndarray:
    """The inverse of ``to_planes`` into a mosaic of ``shape``; an odd last row or column comes from ``fill``."""
    mosaic = np.array(fill, dtype=np.float32, copy=True)
    for (i, j), plane in zip(SITES, planes, strict=True):
        mosaic[i : 2 * plane.shape[0] : 2, j : 2 * plane.shape[1] : 2] = plane
    return mosaic


def grey(planes: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    """A grey image of the packed planes for alignment, and its scale (packed pixels per grey pixel).

    The mean of the four planes, area-downsampled so its longer side is at most ``side``, with the square
    root taken so shot noise is about as strong in bright areas as in dark ones (what alignment wants)."""
    cv2 = _cv2()
    mean = planes.mean(axis=0)
    scale = max(1, math.ceil(max(mean.shape) / side))
    h, w = mean.shape[0] // scale, mean.shape[1] // scale
    small = cv2.resize(mean[: h * scale, : w * scale], (w, h), interpolation=cv2.INTER_AREA) if scale > 1 else mean
    return np.sqrt(np.clip(small, 0, None)).astype(np.float32), float(scale)


def _to_uint8(image: np.ndarray, top: float) -> np.ndarray:
    return np.clip(image * (255.0 / top), 0, 255).astype(np.uint8)


# --- motion -----------------------------------------------------------------------------------------------------


def global_motion(reference: np.ndarray, frame: np.ndarray, top: float) -> np.ndarray | None:
    """The 2x3 affine (a turn and a translation) that maps a reference grey pixel to where it lies in ``frame``,
    as most of the picture moved; None when no motion fits (another scene).

    The median translation of overlapping windows (``coarse_translation``) is the start; the flow from the
    reference to the frame so shifted then gives a motion for every part of the picture, and RANSAC fits the one
    most of them share. A moving object, however bright, then does not pull the background's alignment, as it
    would pull phase correlation or ECC over the whole picture."""
    cv2 = _cv2()
    dx, dy = coarse_translation(reference, frame)
    h, w = reference.shape
    shift = np.array([[1, 0, dx], [0, 1, dy]], np.float32)
    shifted = cv2.warpAffine(
        frame, shift, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE
    )
    flow = local_flow(reference, shifted, top, smooth=0.0)
    step = max(2, min(h, w) // 64)
    ys, xs = np.mgrid[step // 2 : h : step, step // 2 : w : step].reshape(2, -1)
    inside = (xs + dx >= 0) & (xs + dx <= w - 1) & (ys + dy >= 0) & (ys + dy <= h - 1)
    ys, xs = ys[inside], xs[inside]
    if len(xs) < 16:
        return None
    source = np.stack([xs, ys], axis=1).astype(np.float32)
    target = source + flow[ys, xs] + np.float32([dx, dy])
    motion, _ = cv2.estimateAffinePartial2D(source, target, method=cv2.RANSAC, ransacReprojThreshold=1.0)
    if motion is None:
        return None
    motion[:, :2] /= math.sqrt(abs(np.linalg.det(motion[:, :2])))  # a camera turns and shifts; it does not zoom
    return refine_motion(reference, frame, motion.astype(np.float32)).astype(np.float64)


def refine_motion(reference: np.ndarray, frame: np.ndarray, motion: np.ndarray) -> np.ndarray:
    """The motion (a turn and a translation) refined to a small fraction of a pixel by maximising the correlation of
    the two grey images (OpenCV's ECC), started from ``motion``; ``motion`` itself where that does not converge
    or strays. The merge moves tiles by the fractions left after whole cells, so they must be right: the flow
    the start comes from is off by a few tenths of a pixel in noisy frames."""
    cv2 = _cv2()
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-4)
    try:
        _, refined = cv2.findTransformECC(reference, frame, motion.copy(), cv2.MOTION_EUCLIDEAN, criteria, None, 5)
    except cv2.error:
        return motion
    return refined if np.abs(refined - motion)[:, 2].max() < 1.0 else motion


def coarse_translation(reference: np.ndarray, frame: np.ndarray, windows: int = 3) -> tuple[float, float]:
    """The median of the translations that phase correlation finds in ``windows`` x ``windows`` overlapping windows
    half the picture's size: the translation of most of the picture, not of its brightest object."""
    cv2 = _cv2()
    h, w = reference.shape
    wh, ww = h // 2, w // 2
    hann = cv2.createHanningWindow((ww, wh), cv2.CV_32F)
    shifts = []
    for top in np.linspace(0, h - wh, windows).astype(int):
        for left in np.linspace(0, w - ww, windows).astype(int):
            window = (slice(top, top + wh), slice(left, left + ww))
            (dx, dy), _ = cv2.phaseCorrelate(reference[window], frame[window], hann)
            shifts.append((dx, dy))
    dx, dy = np.median(np.array(shifts), axis=0)
    return float(dx), float(dy)


def _packed_to_grey(scale: float) -> np.ndarray:
    """The 3x3 map from packed pixels to those of a grey image ``scale`` times smaller (pixel centres: grey pixel
    g covers packed pixels scale*g to scale*g + scale - 1)."""
    offset = 0.5 / scale - 0.5
    return np.array([[1 / scale, 0, offset], [0, 1 / scale, offset], [0, 0, 1]])


def to_packed_coordinates(warp: np.ndarray, scale: float) -> np.ndarray:
    """A 2x3 affine in the pixels of a grey image ``scale`` times smaller -> the same motion in packed pixels."""
    packed_to_grey = _packed_to_grey(scale)
    return (np.linalg.inv(packed_to_grey) @ np.vstack([warp, [0, 0, 1]]) @ packed_to_grey)[:2]


def to_grey_coordinates(motion: np.ndarray, scale: float) -> np.ndarray:
    """The inverse of ``to_packed_coordinates``."""
    packed_to_grey = _packed_to_grey(scale)
    return (packed_to_grey @ np.vstack([motion, [0, 0, 1]]) @ np.linalg.inv(packed_to_grey))[:2]


def local_flow(reference: np.ndarray, aligned: np.ndarray, top: float, smooth: float = 2.0) -> np.ndarray:
    """Dense (h, w, 2) flow, in grey pixels, from the reference to a globally aligned frame's grey image:
    the remaining local motion, coarse to fine (OpenCV's DIS), smoothed by a Gaussian of ``smooth`` pixels
    against the noise. ``top``: the grey level taken for white."""
    cv2 = _cv2()
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    dis.setPatchSize(12)
    dis.setPatchStride(4)
    a, b = (_to_uint8(cv2.GaussianBlur(image, (0, 0), 1.0), top) for image in (reference, aligned))
    flow = dis.calc(a, b, None)
    return cv2.GaussianBlur(flow, (0, 0), smooth) if smooth > 0 else flow


def significant(flow: np.ndarray, deadband: float) -> np.ndarray:
    """The flow where it is clearly more than the noise's jitter: zero below ``deadband`` pixels, all of it above
    twice that, and a ramp between. A still scene then moves by its global motion alone, smoothly, and only
    what moved is followed."""
    length = np.sqrt((flow**2).sum(axis=-1, keepdims=True))
    return flow * np.clip(length / deadband - 1.0, 0.0, 1.0) if deadband > 0 else flow


# --- tiles: whole cells moved, no resampling ----------------------------------------------------------------------

TILE = 16  # packed pixels: the side of the tiles that are moved and merged
STEP = TILE // 2  # tiles overlap by half, so that their windows add up to one
STRIP = 1 << 23  # plane pixels of tiles worked on at once (a strip of tile rows), to bound the memory


def window_ramp(offset: np.ndarray | float = 0.0) -> np.ndarray:
    """(..., TILE) one side of the raised cosine window, moved by ``offset`` pixels: ramps ``STEP`` apart add up to
    one."""
    positions = np.arange(TILE, dtype=np.float32) + np.float32(0.5) - np.asarray(offset, np.float32)[..., None]
    return (np.sin(np.float32(np.pi / TILE) * positions) ** 2).astype(np.float32)


WINDOW = np.outer(window_ramp(), window_ramp())


@dataclass(frozen=True)
class TileGrid:
    """Tiles of ``TILE`` packed pixels, ``STEP`` apart, over planes of ``shape`` mirrored by ``STEP`` on every side
    and to whole steps: tile (i, j) covers the padded planes' rows ``i * STEP`` to ``i * STEP + TILE`` and the
    same columns, so every pixel of the planes lies in four tiles whose windows add up to one there."""

    shape: tuple[int, int]

    @property
    def padded(self) -> tuple[int, int]:
        h, w = self.shape
        return (-(-h // STEP) + 2) * STEP, (-(-w // STEP) + 2) * STEP

    @property
    def count(self) -> tuple[int, int]:
        hp, wp = self.padded
        return hp // STEP - 1, wp // STEP - 1

    def pad(self, planes: np.ndarray) -> np.ndarray:
        (h, w), (hp, wp) = self.shape, self.padded
        return np.pad(planes, ((0, 0), (STEP, hp - h - STEP), (STEP, wp - w - STEP)), mode="symmetric")

    def crop(self, padded: np.ndarray) -> np.ndarray:
        h, w = self.shape
        return padded[:, STEP : STEP + h, STEP : STEP + w]

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """(y, x) grids of the tiles' centres, in pixels of the unpadded planes."""
        ny, nx = self.count
        ys, xs = (np.arange(n) * STEP - STEP + (TILE - 1) / 2 for n in (ny, nx))
        return np.meshgrid(ys, xs, indexing="ij")

    def strips(self) -> Iterator[slice]:
        """The tile rows in strips of about ``STRIP`` plane pixels of tiles."""
        ny, nx = self.count
        rows = max(1, STRIP // (4 * nx * TILE * TILE))
        for start in range(0, ny, rows):
            yield slice(start, min(start + rows, ny))


def tile_shifts(motion: np.ndarray, flow: np.ndarray | None, flow_scale: float, grid: TileGrid) -> np.ndarray:
    """(2, ny, nx): where (dy, dx) each tile of the reference lies in the frame, in packed pixels: the global
    ``motion`` (packed pixels) plus the local ``flow`` (grey pixels ``flow_scale`` packed pixels wide) at the tile's
    centre."""
    cv2 = _cv2()
    ys, xs = grid.centres()
    at_x = motion[0, 0] * xs + motion[0, 1] * ys + motion[0, 2]
    at_y = motion[1, 0] * xs + motion[1, 1] * ys + motion[1, 2]
    if flow is not None:
        grey_x, grey_y = ((c + 0.5) / flow_scale - 0.5 for c in (xs, ys))
        for axis, at in ((0, at_x), (1, at_y)):
            sampled = cv2.remap(
                np.ascontiguousarray(flow[..., axis]),
                grey_x.astype(np.float32),
                grey_y.astype(np.float32),
                cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REPLICATE,
            )
            at += sampled * flow_scale
    return np.stack([at_y - ys, at_x - xs])


def split_shifts(shifts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tile shifts -> the whole packed pixels (2x2 cells) a tile moves by, so that every site stays on its colour,
    and the fraction of a pixel left, which ``compare_tiles`` moves in the frequency domain."""
    whole = np.rint(shifts).astype(np.int64)
    return whole, (shifts - whole).astype(np.float32)


def reference_tiles(padded: np.ndarray, rows: slice) -> np.ndarray:
    """(planes, rows, nx, TILE, TILE) view of the tiles in tile ``rows`` of mirrored planes."""
    windows = np.lib.stride_tricks.sliding_window_view(padded, (TILE, TILE), axis=(1, 2))
    return windows[:, ::STEP, ::STEP][:, rows]


def shifted_tiles(padded: np.ndarray, shifts: np.ndarray, rows: slice) -> tuple[np.ndarray, np.ndarray]:
    """The tiles of a frame's mirrored planes at the reference's tiles in ``rows`` moved by ``shifts``, and where
    the moved tile lies within the frame (elsewhere the reference's place is read, to be given no weight)."""
    _, hp, wp = padded.shape
    top = np.arange(rows.start, rows.stop)[:, None] * STEP + shifts[0, rows]
    left = np.arange(shifts.shape[2])[None, :] * STEP + shifts[1, rows]
    inside = (top >= 0) & (top + TILE <= hp) & (left >= 0) & (left + TILE <= wp)
    top = np.where(inside, top, top - shifts[0, rows])
    left = np.where(inside, left, left - shifts[1, rows])
    offsets = np.arange(TILE)
    return padded[:, top[..., None, None] + offsets[:, None], left[..., None, None] + offsets], inside


def overlap_add(out: np.ndarray, tiles: np.ndarray, first_row: int) -> None:
    """Add windowed tiles (planes, rows, nx, TILE, TILE) whose first row is tile row ``first_row`` into the mirrored
    planes ``out``."""
    planes, rows, nx = tiles.shape[:3]
    quarters = tiles.reshape(planes, rows, nx, 2, STEP, 2, STEP)
    blocks = np.zeros((planes, rows + 1, nx + 1, STEP, STEP), np.float32)
    blocks[:, :-1, :-1] += quarters[:, :, :, 0, :, 0]
    blocks[:, 1:, :-1] += quarters[:, :, :, 1, :, 0]
    blocks[:, :-1, 1:] += quarters[:, :, :, 0, :, 1]
    blocks[:, 1:, 1:] += quarters[:, :, :, 1, :, 1]
    top = first_row * STEP
    out[:, top : top + (rows + 1) * STEP] += blocks.transpose(0, 1, 3, 2, 4).reshape(planes, (rows + 1) * STEP, -1)


# --- noise and weights ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoiseModel:
    """Per-pixel noise variance as a function of the level: ``variance = shot * level + read``
    (Poisson-Gaussian, in the units of ``RawImage.mosaic``)."""

    shot: float
    read: float

    @classmethod
    def of_planes(cls, planes: np.ndarray, block: int = 16) -> NoiseModel:
        """Measure it on one frame's planes: in blocks of ``block`` packed pixels, the level and the variance of
        differences between neighbours (twice the noise's plus texture); in each band of levels the flattest
        blocks say the noise, and a line through them gives the model."""
        _, h, w = planes.shape
        hb, wb = (h - 1) // block, (w - 1) // block
        if hb < 1 or wb < 1:
            return cls(0.0, NOISE_FLOOR**2)
        crop = planes[:, : hb * block + 1, : wb * block + 1]
        across = crop[:, :-1, 1:] - crop[:, :-1, :-1]
        down = crop[:, 1:, :-1] - crop[:, :-1, :-1]
        diff_var = 0.25 * (across**2 + down**2)  # each difference holds the noise twice: half of it, averaged
        levels = _block_means(crop[:, :-1, :-1], block).ravel()
        variances = _block_means(diff_var, block).ravel()
        order = np.argsort(levels)
        bands = np.array_split(order, min(16, max(1, len(order) // 8)))
        points = np.array([(np.median(levels[b]), np.percentile(variances[b], 20)) for b in bands if len(b)])
        if len(points) < 2 or np.ptp(points[:, 0]) <= 0:
            return cls(0.0, max(float(points[:, 1].mean()), NOISE_FLOOR**2))
        shot, read = np.polyfit(points[:, 0], points[:, 1], 1)
        if shot < 0:
            shot, read = 0.0, float(points[:, 1].mean())
        return cls(float(shot), max(float(read), NOISE_FLOOR**2))

    def variance(self, level: np.ndarray) -> np.ndarray:
        return (np.float32(self.shot) * np.clip(level, 0, None) + np.float32(self.read)).astype(np.float32)


def _block_means(planes: np.ndarray, block: int) -> np.ndarray:
    n, h, w = planes.shape
    return planes.reshape(n, h // block, block, w // block, block).mean(axis=(2, 4))


@dataclass(frozen=True)
class Robustness:
    """How far a frame's tile may differ from the reference's beyond the noise before it is pulled towards it: at
    each spatial frequency (``frequency``) and, over the lowest frequencies of all planes, for the whole tile
    (``tile``: a moving object whose difference hides in the noise at each frequency but shows on average). The
    pull is half where the difference's power exceeds the noise's by ``allowed`` times that of the noise."""

    frequency: float
    tile: float


ROBUSTNESS = Robustness(frequency=8.0, tile=1.0)  # tuned with benchmarks/burst.py


def _low_frequencies() -> np.ndarray:
    """(TILE, TILE // 2 + 1) mask of the lowest bins of a tile's ``rfft2``: the mean and one cycle a tile."""
    mask = np.zeros((TILE, TILE // 2 + 1), bool)
    mask[np.ix_([0, 1, TILE - 1], [0, 1])] = True
    return mask


LOW = _low_frequencies()


def pull(excess_ratio: np.ndarray, allowed: float) -> np.ndarray:
    """How much a frame is pulled towards the reference (0 to 1) given how many times the power of their
    difference is that of the noise: none up to the noise, half at ``allowed`` beyond it (Wiener-like)."""
    excess = np.subtract(excess_ratio, np.float32(1.0), dtype=np.float32)
    np.maximum(excess, 0, out=excess)
    excess *= np.float32(1 / allowed)
    np.square(excess, out=excess)
    np.square(excess, out=excess)
    return np.divide(excess, excess + np.float32(1.0), out=excess)


def _frequencies() -> tuple[np.ndarray, np.ndarray]:
    """Cycles per pixel of the rows and columns of a tile's ``rfft2``, shaped to broadcast over it."""
    return np.fft.fftfreq(TILE)[:, None].astype(np.float32), np.fft.rfftfreq(TILE)[None, :].astype(np.float32)


FREQUENCY_Y, FREQUENCY_X = _frequencies()


def windowed_noise_power(noise: NoiseModel, windowed: np.ndarray) -> np.ndarray:
    """The noise power of one frame at each frequency of windowed tiles (..., TILE, TILE), from their mean level."""
    level = windowed.sum(axis=(-2, -1)) / WINDOW.sum()
    return noise.variance(level) * np.float32((WINDOW**2).sum())


def compare_tiles(
    reference: np.ndarray, frame: np.ndarray, left: np.ndarray, noise: NoiseModel
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The spectra of a frame's tiles, moved by what is ``left`` (2, rows, nx) of their shifts after the whole cells,
    their differences to the reference's, and how many times the power of each difference is that of the noise of
    both (about 1 where they differ by noise alone)."""
    windowed = reference * WINDOW
    reference_spectrum = rfft2(windowed)
    if left.any():
        # A shift by a fraction of a pixel is a linear phase, which keeps the noise's power and independence; the
        # frame's window is moved the other way first, so that it lands on the reference's.
        window = window_ramp(left[0])[..., :, None] * window_ramp(left[1])[..., None, :]
        turn = np.complex64(2j * np.pi)
        frame_spectrum = rfft2(frame * window)
        frame_spectrum *= np.exp(turn * FREQUENCY_Y * left[0][..., None, None])  # the phase of each axis apart:
        frame_spectrum *= np.exp(turn * FREQUENCY_X * left[1][..., None, None])  # 16 + 9 exponentials, not 16 x 9
    else:
        frame_spectrum = rfft2(frame * WINDOW)
    difference = np.subtract(reference_spectrum, frame_spectrum, out=reference_spectrum)
    noise_power = 2 * windowed_noise_power(noise, windowed)
    ratio = np.square(difference.real)
    ratio += np.square(difference.imag)
    ratio /= noise_power[..., None, None]
    return frame_spectrum, difference, ratio


def tile_pulls(ratio: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """(rows, nx): how much each whole tile is pulled towards the reference, from the mean of its ratios over all
    planes at the lowest frequencies or at all (1 outside the frame)."""
    mean = np.maximum(ratio[..., LOW].mean(axis=(0, -1)), ratio.mean(axis=(0, -2, -1)))
    return np.where(inside, pull(mean, ROBUSTNESS.tile), np.float32(1.0))


@dataclass
class Pulls:
    """Per tile and frequency of a tile's ``rfft2`` (the planes averaged), summed over the frames merged: how much
    each frame was pulled towards the reference (``pulled``) and the square of how much of it was kept (``kept``).
    The mean of the reference and N - 1 frames so merged then holds ``((1 + pulled)² + kept) / N²`` times the
    noise power of one frame there (``noise_share``): 1 / N where every frame was kept, 1 where all fell back to
    the reference."""

    pulled: np.ndarray  # (ny, nx, TILE, TILE // 2 + 1)
    kept: np.ndarray

    @classmethod
    def none(cls, grid: TileGrid) -> Pulls:
        shape = (*grid.count, TILE, TILE // 2 + 1)
        return cls(np.zeros(shape, np.float32), np.zeros(shape, np.float32))

    def add_strip(self, rows: slice, weights: np.ndarray) -> None:
        """Add one frame's weights (planes, rows, nx, TILE, TILE // 2 + 1) in tile ``rows``."""
        self.pulled[rows] += weights.mean(axis=0)
        self.kept[rows] += ((1 - weights) ** 2).mean(axis=0)

    def __iadd__(self, other: Pulls) -> Pulls:
        self.pulled += other.pulled
        self.kept += other.kept
        return self

    def noise_share(self, rows: slice, frames: int) -> np.ndarray:
        return ((1 + self.pulled[rows]) ** 2 + self.kept[rows]) / np.float32(frames * frames)


class MergedFrame(NamedTuple):
    planes: np.ndarray  # the frame merged with the reference, to be averaged with the others
    agreement: float  # the mean share of its tiles not pulled towards the reference, where it reaches
    pulls: Pulls


def merge_frame(reference: Reference, planes: np.ndarray, shifts: np.ndarray) -> MergedFrame:
    """A frame's planes moved tile by tile by ``shifts`` (``tile_shifts``) onto the reference and merged with it in
    the frequency domain (HDR+'s pairwise Wiener merge): each frequency of a tile pulled towards the reference's
    where their difference exceeds the noise of both (``compare_tiles``), a whole tile where it differs on the whole
    (``tile_pulls``)."""
    grid = reference.grid
    padded = grid.pad(planes)
    whole, left = split_shifts(shifts)
    out = np.zeros_like(padded)
    pulls = Pulls.none(grid)
    kept, reached = 0.0, 0
    for rows in grid.strips():
        tiles, inside = shifted_tiles(padded, whole, rows)
        spectrum, difference, ratio = compare_tiles(
            reference_tiles(reference.padded, rows), tiles, left[:, rows], reference.noise
        )
        tile_pull = tile_pulls(ratio, inside)
        weights = np.maximum(pull(ratio, ROBUSTNESS.frequency), tile_pull[None, :, :, None, None])
        difference *= weights  # the frame's spectrum pulled towards the reference's by ``weights``
        difference += spectrum
        merged = irfft2(difference)
        overlap_add(out, merged.astype(np.float32, copy=False), rows.start)
        pulls.add_strip(rows, weights)
        kept += float((1.0 - tile_pull[inside]).sum())
        reached += int(inside.sum())
    return MergedFrame(grid.crop(out), kept / reached if reached else 0.0, pulls)


def even_out_noise(reference: Reference, merged: np.ndarray, pulls: Pulls, frames: int) -> np.ndarray:
    """The merged planes with the noise of each tile's frequencies brought down to that of the mean of all ``frames``
    where fewer were kept (``Pulls``): a moving object, or detail the frames alias differently, keeps the
    reference's noise, and the networks, trained on noise of one strength over the whole picture, leave much of
    it in the picture when the rest is cleaner. Each frequency is scaled down by as much as the noise's share of
    its power must fall (a spatial Wiener-like shrinkage, HDR+'s spatial denoising): pure noise to the level of
    the rest, detail far above the noise as it is."""
    grid = reference.grid
    padded = grid.pad(merged)
    out = np.zeros_like(padded)
    for rows in grid.strips():
        windowed = reference_tiles(padded, rows) * WINDOW
        spectrum = rfft2(windowed)
        noise = windowed_noise_power(reference.noise, windowed)[..., None, None]
        wanted = noise / np.float32(frames)
        noise = noise * pulls.noise_share(rows, frames)[None]
        signal = np.clip(spectrum.real**2 + spectrum.imag**2 - noise, 0, None)
        gain = np.sqrt((signal + wanted) / (signal + np.maximum(noise, wanted)))
        overlap_add(out, irfft2(spectrum * gain).astype(np.float32, copy=False), rows.start)
    return grid.crop(out)


# --- the burst --------------------------------------------------------------------------------------------------


def check_same_kind(reference: RawImage, frame: RawImage, path: str | os.PathLike[str]) -> None:
    """Raise ``BurstError`` (one line naming ``path``) unless ``frame`` can be merged with ``reference``."""
    if frame.mosaic.shape != reference.mosaic.shape:
        (h, w), (rh, rw) = frame.mosaic.shape, reference.mosaic.shape
        raise BurstError(f"{path}: {w}x{h} pixels, but the burst's first frame has {rw}x{rh}")
    if frame.cfa != reference.cfa:
        raise BurstError(f"{path}: colour filter {frame.cfa.value}, but {reference.cfa.value} in the first frame")
    camera, first = frame.shot.camera, reference.shot.camera
    if camera != first:
        raise BurstError(f"{path}: shot with the {camera or 'unknown camera'}, the first frame with the {first}")
    iso, first_iso = frame.shot.iso, reference.shot.iso
    if (iso or first_iso) and round(iso or 0) != round(first_iso or 0):
        raise BurstError(f"{path}: shot at ISO {iso or 0:g}, the first frame at ISO {first_iso or 0:g}")


def bayer(raw: RawImage) -> RawImage:
    """A Bayer raw as it is; an X-Trans raw resampled onto the Bayer grid the networks read (``seeisp.xtrans``), so
    that its frames, too, move by whole cells of one colour filter and merge as Bayer frames."""
    return as_bayer(raw) if raw.cfa.kind is CFAKind.XTRANS else raw


@dataclass
class Reference:
    """What aligning and merging against the reference needs, computed once."""

    planes: np.ndarray
    padded: np.ndarray  # the planes mirrored for the tiles (``TileGrid.pad``)
    grid: TileGrid
    noise: NoiseModel
    global_grey: np.ndarray
    global_scale: float
    flow_grey: np.ndarray
    flow_scale: float
    global_top: float  # the grey levels taken for white (DIS reads 8-bit images)
    top: float

    @classmethod
    def of(cls, planes: np.ndarray) -> Reference:
        global_grey, global_scale = grey(planes, GLOBAL_SIDE)
        flow_grey, flow_scale = grey(planes, FLOW_SIDE)
        global_top, top = (max(float(np.percentile(image, 99.5)), 1e-6) for image in (global_grey, flow_grey))
        noise = NoiseModel.of_planes(planes)
        grid = TileGrid(planes.shape[1:])
        return cls(
            planes,
            grid.pad(planes),
            grid,
            noise,
            global_grey,
            global_scale,
            flow_grey,
            flow_scale,
            global_top,
            top,
        )


def frame_motion(reference: Reference, planes: np.ndarray) -> np.ndarray | None:
    """A frame's global motion against the reference, as a 2x3 affine from a packed pixel of the reference to where
    it lies in the frame; None when the frame does not align or keeps too little of the reference in view."""
    frame_grey, _ = grey(planes, GLOBAL_SIDE)
    warp = global_motion(reference.global_grey, frame_grey, reference.global_top)
    if warp is None:
        return None
    motion = to_packed_coordinates(warp, reference.global_scale)
    h, w = reference.planes.shape[1:]
    corners = motion @ np.array([[0, w - 1, 0, w - 1], [0, 0, h - 1, h - 1], [1, 1, 1, 1]])
    inside = np.clip(corners, 0, [[w - 1], [h - 1]])
    overlap = np.ptp(inside[0]) * np.ptp(inside[1]) / max((w - 1) * (h - 1), 1)  # roughly, for small turns
    return motion if overlap >= MIN_OVERLAP else None


def frame_shifts(reference: Reference, planes: np.ndarray) -> np.ndarray | None:
    """Where each tile of the reference lies in a frame (``tile_shifts``): its global motion, then the local flow
    of what moved; None when the frame does not align."""
    cv2 = _cv2()
    motion = frame_motion(reference, planes)
    if motion is None:
        return None
    flow_grey, _ = grey(planes, FLOW_SIDE)
    globally_aligned = cv2.warpAffine(
        flow_grey,
        to_grey_coordinates(motion, reference.flow_scale).astype(np.float32),
        reference.flow_grey.shape[::-1],
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
    flow = significant(local_flow(reference.flow_grey, globally_aligned, reference.top), FLOW_DEADBAND)
    return tile_shifts(motion, flow, reference.flow_scale, reference.grid)


def merge_burst(paths: Sequence[str | os.PathLike[str]]) -> tuple[RawImage, list[Path]]:
    """Read, align and merge the frames (the first is the reference), one at a time.

    Returns the reference (on the Bayer grid for X-Trans frames, ``bayer``) with the merged mosaic, and the frames
    merged (the reference first). A frame that does not align is left out with a ``BurstFrameWarning``; one of
    another camera, size, colour filter or ISO raises ``BurstError``. Hot pixels need no care here: a frame's land
    off the reference's sites after alignment and differ from it far beyond the noise, so their tiles are pulled
    to the reference's there, and the reference's own (or a tripod burst's,
    where all frames share them) are replaced in the merged raw as in a single one (``seeisp.hot_pixels``)."""
    if not paths:
        raise BurstError("a burst needs at least one frame")
    first = Path(paths[0])
    first_raw = read_raw(first)
    reference_raw = bayer(first_raw)
    reference = Reference.of(to_planes(reference_raw.mosaic))
    total = np.array(reference.planes, copy=True)
    pulls = Pulls.none(reference.grid)
    merged = [first]
    for path in map(Path, paths[1:]):
        raw = read_raw(path)
        check_same_kind(first_raw, raw, path)
        planes = to_planes(bayer(raw).mosaic)
        del raw
        shifts = frame_shifts(reference, planes)
        frame = None if shifts is None else merge_frame(reference, planes, shifts)
        if frame is None or frame.agreement < MIN_AGREEMENT:
            warnings.warn(
                BurstFrameWarning(f"{path}: does not align with {first.name} (another scene?); left out"),
                stacklevel=2,
            )
            continue
        total += frame.planes
        pulls += frame.pulls
        merged.append(path)
    total /= np.float32(len(merged))
    if len(merged) > 1:
        total = even_out_noise(reference, total, pulls, len(merged))
    mosaic = from_planes(total, reference_raw.mosaic.shape, reference_raw.mosaic)
    return dataclasses.replace(reference_raw, mosaic=mosaic), merged


@contextlib.contextmanager
def frames_left_out(report: Callable[[str], object]) -> Iterator[None]:
    """Within the block, each ``BurstFrameWarning`` goes to ``report`` as its one line; other warnings go on as
    they were."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", BurstFrameWarning)
        yield
    for warning in caught:
        if issubclass(warning.category, BurstFrameWarning):
            report(str(warning.message))
        else:
            warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)


def enhance_burst(
    paths: Sequence[str | os.PathLike[str]],
    *,
    model: str | os.PathLike[str] | ModelSession | None = None,
    dark_frame: DarkFrames | None = None,
    **options: Any,
) -> EnhanceResult:
    """Merge a burst (``merge_burst``; the first frame is the reference) and enhance the merged raw as one frame.

    Takes the keyword options of ``enhance_file`` (``ratio``, ``progress``, the passes, ``white_balance``,
    ``hot_pixels``, ``dark_frame``, ``tile``, ``overlap``), which apply to the merged raw as to a single one;
    the ratio is the burst's own (the frames' exposure), or estimated from the merged raw. One frame is
    ``enhance_file``. Frames left out are reported as ``BurstFrameWarning``s."""
    if len(paths) == 1:
        return enhance_file(paths[0], model=model, dark_frame=dark_frame, **options)
    started = time.perf_counter()
    session = load_session(model)
    darks = as_dark_frames(dark_frame)  # read before the frames: a bad dark frame fails fast
    raw, merged = merge_burst(paths)
    try:
        result = enhance_raw(raw, model=session, dark_frame=darks, **options)
    except DarkFrameError as exc:
        raise DarkFrameError(f"{paths[0]}: {exc}") from None
    return dataclasses.replace(result, frames=len(merged), seconds=time.perf_counter() - started)
