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

A hot site gets the median of its 8 same-colour neighbours. On an X-Trans mosaic (``period=6``) the 8
same-colour sites are those one 6x6 cell away, the only ones sure to share a site's colour.
"""

from __future__ import annotations

import numpy as np

THRESHOLD = 10.0  # noise levels above the brightest same-colour neighbour
NEAR_SHARE = 0.15  # of the excess, the most the immediate neighbours may rise for a defect ...
NEAR_NOISE = 2.0  # ... plus this many noise levels
NOISE_FLOOR = 1e-4  # of the white level (about 1.6 DN of 14 bits): the least noise assumed

_ADJACENT = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))
_MAD_TO_SIGMA = 1.4826  # median absolute deviation of a Gaussian, in standard deviations
BAYER_PERIOD = 2  # pixels per side of the repeating colour cell (6 for X-Trans)


def _same_colour(period: int) -> tuple[tuple[int, int], ...]:
    """The offsets of the 8 sites of a site's colour around it, one cell away."""
    return tuple((dy * period, dx * period) for dy, dx in _ADJACENT)


def _pad_of(period: int) -> int:
    """Pixels of padding: the farthest site looked at is ``period + 1`` away (a whole number of cells)."""
    return 2 * period


def read_noise(mosaic: np.ndarray, period: int = BAYER_PERIOD) -> float:
    """The frame's noise level in flat areas: the robust spread of differences between same-colour sites."""
    rows = mosaic[:: max(1, mosaic.shape[0] // 256)]  # a few hundred rows are plenty
    diffs = (rows[:, period:] - rows[:, :-period]).ravel()
    if diffs.size == 0:
        return NOISE_FLOOR
    mad = float(np.median(np.abs(diffs - np.median(diffs))))
    return max(_MAD_TO_SIGMA * mad / np.sqrt(2.0), NOISE_FLOOR)


def find_hot_pixels(mosaic: np.ndarray, period: int = BAYER_PERIOD) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, columns, replacement values) of the hot sites of a normalised mosaic of any phase: Bayer, or
    X-Trans with ``period=6``."""
    h, w = mosaic.shape
    pad, p = _pad_of(period), period
    if min(h, w) < 2 * pad:
        empty = np.zeros(0, np.intp)
        return empty, empty, np.zeros(0, mosaic.dtype)
    padded = _pad_by_cells(mosaic, period)
    # The brightest of the 8 same-colour neighbours, separably: left/right, then the rows above and below.
    core = padded[pad - p : pad + h + p, pad - p : pad + w + p]  # padded by one cell
    sides = np.maximum(core[:, : -2 * p], core[:, 2 * p :])
    rows_around = np.maximum(sides, core[:, p:-p])
    brightest = np.maximum(np.maximum(rows_around[: -2 * p], rows_around[2 * p :]), sides[p:-p])
    sigma = read_noise(mosaic, period)
    rows, cols = np.nonzero(mosaic - brightest > THRESHOLD * sigma)  # the few sites worth a closer look

    same, value = _around(padded, rows, cols, _same_colour(period), pad), mosaic[rows, cols]
    base = np.median(same, axis=0)
    noise = np.maximum(_MAD_TO_SIGMA * np.median(np.abs(same - base), axis=0), sigma)
    # How far each immediate neighbour stands out from the sites of its own colour around it.
    rise = np.stack(
        [
            padded[rows + pad + dy, cols + pad + dx] - _median_around(padded, rows + dy, cols + dx, period)
            for dy, dx in _ADJACENT
        ]
    )
    isolated = rise.max(axis=0) < NEAR_SHARE * (value - base) + NEAR_NOISE * noise
    hot = (value - same.max(axis=0) > THRESHOLD * noise) & isolated
    return rows[hot], cols[hot], base[hot].astype(mosaic.dtype)


def remove_hot_pixels(mosaic: np.ndarray, period: int = BAYER_PERIOD) -> np.ndarray:
    """The mosaic with its hot sites replaced by the median of their same-colour neighbours (a copy if any);
    ``period=6`` for an X-Trans mosaic."""
    rows, cols, values = find_hot_pixels(mosaic, period)
    if rows.size == 0:
        return mosaic
    cleaned = mosaic.copy()
    cleaned[rows, cols] = values
    return cleaned


def neighbour_median(mosaic: np.ndarray, rows: np.ndarray, cols: np.ndarray, period: int = BAYER_PERIOD) -> np.ndarray:
    """The median of the 8 same-colour neighbours of the given sites (e.g. to mend a raw in its own units)."""
    return _median_around(_pad_by_cells(mosaic, period), rows, cols, period)


def _median_around(padded: np.ndarray, rows: np.ndarray, cols: np.ndarray, period: int) -> np.ndarray:
    return np.median(_around(padded, rows, cols, _same_colour(period), _pad_of(period)), axis=0)


def _pad_by_cells(mosaic: np.ndarray, period: int) -> np.ndarray:
    """The mosaic padded by ``_pad_of(period)`` on every side with whole cells mirrored, so every site keeps its
    colour.

    (Mirroring single pixels would make the site 2 rows above row 1 that very site.)
    """
    h, w = mosaic.shape
    whole = mosaic
    # Rows (columns) up to a whole number of cells, of the colours two cells back (one cell back would be a
    # site's own mirror).
    if h % period:
        whole = np.vstack([whole, whole[h - 2 * period : h - 2 * period + (-h % period)]])
    if w % period:
        whole = np.hstack([whole, whole[:, w - 2 * period : w - 2 * period + (-w % period)]])
    cells = whole.reshape(whole.shape[0] // period, period, whole.shape[1] // period, period)
    pad = _pad_of(period) // period
    padded = np.pad(cells, ((pad, pad), (0, 0), (pad, pad), (0, 0)), mode="reflect")
    return padded.reshape(padded.shape[0] * period, padded.shape[2] * period)


def _around(
    padded: np.ndarray, rows: np.ndarray, cols: np.ndarray, offsets: tuple[tuple[int, int], ...], pad: int
) -> np.ndarray:
    """(8, n): the values at ``offsets`` from each site, in a mosaic padded by ``pad``."""
    return np.stack([padded[rows + pad + dy, cols + pad + dx] for dy, dx in offsets])
