"""Dark frames: the sensor's real black level, measured from a shot taken with the lens capped.

    dark = read_dark_frame("cap-on.ARW")
    result = enhance_file("night.ARW", ratio=100, dark_frame=dark)

A raw's metadata gives the black level the camera was designed for. The sensor's own is off by a
fraction of a DN to a few DN per colour, differently at each ISO (what ELD calibrated as the
``color_bias`` of its noise profiles). Amplified 100-300 times, that offset becomes a few per cent of
white, and no network can tell it from light: on the benchmark's SonyA7S2 shots the full model loses
0.6-0.9 dB to it at ratios 100-300. A dark frame (same camera, same ISO, no light) holds only that
offset and the read noise, and averaging its hundreds of thousands of sites per colour measures the
offset to about 0.1 DN (``benchmarks/dark_frame.py``).

Only the per-site offset of the 2x2 cell is subtracted, not the dark frame pixel by pixel: that would
add the dark frame's own read noise to the picture's.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DarkFrameError
from .raw import CFA, RawImage, Shot, read_raw

TRIM = 0.005  # share of sites cut from each end before averaging: hot sites and the read noise's long tails
MAX_LEVEL = 0.01  # of the white level: a dark frame whose black is off by more than this saw light


@dataclass(frozen=True)
class DarkFrame:
    """The black level a dark frame measured, as what is left above the raw's own black level.

    ``offsets`` (2, 2) holds one value per site of the 2x2 cell, in the units of ``RawImage.mosaic``
    (0 black, 1 white), in the cell order of ``cfa``.
    """

    offsets: np.ndarray
    cfa: CFA
    shot: Shot  # the dark frame's camera and ISO, which the picture's must match
    name: str = "dark frame"  # how messages and the picture's description name it (the file's name)

    @classmethod
    def measure(cls, raw: RawImage, name: str = "dark frame") -> DarkFrame:
        """Measure a dark frame already read. Raises ``DarkFrameError`` when it is too small or saw light."""
        h, w = raw.mosaic.shape
        if min(h, w) < 32:
            raise DarkFrameError(f"{name}: {w}x{h} pixels is too small to measure a black level")
        offsets = np.array(
            [[_trimmed_mean(raw.mosaic[i::2, j::2]) for j in range(2)] for i in range(2)], dtype=np.float32
        )
        level = float(np.abs(offsets).max())
        if level > MAX_LEVEL:
            raise DarkFrameError(
                f"{name}: not a dark frame, its level is {100 * level:.1f} % of white "
                "(take it with the lens cap on, at the picture's ISO)"
            )
        return cls(offsets=offsets, cfa=raw.cfa, shot=raw.shot, name=name)

    def check_fits(self, raw: RawImage) -> None:
        """Raise ``DarkFrameError`` unless this dark frame can correct ``raw``: same CFA, camera and ISO.

        The message names the dark frame but not the picture, which the caller knows."""
        if raw.cfa is not self.cfa:
            raise DarkFrameError(f"colour filter {raw.cfa.value}, but {self.cfa.value} in the dark frame {self.name}")
        camera, dark_camera = raw.shot.camera, self.shot.camera
        if camera and dark_camera and camera != dark_camera:
            raise DarkFrameError(f"shot with a {camera}, but the dark frame {self.name} with a {dark_camera}")
        iso, dark_iso = raw.shot.iso, self.shot.iso
        if iso and dark_iso and round(iso) != round(dark_iso):
            raise DarkFrameError(
                f"shot at ISO {iso:g}, but the dark frame {self.name} at ISO {dark_iso:g} "
                "(the black level depends on the ISO: use a dark frame of the same)"
            )

    def subtract(self, raw: RawImage) -> RawImage:
        """``raw`` with this black level taken off (after ``check_fits``)."""
        self.check_fits(raw)
        h, w = raw.mosaic.shape
        black = np.tile(self.offsets, ((h + 1) // 2, (w + 1) // 2))[:h, :w]
        return dataclasses.replace(raw, mosaic=raw.mosaic - black)


def read_dark_frame(path: str | os.PathLike[str]) -> DarkFrame:
    """Read and measure a dark frame. Raises ``RawReadError``, ``UnsupportedSensorError`` or ``DarkFrameError``."""
    return DarkFrame.measure(read_raw(path), name=Path(path).name)


def _trimmed_mean(values: np.ndarray) -> float:
    """The mean of ``values`` without the ``TRIM`` share at each end."""
    flat = values.ravel()
    cut = int(TRIM * flat.size)
    if cut:
        flat = np.partition(flat, (cut, flat.size - cut - 1))[cut : flat.size - cut]
    return float(flat.astype(np.float64).mean())
