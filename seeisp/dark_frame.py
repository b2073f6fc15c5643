"""Dark frames: the sensor's real black level, measured from a shot taken with the lens capped.

    dark = read_dark_frame("cap-on.ARW")
    result = enhance_file("night.ARW", ratio=100, dark_frame=dark)
    darks = read_dark_frames("darks/")  # a folder: one per ISO of the night's pictures
    result = enhance_file("night.ARW", ratio=100, dark_frame=darks)  # the one at the picture's ISO

A raw's metadata gives the black level the camera was designed for. The sensor's own is off by a
fraction of a DN to a few DN per colour, differently at each ISO (what ELD calibrated as the
``color_bias`` of its noise profiles). Amplified 100-300 times, that offset becomes a few per cent of
white, and no network can tell it from light. A dark frame (same camera, same ISO, no light) holds
only that offset and the read noise, and averaging its hundreds of thousands of sites per colour
measures the offset to a small fraction of a DN (``benchmarks/dark_frame.py`` measures both the offset's
cost and what the dark frame wins back).

Only the per-site offset of the 2x2 cell is subtracted, not the dark frame pixel by pixel: that would
add the dark frame's own read noise to the picture's.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DarkFrameError, InvalidOptionError
from .raw import CFA, CFAKind, RawImage, Shot, is_raw_name, read_raw

TRIM = 0.005  # share of sites cut from each end before averaging: hot sites and the read noise's long tails
MAX_LEVEL = 0.01  # of the white level: a dark frame whose black is off by more than this saw light
_BAYER_ONLY = "an X-Trans raw: dark frames work with Bayer raws only"


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
    source: Path | None = None  # the file it was read from, so that a batch does not enhance it as a picture

    @classmethod
    def measure(cls, raw: RawImage, name: str = "dark frame", source: Path | None = None) -> DarkFrame:
        """Measure a dark frame already read. Raises ``DarkFrameError`` when it is too small or saw light."""
        if raw.cfa.kind is not CFAKind.BAYER:
            raise DarkFrameError(f"{name}: {_BAYER_ONLY}")
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
        return cls(offsets=offsets, cfa=raw.cfa, shot=raw.shot, name=name, source=source)

    def check_fits(self, raw: RawImage) -> None:
        """Raise ``DarkFrameError`` unless this dark frame can correct ``raw``: same CFA, camera and ISO.

        The message names the dark frame but not the picture, which the caller knows."""
        problem = self._misfit(raw)
        if problem:
            raise DarkFrameError(problem)

    def _misfit(self, raw: RawImage) -> str:
        """Why this dark frame cannot correct ``raw``; "" when it can."""
        if raw.cfa.kind is not CFAKind.BAYER:
            return _BAYER_ONLY
        if raw.cfa is not self.cfa:
            return f"colour filter {raw.cfa.value}, but {self.cfa.value} in the dark frame {self.name}"
        camera, dark_camera = raw.shot.camera, self.shot.camera
        if camera and dark_camera and camera != dark_camera:
            return f"shot with the {camera}, but the dark frame {self.name} with the {dark_camera}"
        iso, dark_iso = raw.shot.iso, self.shot.iso
        if iso and dark_iso and round(iso) != round(dark_iso):
            return (
                f"shot at ISO {iso:g}, but the dark frame {self.name} at ISO {dark_iso:g} "
                "(the black level depends on the ISO: use a dark frame of the same)"
            )
        return ""

    def subtract(self, raw: RawImage) -> RawImage:
        """``raw`` with this black level taken off (after ``check_fits``)."""
        self.check_fits(raw)
        h, w = raw.mosaic.shape
        black = np.tile(self.offsets, ((h + 1) // 2, (w + 1) // 2))[:h, :w]
        return dataclasses.replace(raw, mosaic=raw.mosaic - black)


def read_dark_frame(path: str | os.PathLike[str]) -> DarkFrame:
    """Read and measure a dark frame. Raises ``RawReadError``, ``UnsupportedSensorError`` or ``DarkFrameError``."""
    path = Path(path)
    return DarkFrame.measure(read_raw(path), name=path.name, source=path)


def dark_frame_files(path: str | os.PathLike[str]) -> list[Path]:
    """The dark frame ``path``, or the raw files in the folder ``path`` (say one per ISO of a night's pictures)."""
    path = Path(path)
    if not path.is_dir():
        return [path]
    files = sorted(p for p in path.iterdir() if p.is_file() and is_raw_name(p))
    if not files:
        raise DarkFrameError(f"{path}: no raw files in this folder of dark frames")
    return files


def read_dark_frames(path: str | os.PathLike[str]) -> list[DarkFrame]:
    """Read and measure the dark frame ``path``, or every raw in the folder ``path`` (``dark_frame_files``)."""
    return [read_dark_frame(file) for file in dark_frame_files(path)]


DarkFrames = str | os.PathLike[str] | DarkFrame | Iterable[str | os.PathLike[str] | DarkFrame]


def as_dark_frames(given: DarkFrames | None) -> list[DarkFrame]:
    """The dark frames an ``enhance_file(dark_frame=...)`` argument names: a raw file or a folder of them (read
    and measured), a ``DarkFrame``, or a list of any of these; [] for None. ``InvalidOptionError`` for anything
    else, an empty path included (it would name the current folder)."""
    if given is None:
        return []
    if isinstance(given, str | os.PathLike | DarkFrame) or not isinstance(given, Iterable):
        items = [given]
    else:
        items = list(given)  # a list, a tuple, a set, a generator
    frames: list[DarkFrame] = []
    for item in items:
        if isinstance(item, DarkFrame):
            frames.append(item)
        elif isinstance(item, str | os.PathLike) and os.fspath(item).strip():
            frames += read_dark_frames(item)
        else:
            raise InvalidOptionError(
                f"dark_frame must be a raw file, a folder of them, a DarkFrame or a list of these, not {item!r}"
            )
    return frames


def dark_frame_for(frames: Sequence[DarkFrame], raw: RawImage) -> DarkFrame:
    """The dark frame of ``frames`` that fits ``raw`` (``DarkFrame.check_fits``): the first at the raw's ISO, else
    the first that records no ISO.

    Raises ``DarkFrameError`` when none fits, or when frames at several ISOs do because the raw records none.
    """
    if len(frames) == 1:
        frames[0].check_fits(raw)
        return frames[0]
    fitting = [frame for frame in frames if not frame._misfit(raw)]
    iso = round(raw.shot.iso) if raw.shot.iso else None
    fitting.sort(key=lambda frame: iso is None or frame.shot.iso is None or round(frame.shot.iso) != iso)
    isos = sorted({round(frame.shot.iso) for frame in fitting if frame.shot.iso})
    if not fitting:
        shot = ", ".join(filter(None, [raw.shot.camera, f"ISO {raw.shot.iso:g}" if raw.shot.iso else ""]))
        which = f" ({shot})" if shot else ""
        raise DarkFrameError(f"none of the {len(frames)} dark frames fits this picture{which}")
    if len(isos) > 1:
        listed = ", ".join(str(iso) for iso in isos)
        raise DarkFrameError(f"the picture records no ISO, and dark frames at ISO {listed} fit it: give one")
    return fitting[0]


def _trimmed_mean(values: np.ndarray) -> float:
    """The mean of ``values`` without the ``TRIM`` share at each end."""
    flat = values.ravel()
    cut = int(TRIM * flat.size)
    if cut:
        flat = np.partition(flat, (cut, flat.size - cut - 1))[cut : flat.size - cut]
    return float(flat.astype(np.float64).mean())
