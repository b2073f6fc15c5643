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

# Brightness variance (square-root encoded, white at 1) at which a window counts half as an edge: below it the
# window's colour is averaged, above it the colour follows the brightness.
EDGE_VARIANCE = 1e-3
# The windows' fits are made on the picture binned 4x4 and brought back to full size, as in He and Sun's "Fast
# Guided Filter" (2015): a sixteenth of the work, and the colour still follows the full-size brightness.
_BIN = 4
WINDOW = 3  # binned pixels a side of the windows the colour is fitted over (12 pixels)
_STRIP_ROWS = 256  # filtered a strip at a time, so the temporaries stay small on 24 MP frames (a multiple of _BIN)


def smooth_chroma(camera_rgb: np.ndarray, white_balance: np.ndarray) -> np.ndarray:
    """Linear camera RGB (H, W, 3) -> the same with its colour smoothed where the brightness is flat
    (``white_balance``: the R, G, B gains that make a grey grey). Any brightness and any edge of it are kept."""
    gains = np.asarray(white_balance, np.float32)
    out = np.empty(camera_rgb.shape, np.float32)
    # Two window means deep, plus the neighbouring blocks the enlarging reads; whole blocks, so a strip's blocks are
    # the frame's.
    margin = (2 * (WINDOW // 2) + 1) * _BIN
    height = camera_rgb.shape[0]
    for top in range(0, height, _STRIP_ROWS):
        bottom = min(top + _STRIP_ROWS, height)
        start, stop = max(top - margin, 0), min(bottom + margin, height)
        balanced = camera_rgb[start:stop] * gains
        out[top:bottom] = _smooth(balanced)[top - start : bottom - start] / gains
    return out


def _smooth(balanced: np.ndarray) -> np.ndarray:
    # Below black is noise (every output clips it); kept, its steep square root would throw colour about near black.
    encoded = np.sqrt(np.maximum(balanced, 0.0, out=balanced), out=balanced)
    luma = (encoded[..., 0] + encoded[..., 1] + encoded[..., 2]) / np.float32(3)
    binned = _binned(encoded)  # (3, h, w): the windows' statistics are taken on these
    guide = binned.mean(axis=0, keepdims=True)
    colour = binned[:2] - guide  # red and green minus luma; blue's is minus both
    mean_guide, mean_guide_sq = _box(np.concatenate([guide, guide * guide]))
    means = _box(np.concatenate([colour, colour * guide]))
    mean_colour, mean_product = means[:2], means[2:]
    slope = (mean_product - mean_guide * mean_colour) / (mean_guide_sq - mean_guide**2 + EDGE_VARIANCE)
    offset = mean_colour - slope * mean_guide
    fit = _enlarged(_box(np.concatenate([slope, offset])), luma.shape)
    red, green = fit[:2] * luma + fit[2:]
    out = np.empty(encoded.shape, np.float32)
    out[..., 0] = luma + red
    out[..., 1] = luma + green
    out[..., 2] = luma - red - green
    np.maximum(out, 0.0, out=out)
    return np.square(out, out=out)


def _box(planes: np.ndarray) -> np.ndarray:
    return box_mean(planes, WINDOW).astype(np.float32)


def _binned(image: np.ndarray) -> np.ndarray:
    """(H, W, C) -> (C, h, w) the means of its _BIN x _BIN blocks (a last partial row or column of blocks made
    whole by repeating the last pixels)."""
    h, w, _ = image.shape
    padded = np.pad(image, [(0, -h % _BIN), (0, -w % _BIN), (0, 0)], mode="edge")
    blocks = [padded[y::_BIN, x::_BIN] for y in range(_BIN) for x in range(_BIN)]
    return np.moveaxis(sum(blocks[1:], blocks[0]) / np.float32(len(blocks)), 2, 0)


def _enlarged(planes: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Binned (C, h, w) planes brought back to (C, H, W) by linear interpolation between the blocks' centres (the
    outermost half blocks keep the edge's value)."""
    # The i-th pixel of a block lies (i + 0.5) / _BIN - 0.5 blocks from its centre: towards the previous block for
    # the first half of the block, towards the next for the second.
    places = (np.arange(_BIN) + 0.5) / _BIN - 0.5
    for axis in (1, 2):
        edge = [(0, 0)] * 3
        edge[axis] = (1, 1)
        padded = np.pad(planes, edge, mode="edge")
        previous, following = [slice(None)] * 3, [slice(None)] * 3
        previous[axis], following[axis] = slice(0, -2), slice(2, None)
        fine_shape = list(planes.shape)
        fine_shape[axis] *= _BIN
        fine = np.empty(fine_shape, np.float32)
        for i, place in enumerate(places):
            towards = padded[tuple(previous if place < 0 else following)]
            sites = [slice(None)] * 3
            sites[axis] = slice(i, None, _BIN)
            fine[tuple(sites)] = planes + (towards - planes) * np.float32(abs(place))
        planes = fine
    return planes[:, : shape[0], : shape[1]]
