"""Choose the amplification ratio: given by the user, or estimated from the frame's own brightness.

The estimate scales the frame so that its level matches a well-exposed picture:
ratio = TARGET_LEVEL / exposure_level(black-subtracted, normalised raw), clamped to [1, 300].
The level is a mean that light sources cannot dominate: the mean of 16x16-pixel block means, each
capped at 3 times the 75th percentile of them. A plain mean is set by a street lamp or a lit window
in a night frame (they hold most of its light), which leaves the rest far too dark; capped, such
blocks count as bright areas, and frames without light sources get the plain mean's estimate
(``benchmarks/auto_ratio.py`` measures both). TARGET_LEVEL is the median level of the training
pictures after unprocessing (measured on ../shared/data/clean/train). Block means of the unclipped
raw are unbiased by zero-mean noise, so the estimate is steady even at ratio 300.
"""

from __future__ import annotations

import numpy as np

from .errors import InvalidRatioError

TARGET_LEVEL = 0.19
MIN_RATIO, MAX_RATIO = 1.0, 300.0
BLOCK = 16  # pixels: a block mean averages 256 raw pixels, so noise barely moves it
CAP_PERCENTILE, CAP_FACTOR = 75.0, 3.0  # light sources must cover under a quarter of the frame


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


def estimate_ratio(mosaic: np.ndarray) -> float:
    """A deterministic ratio that brings the normalised mosaic's ``exposure_level`` to ``TARGET_LEVEL``."""
    level = exposure_level(mosaic)
    if level <= TARGET_LEVEL / MAX_RATIO:
        return MAX_RATIO
    return float(np.clip(TARGET_LEVEL / level, MIN_RATIO, MAX_RATIO))
