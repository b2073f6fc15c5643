"""Hot pixels: single sensor sites far brighter than everything around them, removed before the network.

A hot or stuck site records light that was not there. Amplified 100-300 times it becomes a saturated
dot, and the network, trained on sensor noise without such defects, renders it as a coloured blot.
A site is taken for hot when

* it exceeds all 8 sites of its colour around it (2 pixels away) by more than ``THRESHOLD`` times the
  noise: the larger of the frame's read noise and the spread of those 8 sites, so texture and the
  shot noise of bright areas do not count; and
* none of its 8 immediate neighbours (the other colours) stands out by more than ``NEAR_SHARE`` of
  its excess (plus the noise) from the median of the 8 sites of its own colour around it: light from
  a star, a lamp or a thin bright line reaches several sites, as the lens spreads it; a defect does
  not. Comparing each neighbour with its own colour keeps the test blind to the scene's colour.

A hot site gets the median of its 8 same-colour neighbours.
"""

from __future__ import annotations

import numpy as np

THRESHOLD = 10.0  # noise levels above the brightest same-colour neighbour
NEAR_SHARE = 0.15  # of the excess, the most the immediate neighbours may rise for a defect ...
NEAR_NOISE = 2.0  # ... plus this many noise levels
NOISE_FLOOR = 1e-4  # of the white level (about 1.6 DN of 14 bits): the least noise assumed

_SAME_COLOUR = ((-2, -2), (-2, 0), (-2, 2), (0, -2), (0, 2), (2, -2), (2, 0), (2, 2))
_ADJACENT = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))
_MAD_TO_SIGMA = 1.4826  # median absolute deviation of a Gaussian, in standard deviations
_PAD = 4  # pixels of padding: the farthest site looked at is 3 away (a whole number of 2x2 cells)


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
    if min(h, w) < 2 * _PAD:
        empty = np.zeros(0, np.intp)
        return empty, empty, np.zeros(0, mosaic.dtype)
    padded = _pad_by_cells(mosaic)
    # The brightest of the 8 same-colour neighbours, separably: left/right, then the rows above and below.
    core = padded[_PAD - 2 : _PAD + h + 2, _PAD - 2 : _PAD + w + 2]  # padded by 2
    sides = np.maximum(core[:, :-4], core[:, 4:])
    rows_around = np.maximum(sides, core[:, 2:-2])
    brightest = np.maximum(np.maximum(rows_around[:-4], rows_around[4:]), sides[2:-2])
    sigma = read_noise(mosaic)
    rows, cols = np.nonzero(mosaic - brightest > THRESHOLD * sigma)  # the few sites worth a closer look

    same, value = _around(padded, rows, cols, _SAME_COLOUR), mosaic[rows, cols]
    base = np.median(same, axis=0)
    noise = np.maximum(_MAD_TO_SIGMA * np.median(np.abs(same - base), axis=0), sigma)
    # How far each immediate neighbour stands out from the sites of its own colour around it.
    rise = np.stack(
        [
            padded[rows + _PAD + dy, cols + _PAD + dx] - _median_around(padded, rows + dy, cols + dx)
            for dy, dx in _ADJACENT
        ]
    )
    isolated = rise.max(axis=0) < NEAR_SHARE * (value - base) + NEAR_NOISE * noise
    hot = (value - same.max(axis=0) > THRESHOLD * noise) & isolated
    return rows[hot], cols[hot], base[hot].astype(mosaic.dtype)


def remove_hot_pixels(mosaic: np.ndarray) -> np.ndarray:
    """The mosaic with its hot sites replaced by the median of their same-colour neighbours (a copy if any)."""
    rows, cols, values = find_hot_pixels(mosaic)
    if rows.size == 0:
        return mosaic
    cleaned = mosaic.copy()
    cleaned[rows, cols] = values
    return cleaned


def neighbour_median(mosaic: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The median of the 8 same-colour neighbours of the given sites (e.g. to mend a raw in its own units)."""
    return _median_around(_pad_by_cells(mosaic), rows, cols)


def _median_around(padded: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    return np.median(_around(padded, rows, cols, _SAME_COLOUR), axis=0)


def _pad_by_cells(mosaic: np.ndarray) -> np.ndarray:
    """The mosaic padded by ``_PAD`` on every side with whole 2x2 cells mirrored, so every site keeps its colour.

    (Mirroring single pixels would make the site 2 rows above row 1 that very site.)
    """
    h, w = mosaic.shape
    even = mosaic
    if h % 2:  # one more row, of the colours of row h - 4 (a copy of row h - 2 would be a site's own mirror)
        even = np.vstack([even, even[-4:-3]])
    if w % 2:
        even = np.hstack([even, even[:, -4:-3]])
    cells = even.reshape(even.shape[0] // 2, 2, even.shape[1] // 2, 2)
    pad = _PAD // 2
    padded = np.pad(cells, ((pad, pad), (0, 0), (pad, pad), (0, 0)), mode="reflect")
    return padded.reshape(padded.shape[0] * 2, padded.shape[2] * 2)


def _around(padded: np.ndarray, rows: np.ndarray, cols: np.ndarray, offsets: tuple[tuple[int, int], ...]) -> np.ndarray:
    """(8, n): the values at ``offsets`` from each site, in a mosaic padded by ``_PAD``."""
    return np.stack([padded[rows + _PAD + dy, cols + _PAD + dx] for dy, dx in offsets])
