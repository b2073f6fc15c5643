"""Colour noise the network leaves, smoothed where the picture's brightness shows no edge.

The networks take off most of the noise, but leave faint colour speckle on flat areas (most at high gain) and
false colour along fine detail (even on clean raws: the network also demosaicks). Colour detail finer than
brightness detail is rare in photographs and hard to see, so every raw converter smooths colour more than
brightness ("colour noise reduction"). Here it is a guided filter (He, Sun and Tang, "Guided Image Filtering",
2010): the colour (each channel minus the brightness) is fitted, window by window, as a linear function of the
brightness, so it follows brightness edges and is averaged where the brightness is flat.

It works on the network's camera RGB, white-balanced and square-root encoded so that shadows and highlights count
alike. The brightness (the encoded channels' mean) is kept; what lies below black is set to black. Measured in
docs/PERFORMANCE.md (Colour noise).
"""

from __future__ import annotations

import numpy as np

from .noise_level import box_mean

RADIUS = 4  # pixels: the window is 2 * RADIUS + 1 wide
# Brightness variance (square-root encoded, white at 1) at which a window counts half as an edge: below it the
# window's colour is averaged, above it the colour follows the brightness.
EDGE_VARIANCE = 1e-3
# The windows' fits are made on the picture binned 2x2 and brought back to full size, as in He and Sun's "Fast
# Guided Filter" (2015): a quarter of the work, and the colour still follows the full-size brightness.
_BIN = 2
_STRIP_ROWS = 256  # filtered a strip at a time, so the temporaries stay small on 24 MP frames (a multiple of _BIN)


def smooth_chroma(camera_rgb: np.ndarray, white_balance: np.ndarray) -> np.ndarray:
    """Linear camera RGB (H, W, 3) -> the same with its colour smoothed where the brightness is flat
    (``white_balance``: the R, G, B gains that make a grey grey). Any brightness and any edge of it are kept."""
    gains = np.asarray(white_balance, np.float32)
    out = np.empty(camera_rgb.shape, np.float32)
    margin = 2 * RADIUS + 2 * _BIN  # two box means deep, plus the neighbours the enlarging reads
    height = camera_rgb.shape[0]
    for top in range(0, height, _STRIP_ROWS):
        bottom = min(top + _STRIP_ROWS, height)
        start, stop = max(top - margin, 0), min(bottom + margin, height)
        strip = _smooth(camera_rgb[start:stop].astype(np.float32) * gains)
        out[top:bottom] = strip[top - start : bottom - start] / gains
    return out


def _smooth(balanced: np.ndarray) -> np.ndarray:
    # Below black is noise (every output clips it); kept, its steep square root would throw colour about near black.
    encoded = np.sqrt(np.maximum(balanced, 0.0))
    luma = (encoded[..., 0] + encoded[..., 1] + encoded[..., 2]) / np.float32(3)
    colour = np.moveaxis(encoded[..., :2] - luma[..., None], 2, 0)  # red and green minus luma; blue's: minus both
    guide = _binned(luma[None])
    planes = _binned(colour)
    mean_guide, mean_guide_sq = _box(np.concatenate([guide, guide * guide]))
    means = _box(np.concatenate([planes, planes * guide]))
    mean_colour, mean_product = means[:2], means[2:]
    slope = (mean_product - mean_guide * mean_colour) / (mean_guide_sq - mean_guide**2 + EDGE_VARIANCE)
    offset = mean_colour - slope * mean_guide
    fit = _enlarged(_box(np.concatenate([slope, offset])), luma.shape)
    red, green = fit[:2] * luma + fit[2:]
    out = np.stack([luma + red, luma + green, luma - red - green], axis=-1)
    return np.square(np.maximum(out, 0.0))


def _box(planes: np.ndarray) -> np.ndarray:
    return box_mean(planes, 2 * (RADIUS // _BIN) + 1).astype(np.float32)


def _binned(planes: np.ndarray) -> np.ndarray:
    """(C, H, W) -> the means of its _BIN x _BIN blocks (an odd last row or column repeated)."""
    _, h, w = planes.shape
    padded = np.pad(planes, [(0, 0), (0, -h % _BIN), (0, -w % _BIN)], mode="edge")
    blocks = [padded[:, y::_BIN, x::_BIN] for y in range(_BIN) for x in range(_BIN)]
    return sum(blocks[1:], blocks[0]) / np.float32(len(blocks))


def _enlarged(planes: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Binned (C, h, w) planes brought back to (C, H, W) by linear interpolation between the blocks' centres."""
    for axis, size in ((1, shape[0]), (2, shape[1])):
        centres = (np.arange(size) + 0.5) / _BIN - 0.5  # each pixel's place on the binned grid
        below = np.clip(np.floor(centres).astype(int), 0, planes.shape[axis] - 1)
        above = np.clip(below + 1, 0, planes.shape[axis] - 1)
        weight = np.clip(centres - below, 0.0, 1.0).astype(np.float32)
        shape_ = [1, 1, 1]
        shape_[axis] = size
        weight = weight.reshape(shape_)
        planes = np.take(planes, below, axis=axis) * (1 - weight) + np.take(planes, above, axis=axis) * weight
    return planes
