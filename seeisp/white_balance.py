"""The white balance a picture is rendered with: as shot (LibRaw's default), daylight, or estimated.

The network's output is linear camera RGB, not white balanced, so choosing costs no second pass:
``balance_gains`` picks the per-channel gains that ``render`` applies. Under street lights or
candles the camera's as-shot balance often leaves a strong cast; "auto" estimates gains from the
denoised picture, which is far steadier than estimating them from the noisy raw.
"""

from __future__ import annotations

import enum

import numpy as np

from .raw import RawImage


class WhiteBalance(enum.StrEnum):
    CAMERA = "camera"  # the camera's as-shot gains, as LibRaw renders by default
    DAYLIGHT = "daylight"  # the sensor's daylight gains (LibRaw's pre_mul)
    AUTO = "auto"  # grey world on the denoised picture (``grey_world``)


CLIPPED = 0.95  # a pixel with a channel this bright may be clipped: its colour says nothing about the light
DARKEST_SHARE = 0.1  # the darkest pixels hold mostly what is left of the noise and the black-level error
_MIN_PIXELS = 64


def balance_gains(choice: WhiteBalance, raw: RawImage, camera_rgb: np.ndarray) -> np.ndarray:
    """The R, G, B gains (smallest 1, as LibRaw applies them) to render ``camera_rgb`` with."""
    if choice is WhiteBalance.CAMERA:
        return raw.white_balance
    if choice is WhiteBalance.DAYLIGHT:
        return raw.daylight_balance
    return grey_world(camera_rgb, fallback=raw.white_balance)


def grey_world(camera_rgb: np.ndarray, fallback: np.ndarray, step: int = 4) -> np.ndarray:
    """Gains that make the mean colour of the picture grey, over every ``step``-th pixel that is neither
    among the darkest nor possibly clipped; ``fallback`` when too few such pixels are left."""
    pixels = np.asarray(camera_rgb[::step, ::step], np.float32).reshape(-1, 3)
    brightness = pixels.sum(axis=1)
    usable = (pixels.max(axis=1) < CLIPPED) & (pixels.min(axis=1) > 0)
    if usable.sum() >= _MIN_PIXELS:
        usable &= brightness > np.quantile(brightness[usable], DARKEST_SHARE)
    if usable.sum() < _MIN_PIXELS:
        return fallback
    means = pixels[usable].astype(np.float64).mean(axis=0)
    gains = means[1] / means
    return (gains / gains.min()).astype(np.float32)
