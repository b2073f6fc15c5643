"""Real low-light pairs from the SID Sony set (Chen et al. 2018) as training patches. Needs no torch.

Layout, as published: ``<root>/Sony/short/*.ARW``, ``<root>/Sony/long/*.ARW`` and list files
(``Sony_train_list.txt`` ...) whose lines read
``./Sony/short/00001_00_0.04s.ARW ./Sony/long/00001_00_10s.ARW ISO200 F8``.

* ratio: long / short exposure time, from the file names as SID does (the raw's own
  exposure time when a name has none), capped at 300;
* input: the short exposure through ``read_raw``, its hot pixels replaced, mirrored to RGGB,
  packed and amplified, exactly as ``seeisp.enhance`` feeds the network;
* target: the long exposure demosaicked by LibRaw in the camera's own RGB (no white
  balance, no colour matrix, no curve, no auto-brightness), on the mosaic's
  (x - black) / (white - black) scale: the linear camera RGB the network outputs. Unlike
  SID, whose target is LibRaw's sRGB render, this keeps colour and tone out of the network
  (``seeisp.render`` does them from metadata), the same target as the synthetic pairs. Its hot
  pixels (more of them than in the short one: they grow with the exposure time) are replaced
  before LibRaw demosaics it, or the target would teach the network coloured dots.

Patches are cropped from the full frames; flips and transposes keep the Bayer phase exact by
cropping flipped windows from an odd row/column. Decoding a short frame and demosaicking a long
one are slow next to cropping a patch, so ``cache_dir`` keeps both as memory-mapped ``.npy``
files (float16 short mosaics, ~24 MB each; uint16 long targets, ~73 MB each for the Sony).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import rawpy

from ..enhance import rggb_mosaic
from ..errors import SeeispError
from ..hot_pixels import find_hot_pixels, neighbour_median
from ..pack import amplify, even_crop, pack, to_rggb
from ..ratio import MAX_RATIO
from ..raw import RawImage, read_raw
from ..writable import staged_file


class PatchSource(Protocol):
    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, ...]: ...


def batch_of(source: PatchSource, seed: int, step: int, size: int) -> tuple[np.ndarray, ...]:
    """``size`` samples stacked; a pure function of (seed, step), as resuming needs."""
    rng = np.random.default_rng([seed, step])
    samples = [source.sample(rng) for _ in range(size)]
    return tuple(np.stack(parts) for parts in zip(*samples, strict=True))


CACHE_VERSION = 2  # in the cache's folder names; 2: hot pixels mended (frames cached before stay unused)
_EXPOSURE_IN_NAME = re.compile(r"_(\d+(?:\.\d+)?)s$")


@dataclass(frozen=True)
class SIDPair:
    short: Path
    long: Path
    ratio: float
    iso: int | None = None


def exposure_from_name(path: str | os.PathLike[str]) -> float | None:
    """'00001_00_0.04s.ARW' -> 0.04 (seconds); None when the name carries no exposure time."""
    match = _EXPOSURE_IN_NAME.search(Path(path).stem)
    return float(match.group(1)) if match else None


def exposure_time(path: Path) -> float:
    seconds = exposure_from_name(path)
    if seconds is None:
        seconds = read_raw(path).shot.exposure_time
    if not seconds or seconds <= 0:
        raise SeeispError(f"{path}: no exposure time in its name or metadata")
    return seconds


def pair_ratio(short_seconds: float, long_seconds: float) -> float:
    """The amplification of a pair: the exposure ratio, capped at 300 as in SID."""
    return min(long_seconds / short_seconds, MAX_RATIO)


def read_list(list_file: str | os.PathLike[str], root: str | os.PathLike[str]) -> list[SIDPair]:
    """The pairs of a SID list file whose two raws exist under ``root`` (missing ones are skipped)."""
    list_file, root = Path(list_file), Path(root)
    if not list_file.is_file():
        raise SeeispError(f"{list_file}: no such SID list file")
    try:
        text = list_file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SeeispError(f"{list_file}: not a text file of SID pairs") from None
    pairs, listed = [], 0
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 2:
            raise SeeispError(f"{list_file}:{number}: expected 'short_file long_file [ISO] [F]', got {line!r}")
        listed += 1
        short, long = root / fields[0], root / fields[1]
        if not (short.is_file() and long.is_file()):
            continue
        iso = next((int(f[3:]) for f in fields[2:] if f.startswith("ISO") and f[3:].isdigit()), None)
        short_seconds, long_seconds = exposure_time(short), exposure_time(long)
        if long_seconds <= short_seconds:
            raise SeeispError(
                f"{list_file}:{number}: the long exposure ({long_seconds:g} s) is not longer than the short one "
                f"({short_seconds:g} s): 'short_file long_file' swapped?"
            )
        pairs.append(SIDPair(short, long, pair_ratio(short_seconds, long_seconds), iso))
    if not listed:
        raise SeeispError(f"{list_file}: no pairs in it (lines of 'short_file long_file [ISO] [F]')")
    if not pairs:
        raise SeeispError(f"{list_file}: none of its {listed} pairs is under {root} (expected {root}/Sony/short, ...)")
    return pairs


def short_mosaic(path: str | os.PathLike[str]) -> np.ndarray:
    """The short exposure's normalised mosaic, hot pixels replaced, cropped to even size and mirrored to RGGB: what
    inference packs (``seeisp.enhance.rggb_mosaic``)."""
    return np.ascontiguousarray(rggb_mosaic(read_raw(path)))


def long_target(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """The long exposure as (linear camera RGB (H, W, 3) float32 in [0, 1], its colour (4, 3)).

    The colour is what rendering needs (``colour_of``): the white balance in row 0, camera->sRGB below.

    Cropped and mirrored like ``short_mosaic``, so the two stay pixel-aligned.
    """
    raw = read_raw(path)
    with rawpy.imread(str(path)) as libraw:
        visible = libraw.raw_image_visible  # LibRaw demosaics what is written here
        rows, cols, _ = find_hot_pixels(raw.mosaic)  # the same sites: raw.mosaic is this array, normalised
        if rows.size:
            mended = neighbour_median(visible.astype(np.float32), rows, cols)
            visible[rows, cols] = np.rint(mended).astype(visible.dtype)
        rgb = libraw.postprocess(
            use_camera_wb=False,
            user_wb=[1.0, 1.0, 1.0, 1.0],  # unit gains: LibRaw then scales by 65535 / (white - black)
            output_color=rawpy.ColorSpace.raw,
            gamma=(1, 1),
            no_auto_bright=True,
            adjust_maximum_thr=0,  # keep the file's white level (LibRaw would otherwise lower it to the data's max)
            output_bps=16,
            user_flip=0,
        )
    if rgb.shape[:2] != raw.mosaic.shape:
        raise SeeispError(f"{path}: LibRaw's demosaic is {rgb.shape[:2]}, the mosaic {raw.mosaic.shape}")
    target = to_rggb(even_crop(rgb), raw.cfa).astype(np.float32) / np.float32(65535)
    return np.ascontiguousarray(target), colour_of(raw)


def colour_of(raw: RawImage) -> np.ndarray:
    """A raw's white balance (row 0) over its camera->sRGB matrix (rows 1-3): (4, 3) float32."""
    return np.vstack([raw.white_balance, raw.camera_to_srgb]).astype(np.float32)


