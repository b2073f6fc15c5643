"""The white balance a picture is rendered with: as shot (LibRaw's default), daylight, or estimated.

The network's output is linear camera RGB, not white balanced, so choosing costs no second pass:
``balance_gains`` picks the per-channel gains that ``render`` applies. Under street lights or
candles the camera's as-shot balance often leaves a strong cast; "auto" estimates gains from the
denoised picture, which at high ratios is more accurate than estimating them from the noisy raw
(``benchmarks/white_balance.py`` measures both).
"""

from __future__ import annotations

import enum

import numpy as np

from .errors import InvalidOptionError
from .raw import RawImage


class WhiteBalance(enum.StrEnum):
    CAMERA = "camera"  # the camera's as-shot gains, as LibRaw renders by default
    DAYLIGHT = "daylight"  # the sensor's daylight gains (LibRaw's pre_mul)
    AUTO = "auto"  # grey edge on the denoised picture where it finds a cast (``auto_gains``)

    @classmethod
    def parse(cls, choice: WhiteBalance | str | None) -> WhiteBalance:
        """A white balance from its name; the camera's for None or ""; ``InvalidOptionError`` for any other."""
        try:
            return cls(choice or cls.CAMERA)
        except ValueError:
            raise InvalidOptionError(f"white balance must be one of {', '.join(cls)}, got {choice!r}") from None


CLIPPED = 0.95  # a pixel with a channel this bright may be clipped: its colour says nothing about the light
ANALYSIS_SIDE = 384  # pixels on the long side of the box-averaged picture the edges are taken on
EDGE_POWER = 6  # the Minkowski norm over the edges: 6 leans on the strong ones (van de Weijer et al. 2007)
_MIN_EDGES = 64
# Degrees between the light the camera balanced for and the one grey edge finds: below the first, the camera's
# balance stands (grey edge's own error on a neutral scene is about that large); beyond the second, grey edge's;
# in between, a blend. A sodium lamp or a candle under a daylight or auto as-shot balance is far beyond.
KEEP_CAMERA_BELOW, TRUST_ESTIMATE_ABOVE = 3.0, 10.0


def balance_gains(choice: WhiteBalance, raw: RawImage, camera_rgb: np.ndarray) -> np.ndarray:
    """The R, G, B gains (smallest 1, as LibRaw applies them) to render ``camera_rgb`` with."""
    if choice is WhiteBalance.CAMERA:
        return raw.white_balance
    if choice is WhiteBalance.DAYLIGHT:
        return raw.daylight_balance
    return auto_gains(camera_rgb, raw.white_balance)


def auto_gains(camera_rgb: np.ndarray, camera_gains: np.ndarray) -> np.ndarray:
    """``grey_edge``'s gains where they find a cast the camera's balance left, the camera's where they do not:
    a neutral scene stays as the camera balanced it, a sodium lamp's or a candle's cast is taken off."""
    estimate = grey_edge(camera_rgb, fallback=camera_gains)
    weight = np.clip(
        (light_angle(estimate, camera_gains) - KEEP_CAMERA_BELOW) / (TRUST_ESTIMATE_ABOVE - KEEP_CAMERA_BELOW), 0, 1
    )
    gains = np.exp((1 - weight) * np.log(camera_gains) + weight * np.log(estimate))
    return (gains / gains.min()).astype(np.float32)


def light_angle(gains: np.ndarray, other: np.ndarray) -> float:
    """Degrees between the lights two sets of gains correct for (a light's colour in camera RGB is 1 / gains)."""
    a, b = 1 / np.asarray(gains, np.float64), 1 / np.asarray(other, np.float64)
    return float(np.degrees(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1, 1))))


def grey_edge(camera_rgb: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Gains from the grey-edge hypothesis: the average edge in a scene is grey, so the colour of the
    edges (their L6 mean per channel, between unclipped pixels) is the colour of the light.

    Edges are taken on the picture box-averaged to about ``ANALYSIS_SIDE`` pixels on its long side (2x2
    at least), the same scale of detail for every frame size, which also evens out what noise the
    network left and keeps it fast.
    Unlike grey world (the mean colour is grey, as LibRaw's auto white balance assumes) it does not
    turn a frame filled with a red rose cyan. ``benchmarks/white_balance.py`` measures its error on the
    denoised picture against the same on the noisy raw and against grey world. Where the only strong edge is
    one perfectly sharp line (a drawn chart), the colour fringe the demosaicking leaves along it can pull it off.
    ``fallback`` when there are too few unclipped edges.
    """
    n = max(2, round(max(camera_rgb.shape[:2]) / ANALYSIS_SIDE))
    h, w = camera_rgb.shape[0] // n * n, camera_rgb.shape[1] // n * n
    small = np.asarray(camera_rgb[:h, :w], np.float32).reshape(h // n, n, w // n, n, 3).mean(axis=(1, 3))
    usable = small.max(axis=-1) < CLIPPED
    down, right = np.diff(small, axis=0)[:, :-1], np.diff(small, axis=1)[:-1]
    edges = np.hypot(down, right)
    between_usable = usable[:-1, :-1] & usable[1:, :-1] & usable[:-1, 1:]
    if between_usable.sum() < _MIN_EDGES:
        return fallback
    light = np.power(np.power(edges[between_usable].astype(np.float64), EDGE_POWER).mean(axis=0), 1 / EDGE_POWER)
    if not np.all(light > 0):
        return fallback
    gains = light[1] / light
    return (gains / gains.min()).astype(np.float32)
