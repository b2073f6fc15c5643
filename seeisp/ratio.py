"""Choose the amplification ratio: given by the user, or estimated from the frame's own brightness.

The estimate scales the frame so that its level matches a well-exposed picture:
ratio = TARGET_LEVEL / exposure_level(black-subtracted, normalised raw), clamped to [1, 300].
The level is a mean that light sources cannot dominate: the mean of 16x16-pixel block means, each
capped at 3 times the 75th percentile of them. A plain mean is set by a street lamp or a lit window
in a night frame (they hold most of its light), which left the rest about 5 times too dark; capped, such
blocks count as bright areas, and frames without light sources get the plain mean's estimate
(``benchmarks/auto_ratio.py`` measures both). TARGET_LEVEL is the median level of the training
pictures after unprocessing (measured on ../shared/data/clean/train). Block means of the unclipped
raw are unbiased by zero-mean noise, so the estimate is steady even at ratio 300.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import InvalidOptionError, InvalidRatioError

TARGET_LEVEL = 0.19
MIN_RATIO, MAX_RATIO = 1.0, 300.0
BLOCK = 16  # pixels: a block mean averages 256 raw pixels, so noise barely moves it
CAP_PERCENTILE, CAP_FACTOR = 75.0, 3.0  # light sources must cover under a quarter of the frame
NEARLY_BLACK_MARGIN = 1.5  # an estimate this far beyond MAX_RATIO says the frame is nearly black


def parse_ratio(value: str | float | None, allow_auto: bool = True) -> float | None:
    """'auto' or None -> None (estimate it); otherwise a number from ``MIN_RATIO`` to ``MAX_RATIO``, the range
    the models were trained on. Every way in (CLI, web page, demo, benchmark, ``enhance_raw``) checks it here;
    where nothing can be estimated (the demo, the benchmark), ``allow_auto=False`` refuses 'auto' too."""
    auto = value is None or (isinstance(value, str) and value.strip().lower() == "auto")
    if auto and allow_auto:
        return None
    try:
        ratio = float("nan") if auto else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        ratio = float("nan")
    if not MIN_RATIO <= ratio <= MAX_RATIO:  # also rejects NaN
        alternative = " or 'auto'" if allow_auto else ""
        raise InvalidRatioError(
            f"ratio must be between {MIN_RATIO:g} and {MAX_RATIO:g} (the models' range){alternative}, got {value!r}"
        )
    return ratio


def exposure_level(mosaic: np.ndarray) -> float:
    """The mean of the mosaic's block means, each capped at ``CAP_FACTOR`` x their ``CAP_PERCENTILE``th percentile.

    Frames smaller than a block use single pixels as blocks.
    """
    h, w = mosaic.shape[:2]
    size = BLOCK if min(h, w) >= BLOCK else 1
    h, w = h - h % size, w - w % size
    blocks = mosaic[:h, :w].reshape(h // size, size, w // size, size).mean(axis=(1, 3), dtype=np.float64)
    cap = CAP_FACTOR * max(float(np.percentile(blocks, CAP_PERCENTILE)), 0.0)
    return float(np.mean(np.minimum(blocks, cap)))


def unclamped_estimate(mosaic: np.ndarray) -> float:
    """The ratio that brings the normalised mosaic's ``exposure_level`` to ``TARGET_LEVEL``, beyond the models'
    range too (``math.inf`` for a frame at or below black)."""
    level = exposure_level(mosaic)
    return TARGET_LEVEL / level if level > 0 else math.inf


def estimate_ratio(mosaic: np.ndarray) -> float:
    """A deterministic ratio for the normalised mosaic (``unclamped_estimate``), clamped to the models' range."""
    return float(np.clip(unclamped_estimate(mosaic), MIN_RATIO, MAX_RATIO))


def parse_ev(value: str | float | None) -> float:
    """Exposure compensation in stops (``--ev +1``, ``ev=-0.5``): any finite number; 0 for None or ""."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0.0
    try:
        ev = float(value)
    except (TypeError, ValueError):
        ev = float("nan")
    if not math.isfinite(ev):
        raise InvalidOptionError(f"ev must be a number of stops such as 1 or -0.5, got {value!r}")
    return ev


@dataclass(frozen=True)
class Exposure:
    """The ratio a frame is enhanced at, and why it is not the one asked for, if it is not."""

    ratio: float
    auto: bool  # estimated from the frame (``estimate_ratio``) rather than given
    note: str = ""  # one line, when the ratio had to be clamped to the models' range


def choose_exposure(mosaic: np.ndarray, asked: float | None, ev: float = 0.0) -> Exposure:
    """The ratio for a normalised mosaic: ``asked`` (None: ``estimate_ratio``), times 2 ** ``ev``, clamped to
    ``MIN_RATIO``..``MAX_RATIO`` with a note when that changed it: a frame too dark for any ratio in the
    range, or a compensation beyond it."""
    ev = parse_ev(ev)
    wanted = (unclamped_estimate(mosaic) if asked is None else asked) * 2.0**ev
    ratio = float(np.clip(wanted, MIN_RATIO, MAX_RATIO))
    note = ""
    if asked is None and ev == 0 and wanted > MAX_RATIO * NEARLY_BLACK_MARGIN:
        note = f"the frame is nearly black: ratio clamped to {MAX_RATIO:g}"
    elif ev != 0 and not math.isclose(ratio, wanted, rel_tol=1e-9):
        note = f"ratio {wanted:.3g} after ev {ev:+g} clamped to {ratio:g}, the models' range"
    return Exposure(ratio=ratio, auto=asked is None, note=note)