@dataclass
class SIDPairs:
    """Random (amplified packed raw, linear camera RGB target, white balance, camera->sRGB) patches of real pairs.

    Mirrors ``seeisp.training.data.SyntheticPairs``: ``sample(rng)`` and ``batch(seed, step, size)``.
    """

    pairs: Sequence[SIDPair]
    patch: int = 512  # raw pixels (the packed input is half this)
    cache_dir: str | os.PathLike[str] | None = None

    @classmethod
    def from_list(cls, list_file: str | os.PathLike[str], root: str | os.PathLike[str], **kwargs) -> SIDPairs:
        return cls(read_list(list_file, root), **kwargs)

    def __post_init__(self) -> None:
        if self.patch % 2:
            raise ValueError("patch must be even (whole 2x2 Bayer cells)")
        if self.cache_dir is not None and Path(self.cache_dir).exists() and not Path(self.cache_dir).is_dir():
            raise SeeispError(f"sid_cache: {self.cache_dir} is not a folder")
        self._colour: dict[Path, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.pairs)

    def frames(self, pair: SIDPair) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(short RGGB mosaic (H, W), long target (H, W, 3) float32 or uint16 x 65535, colour (4, 3))."""
        if self.cache_dir is None:
            mosaic = short_mosaic(pair.short)
            target, colour = long_target(pair.long)
        else:
            mosaic = self._cached(pair.short, lambda: short_mosaic(pair.short).astype(np.float16))
            target = self._cached(pair.long, lambda: self._long_uint16(pair.long))
            colour = self._cached(pair.long, lambda: self._long_colour(pair.long), suffix=".colour.npy")
        if mosaic.shape != target.shape[:2]:
            raise SeeispError(f"{pair.short}: {mosaic.shape} does not match {pair.long}: {target.shape[:2]}")
        return mosaic, target, np.asarray(colour, np.float32)

    def _long_uint16(self, path: Path) -> np.ndarray:
        target, self._colour[path] = long_target(path)
        return np.round(target * 65535).astype(np.uint16)

    def _long_colour(self, path: Path) -> np.ndarray:
        colour = self._colour.pop(path, None)  # left by _long_uint16 when it just demosaicked this file
        return colour_of(read_raw(path)) if colour is None else colour

    def _cached(self, path: Path, compute: Callable[[], np.ndarray], suffix: str = ".npy") -> np.ndarray:
        assert self.cache_dir is not None
        folder = Path(self.cache_dir) / f"{path.parent.name}-v{CACHE_VERSION}"
        file = folder / (path.stem + suffix)
        if not file.exists():
            folder.mkdir(parents=True, exist_ok=True)
            with staged_file(file) as tmp, tmp.open("wb") as f:  # a failed decode leaves no empty file behind
                np.save(f, compute())
        return np.load(file, mmap_mode="r")

    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        """(packed (4, p/2, p/2), target (3, p, p), white balance (3,), camera->sRGB (3, 3)), as ``SyntheticPairs``."""
        pair = self.pairs[int(rng.integers(len(self.pairs)))]
        mosaic, target, colour = self.frames(pair)
        (h, w), p = mosaic.shape, self.patch
        if h < p or w < p:
            raise SeeispError(f"{pair.short}: {w}x{h} is smaller than the {p} px patch")
        flip_y, flip_x, transpose = rng.random(3) < 0.5
        # A window starting on an odd row (column) mirrors to RGGB again: flips stay exact.
        flip_y, flip_x = flip_y and h - p >= 2, flip_x and w - p >= 2
        y, x = _window_start(rng, h, p, odd=flip_y), _window_start(rng, w, p, odd=flip_x)
        m = np.asarray(mosaic[y : y + p, x : x + p], np.float32)
        t = np.asarray(target[y : y + p, x : x + p], np.float32)
        if target.dtype == np.uint16:
            t /= np.float32(65535)
        if flip_y:
            m, t = m[::-1], t[::-1]
        if flip_x:
            m, t = m[:, ::-1], t[:, ::-1]
        if transpose:
            m, t = m.T, t.transpose(1, 0, 2)
        packed = amplify(pack(np.ascontiguousarray(m)), pair.ratio)
        return packed, np.ascontiguousarray(t.transpose(2, 0, 1)), colour[0].copy(), colour[1:].copy()

    def batch(self, seed: int, step: int, size: int) -> tuple[np.ndarray, ...]:
        return batch_of(self, seed, step, size)

    def patches(self, seed: int = 0) -> Iterator[tuple[np.ndarray, ...]]:
        """An endless stream of samples."""
        rng = np.random.default_rng(seed)
        while True:
            yield self.sample(rng)


def _window_start(rng: np.random.Generator, size: int, patch: int, odd: bool) -> int:
    """An even start (or odd, for a window that will be mirrored) with the window inside ``size``."""
    last = size - patch - (1 if odd else 0)
    return 2 * int(rng.integers(last // 2 + 1)) + (1 if odd else 0)


@dataclass
class MixedPairs:
    """Batches drawing each sample from ``real`` with probability ``real_share``, else from ``synthetic``.

    Both sources need ``sample(rng)`` returning (packed, target, white balance, camera->sRGB) of one patch size.
    """

    synthetic: PatchSource  # e.g. seeisp.training.data.SyntheticPairs
    real: PatchSource  # e.g. SIDPairs
    real_share: float = 0.5

    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        source = self.real if rng.random() < self.real_share else self.synthetic
        return source.sample(rng)

    def batch(self, seed: int, step: int, size: int) -> tuple[np.ndarray, ...]:
        return batch_of(self, seed, step, size)
