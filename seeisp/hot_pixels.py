"""Hot pixels: single sensor sites far brighter than everything around them, removed before the network.

A hot or stuck site records light that was not there. Amplified 100-300 times it becomes a saturated
dot, and the network, trained on sensor noise without such defects, renders it as a coloured blot.
A site is taken for hot when

* it exceeds all 8 sites of its colour around it (2 pixels away) by more than ``THRESHOLD`` times the
  noise: the larger of the frame's read noise and the spread of those 8 sites, so texture and the
  shot noise of bright areas do not count; and
* its 8 immediate neighbours (the other colours) rise by less than ``NEAR_SHARE`` of its excess over
  the 8: light from a star or a lamp reaches several sites, as the lens spreads it; a defect does not.

A hot site gets the median of its 8 same-colour neighbours. Measured on simulated dark raws of Kodak
pictures with 0.05 % of sites hot by 20-2000 DN (``benchmarks/hot_pixels.py``): the full model lost
0.5 dB to them at ratio 100 and keeps all but 0.06 dB with the removal, which leaves raws without hot
pixels as they were.
"""

from __future__ import annotations

import numpy as np

THRESHOLD = 8.0  # noise levels above the brightest same-colour neighbour
NEAR_SHARE = 0.15  # of the excess, the most the immediate neighbours may rise for a defect
NOISE_FLOOR = 1e-4  # of the white level (about 1.6 DN of 14 bits): the least noise assumed

_SAME_COLOUR = ((-2, -2), (-2, 0), (-2, 2), (0, -2), (0, 2), (2, -2), (2, 0), (2, 2))
_ADJACENT = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))
_MAD_TO_SIGMA = 1.4826  # median absolute deviation of a Gaussian, in standard deviations


def read_noise(mosaic: np.ndarray) -> float:
    """The frame's noise level in flat areas: the robust spread of differences between same-colour sites."""
    rows = mosaic[:: max(1, mosaic.shape[0] // 256)]  # a few hundred rows are plenty
    diffs = (rows[:, 2:] - rows[:, :-2]).ravel()
    if diffs.size == 0:
        return NOISE_FLOOR
    mad = float(np.median(np.abs(diffs - np.median(diffs))))
    return max(_MAD_TO_SIGMA * mad / np.sqrt(2.0), NOISE_FLOOR)


def find_hot_pixels(mosaic: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, columns, replacement values) of the hot sites of a normalised Bayer mosaic of any phase."""
    h, w = mosaic.shape
    if h < 3 or w < 3:
        empty = np.zeros(0, np.intp)
        return empty, empty, np.zeros(0, mosaic.dtype)
    padded = np.pad(mosaic, 2, mode="reflect")  # reflecting by 2 keeps every site's colour
    # The brightest of the 8 same-colour neighbours, separably: left/right, then the rows above and below.
    sides = np.maximum(padded[:, :-4], padded[:, 4:])
    rows_around = np.maximum(sides, padded[:, 2:-2])
    brightest = np.maximum(np.maximum(rows_around[:-4], rows_around[4:]), sides[2:-2])
    sigma = read_noise(mosaic)
    rows, cols = np.nonzero(mosaic - brightest > THRESHOLD * sigma)  # the few sites worth a closer look

    def around(offsets: tuple[tuple[int, int], ...]) -> np.ndarray:
        return np.stack([padded[rows + 2 + dy, cols + 2 + dx] for dy, dx in offsets])

    same, value = around(_SAME_COLOUR), mosaic[rows, cols]
    base = np.median(same, axis=0)
    spread = _MAD_TO_SIGMA * np.median(np.abs(same - base), axis=0)
    excess = value - base
    isolated = around(_ADJACENT).max(axis=0) - base < NEAR_SHARE * excess
    hot = (value - same.max(axis=0) > THRESHOLD * np.maximum(spread, sigma)) & isolated
    return rows[hot], cols[hot], base[hot].astype(mosaic.dtype)


def remove_hot_pixels(mosaic: np.ndarray) -> np.ndarray:
    """The mosaic with its hot sites replaced by the median of their same-colour neighbours (a copy if any)."""
    rows, cols, values = find_hot_pixels(mosaic)
    if rows.size == 0:
        return mosaic
    cleaned = mosaic.copy()
    cleaned[rows, cols] = values
    return cleaned
