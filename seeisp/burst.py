"""Bursts: several dark raws of one scene, aligned and merged in the raw domain into one cleaner raw.

    result = enhance_burst(["a.ARW", "b.ARW", "c.ARW"], ratio=300)  # a.ARW is the reference
    result.save("a.png")

As in HDR+ (Hasinoff et al. 2016), every frame is aligned to the first one (the reference) on a
downsampled grey image of its 2x2-packed mosaic, so the colour filter's phase is kept: first the global
motion of a handheld camera (a turn and a translation that most of the picture shares: phase correlation,
then a flow field and RANSAC), then a dense coarse-to-fine local flow (OpenCV's DIS), so that parts of the
scene that moved are followed too.
The four colour planes are then resampled with the same motion and merged one frame at a time into a
weighted sum (frames are streamed, never held together): where an aligned frame differs from the
reference by no more than the noise predicts, it counts fully; where it differs by more (a moving
object the flow missed, an occlusion), its weight falls towards zero and the reference stands alone.
The noise is measured on the reference itself (``NoiseModel.of_planes``). A frame that agrees with the
reference almost nowhere (another scene) is left out with a ``BurstFrameWarning``.

What a burst gains is bounded by aliasing more than by noise: each colour plane samples every other site, so
a frame resampled onto the reference never gives back the reference's own samples of fine detail. The merge
is therefore strict in detailed areas and averages freely in smooth ones; a tripod burst, which needs almost
no resampling, gains the most (``benchmarks/burst.py``, numbers in docs/PERFORMANCE.md).

The merged mosaic has the reference's brightness and the noise of a longer exposure, and goes through
the same network as one frame (``enhance_raw``) at the burst's own ratio: measured on simulated bursts
(``benchmarks/burst.py``), passing the ratio unchanged is as good as or better than feeding the network
at a lower ratio (a smaller amplification, with the output scaled back up), so the networks trained on
single frames need nothing else for a merged one.

OpenCV is an optional extra: ``pip install 'seeisp[burst]'``.
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
from typing import Any

import numpy as np

from .dark_frame import DarkFrames, as_dark_frames
from .enhance import EnhanceResult, enhance_file, enhance_raw, load_session
from .errors import DarkFrameError, SeeispError
from .pack import even_crop
from .raw import RawImage, read_raw
from .session import ModelSession

GLOBAL_SIDE = 768  # packed pixels: the longer side of the grey image the global motion is found on
FLOW_SIDE = 1536  # packed pixels: the longer side of the grey image the local flow is found on
FLOW_DEADBAND = 0.5  # grey pixels of local flow taken for the noise's jitter (``significant``)
MIN_OVERLAP = 0.5  # the least share of the reference a frame must still cover after its global motion
MIN_AGREEMENT = 0.3  # the least mean merge weight over the overlap for a frame to count as the same scene


@dataclass(frozen=True)
class MismatchScale:
    """One scale at which a frame's difference to the reference is compared with the noise (``mismatch``); the
    frame's weight halves where the difference exceeds the noise's by ``allowed`` times (Wiener-like)."""

    blur: float  # packed pixels: the Gaussian that low-passes the difference
    tile: int  # packed pixels: the window its square is averaged over
    allowed: float


# Tuned with benchmarks/burst.py. Fine and strict, because aliasing differs from frame to frame: the planes sample
# every other site, so no resampling gives back the reference's own samples of fine detail. Coarse, to see a
# moving object whose difference per pixel hides in the noise but shows once averaged over an area.
MISMATCH = (MismatchScale(blur=0.3, tile=2, allowed=0.15), MismatchScale(blur=2.0, tile=8, allowed=1.0))
NOISE_FLOOR = 1e-4  # of the white level: the least noise assumed (a noise-free raw is still quantised)


class BurstError(SeeispError):
    """The frames of a burst cannot be merged: another camera, size, colour filter or ISO than the reference."""


class BurstFrameWarning(UserWarning):
    """A frame of a burst was left out (it does not align with the reference); its message names it."""


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
    return motion.astype(np.float64)


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
    twice that, and a ramp between. A still scene is then resampled by its global motion alone, smoothly, and only
    what moved is followed."""
    length = np.sqrt((flow**2).sum(axis=-1, keepdims=True))
    return flow * np.clip(length / deadband - 1.0, 0.0, 1.0) if deadband > 0 else flow


