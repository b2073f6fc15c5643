"""Choose the amplification ratio: given by the user, or estimated from the frame's own brightness.

The estimate scales the frame so that its mean level matches a well-exposed picture:
ratio = TARGET_MEAN / mean(black-subtracted, normalised raw), clamped to [1, 300].
TARGET_MEAN is the median mean level of the training pictures after unprocessing
(measured on ../shared/data/clean/train). The mean of the
unclipped raw is unbiased by zero-mean noise, so the estimate is steady even at ratio 300.
"""

from __future__ import annotations

import numpy as np

from .errors import InvalidRatioError

TARGET_MEAN = 0.19
MIN_RATIO, MAX_RATIO = 1.0, 300.0


def parse_ratio(value: str | float | None) -> float | None:
    """'auto' or None -> None (estimate it); otherwise a positive finite number."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "auto"):
        return None
    try:
        ratio = float(value)
    except (TypeError, ValueError):
        raise InvalidRatioError(f"ratio must be a positive number or 'auto', got {value!r}") from None
    if not np.isfinite(ratio) or ratio <= 0:
        raise InvalidRatioError(f"ratio must be a positive number or 'auto', got {value!r}")
    return ratio


def estimate_ratio(mosaic: np.ndarray) -> float:
    """A deterministic ratio from the normalised mosaic's mean level."""
    level = float(np.mean(mosaic, dtype=np.float64))
    if level <= TARGET_MEAN / MAX_RATIO:
        return MAX_RATIO
    return float(np.clip(TARGET_MEAN / level, MIN_RATIO, MAX_RATIO))
