"""Match the network's brightness over areas to the raw's, where the raw's black level is known to be right.

Averaged over thousands of sites, the amplified raw measures the light without bias once its black level is
right (a dark frame's, ``seeisp.dark_frame``): the noise averages out. The networks were trained on sensors whose
black level is off by an unknown offset, and they take off about the offset they saw in training. On a raw whose
level is already right, that leaves their output a little too dark or tinted over areas. So, per colour, the
output's local mean (a Gaussian of ``LEVEL_SIGMA`` raw pixels over that colour's sites) is moved to the raw's.
Sites bright enough that their noise may reach the white level, where the network's input was clipped, and sites
the amplification took beyond the input's range (hot pixels) are left out of both means.
"""

from __future__ import annotations

import numpy as np

from .raw import CFA

LEVEL_SIGMA = 96.0  # raw pixels: about 29,000 red or blue sites (green twice that), so the raw's noise averages out
_CELL = 8  # packed pixels (16 raw pixels) per side of the cells the means are gathered in
_TRUSTED_BELOW = 0.5  # output level (1 = white) below which the input's noise stays clear of the white clip
# Trusted sites, each weighted by the Gaussian (1 at its centre), below which the move fades out in proportion:
# a few of them among sites too bright to trust would otherwise set it by their noise alone, over the Gaussian's
# whole reach. A frame's red or blue sites weigh about 14,000 inside it and 4,000 in its corners, green twice that:
# there this changes nothing.
_FEWEST_SITES = 1000.0
_STRIP_ROWS = 256  # rows the move is added in at a time


def match_input_level(camera_rgb: np.ndarray, mosaic: np.ndarray, cfa: CFA, ratio: float) -> np.ndarray:
    """``camera_rgb`` (H, W, 3 linear camera RGB: the network's output for ``mosaic``, same orientation, amplified
    by ``ratio``) with each colour's local mean moved to that of the amplified mosaic over the colour's sites."""
    height, width = (size // 2 * 2 for size in camera_rgb.shape[:2])
    if not height or not width:  # not one whole 2x2 cell: nothing to average
        return camera_rgb.copy()
    rows, cols = -(-height // (2 * _CELL)), -(-width // (2 * _CELL))
    sums = np.zeros((3, 3, rows, cols))  # per colour: sites trusted, the raw's sum over them, the output's
    for dy, dx, channel in cfa.sites():
        output = camera_rgb[dy:height:2, dx:width:2, channel]
        raw = mosaic[dy:height:2, dx:width:2] * np.float32(ratio)
        trusted = (output < _TRUSTED_BELOW) & (np.abs(raw) < 1)
        for k, plane in enumerate((trusted, np.where(trusted, raw, 0), np.where(trusted, output, 0))):
            sums[channel, k] += _cell_sums(plane, rows, cols)
    sigma = LEVEL_SIGMA / (2 * _CELL)
    out = camera_rgb.copy()
    for channel in range(3):
        weight, raw_sum, output_sum = (_blur(grid, sigma) for grid in sums[channel])
        shift = (raw_sum - output_sum) / np.maximum(weight, _FEWEST_SITES)
        _add_upsampled(out[..., channel], shift)
    return out


def _cell_sums(plane: np.ndarray, rows: int, cols: int) -> np.ndarray:
    padded = np.zeros((rows * _CELL, cols * _CELL))
    padded[: plane.shape[0], : plane.shape[1]] = plane
    return padded.reshape(rows, _CELL, cols, _CELL).sum(axis=(1, 3))


def _blur(grid: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur, zero beyond the edges: the weights are blurred alike, so the means stay right at the edges."""
    radius = int(np.ceil(3 * sigma))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)

    def along(line: np.ndarray) -> np.ndarray:
        return np.convolve(line, taps)[radius : radius + line.size]

    return np.apply_along_axis(along, 0, np.apply_along_axis(along, 1, grid))


def _add_upsampled(plane: np.ndarray, grid: np.ndarray) -> None:
    """Add ``grid`` to ``plane``, bilinear between the cells' centres, constant beyond the outer ones; in strips of
    rows, so that a 24 MP frame needs no full-size temporary."""

    def weights(size: int, cells: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        position = np.clip((np.arange(size) + 0.5) / (2 * _CELL) - 0.5, 0, cells - 1)
        low = np.minimum(position.astype(int), cells - 2) if cells > 1 else np.zeros(size, int)
        return low, np.minimum(low + 1, cells - 1), (position - low).astype(np.float32)[:, None]

    grid = grid.astype(np.float32)
    top, bottom, fy = weights(plane.shape[0], grid.shape[0])
    left, right, fx = weights(plane.shape[1], grid.shape[1])
    across = grid[:, left] * (1 - fx.T) + grid[:, right] * fx.T  # (rows of cells, width)
    for y in range(0, plane.shape[0], _STRIP_ROWS):
        rows = slice(y, y + _STRIP_ROWS)
        plane[rows] += across[top[rows]] * (1 - fy[rows]) + across[bottom[rows]] * fy[rows]