def sample_maps(
    motion: np.ndarray, flow: np.ndarray | None, flow_scale: float, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Where each packed pixel of the reference lies in the frame (x and y maps of ``shape``): the global
    ``motion`` (packed pixels) plus the local ``flow`` (grey pixels ``flow_scale`` packed pixels wide)."""
    cv2 = _cv2()
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    map_x = motion[0, 0] * xs + motion[0, 1] * ys + motion[0, 2]
    map_y = motion[1, 0] * xs + motion[1, 1] * ys + motion[1, 2]
    if flow is not None:
        full = cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR) * np.float32(flow_scale)
        map_x += full[..., 0]
        map_y += full[..., 1]
    return map_x.astype(np.float32), map_y.astype(np.float32)


def warp_planes(planes: np.ndarray, map_x: np.ndarray, map_y: np.ndarray, turn: np.ndarray) -> np.ndarray:
    """Resample each plane at the maps, NaN where the frame does not reach.

    The maps are in packed pixels, centred on the 2x2 cell; a plane's sites sit a quarter of a packed pixel off
    that centre, so each plane's maps are shifted by how the motion's linear part ``turn`` (2x2) moves that offset:
    the sites of one colour then land on sites of that colour."""
    cv2 = _cv2()
    out = np.empty_like(planes)
    for index, ((row, column), plane) in enumerate(zip(SITES, planes, strict=True)):
        offset = (np.array([column, row]) - 0.5) / 2
        shift_x, shift_y = (turn @ offset - offset).astype(np.float32)
        out[index] = cv2.remap(
            plane,
            map_x + shift_x,
            map_y + shift_y,
            cv2.INTER_CUBIC,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=float("nan"),
        )
    return out


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


def _blur_variance_factor(sigma: float) -> float:
    """By how much ``cv2.GaussianBlur`` with ``sigma`` shrinks the variance of white noise."""
    cv2 = _cv2()
    kernel = cv2.getGaussianKernel(2 * math.ceil(3 * sigma) + 1, sigma)
    return float((kernel**2).sum()) ** 2


def mismatch(reference: np.ndarray, aligned: np.ndarray, noise: NoiseModel, scale: MismatchScale) -> np.ndarray:
    """(h, w): how many times the squared difference between an aligned frame and the reference, low-passed by a
    Gaussian of ``scale.blur`` and averaged over ``scale.tile`` x ``scale.tile`` packed pixels, exceeds what the
    noise of both predicts; about 1 where they differ by noise alone."""
    cv2 = _cv2()
    factor = _blur_variance_factor(scale.blur)
    ratio = np.zeros(reference.shape[1:], np.float32)
    for ref_plane, plane in zip(reference, aligned, strict=True):
        diff = np.nan_to_num(plane - ref_plane, nan=0.0)
        low = cv2.GaussianBlur(diff, (0, 0), scale.blur)
        level = cv2.GaussianBlur(ref_plane, (0, 0), scale.blur)
        ratio += low**2 / (2 * factor * noise.variance(level))
    return cv2.blur(ratio / len(reference), (scale.tile, scale.tile))


def merge_weights(reference: np.ndarray, aligned: np.ndarray, noise: NoiseModel) -> np.ndarray:
    """(h, w) weights in [0, 1] of an aligned frame against the reference: near 1 where their difference is
    what the noise of both predicts, falling (Wiener-like) as it exceeds that at either scale of ``MISMATCH``,
    0 where the frame does not reach."""
    weights = np.ones(reference.shape[1:], np.float32)
    for scale in MISMATCH:
        excess = np.clip(mismatch(reference, aligned, noise, scale) - 1.0, 0, None) / scale.allowed
        weights /= 1.0 + excess**2
    weights[np.isnan(aligned).any(axis=0)] = 0.0
    return weights


# --- the burst --------------------------------------------------------------------------------------------------


def check_same_kind(reference: RawImage, frame: RawImage, path: str | os.PathLike[str]) -> None:
    """Raise ``BurstError`` (one line naming ``path``) unless ``frame`` can be merged with ``reference``."""
    if frame.mosaic.shape != reference.mosaic.shape:
        (h, w), (rh, rw) = frame.mosaic.shape, reference.mosaic.shape
        raise BurstError(f"{path}: {w}x{h} pixels, but the burst's first frame has {rw}x{rh}")
    if frame.cfa is not reference.cfa:
        raise BurstError(f"{path}: colour filter {frame.cfa.value}, but {reference.cfa.value} in the first frame")
    camera, first = frame.shot.camera, reference.shot.camera
    if camera != first:
        raise BurstError(f"{path}: shot with the {camera or 'unknown camera'}, the first frame with the {first}")
    iso, first_iso = frame.shot.iso, reference.shot.iso
    if (iso or first_iso) and round(iso or 0) != round(first_iso or 0):
        raise BurstError(f"{path}: shot at ISO {iso or 0:g}, the first frame at ISO {first_iso or 0:g}")


@dataclass
class Reference:
    """What aligning and merging against the reference needs, computed once."""

    planes: np.ndarray
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
        return cls(planes, noise, global_grey, global_scale, flow_grey, flow_scale, global_top, top)


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


def align(reference: Reference, planes: np.ndarray) -> np.ndarray | None:
    """A frame's planes resampled onto the reference (NaN where it does not reach); None when it does not align."""
    cv2 = _cv2()
    motion = frame_motion(reference, planes)
    if motion is None:
        return None
    shape = reference.planes.shape[1:]
    flow_grey, _ = grey(planes, FLOW_SIDE)
    globally_aligned = cv2.warpAffine(
        flow_grey,
        to_grey_coordinates(motion, reference.flow_scale).astype(np.float32),
        reference.flow_grey.shape[::-1],
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
    flow = significant(local_flow(reference.flow_grey, globally_aligned, reference.top), FLOW_DEADBAND)
    map_x, map_y = sample_maps(motion, flow, reference.flow_scale, shape)
    return warp_planes(planes, map_x, map_y, motion[:, :2])


def merge_burst(paths: Sequence[str | os.PathLike[str]]) -> tuple[RawImage, list[Path]]:
    """Read, align and merge the frames (the first is the reference), one at a time.

    Returns the reference with the merged mosaic, and the frames merged (the reference first). A frame that
    does not align is left out with a ``BurstFrameWarning``; one of another camera, size, colour filter or ISO
    raises ``BurstError``. Hot pixels need no care here: a frame's land off the reference's sites after alignment
    and differ from it far beyond the noise, so they get no weight, and the reference's own (or a tripod burst's,
    where all frames share them) are replaced in the merged raw as in a single one (``seeisp.hot_pixels``)."""
    if not paths:
        raise BurstError("a burst needs at least one frame")
    first = Path(paths[0])
    reference_raw = read_raw(first)
    reference = Reference.of(to_planes(reference_raw.mosaic))
    total = np.array(reference.planes, copy=True)  # the reference counts with weight 1 everywhere
    weight_sum = np.ones(total.shape[1:], np.float32)
    merged = [first]
    for path in map(Path, paths[1:]):
        raw = read_raw(path)
        check_same_kind(reference_raw, raw, path)
        aligned = align(reference, to_planes(raw.mosaic))
        del raw
        weights = None if aligned is None else merge_weights(reference.planes, aligned, reference.noise)
        if weights is None or _agreement(weights) < MIN_AGREEMENT:
            warnings.warn(
                BurstFrameWarning(f"{path}: does not align with {first.name} (another scene?); left out"),
                stacklevel=2,
            )
            continue
        total += np.nan_to_num(aligned, nan=0.0) * weights
        weight_sum += weights
        merged.append(path)
    total /= weight_sum
    mosaic = from_planes(total, reference_raw.mosaic.shape, reference_raw.mosaic)
    return dataclasses.replace(reference_raw, mosaic=mosaic), merged


def _agreement(weights: np.ndarray) -> float:
    """The mean weight over where the frame reaches: near 1 for a frame of the same scene."""
    reached = weights > 0
    return float(weights[reached].mean()) if reached.any() else 0.0


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
