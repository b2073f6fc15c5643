"""Render linear camera RGB to an sRGB picture exactly as LibRaw does (camera WB, sRGB, no auto-bright).

LibRaw's steps: white-balance gains (smallest = 1), clip at 1, demosaic, camera-to-sRGB
matrix, clip, BT.709 transfer curve (power 1/2.222, slope 4.5 below 0.018). seeisp's
network replaces the demosaic step; everything else here follows LibRaw.
"""

from __future__ import annotations

import numpy as np

from .raw import Flip, RawImage

GAMMA = 1 / 2.222  # LibRaw's default gamm[0]; 0.45 would be the textbook BT.709 value
TOE_SLOPE = 4.5
# Where the linear toe meets the power curve for LibRaw's (2.222, 4.5) pair.
TOE_END = 0.018053968510807
POWER_SCALE = 1.099296826809442

# sRGB (D65) -> XYZ.
RGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)


def bt709_encode(linear: np.ndarray) -> np.ndarray:
    """Linear [0, 1] -> BT.709-encoded [0, 1] with LibRaw's default gamma (2.222, 4.5)."""
    linear = np.clip(linear, 0.0, 1.0)
    curve = POWER_SCALE * np.power(np.maximum(linear, TOE_END), GAMMA) - (POWER_SCALE - 1)
    return np.where(linear < TOE_END, linear * TOE_SLOPE, curve).astype(np.float32)


def bt709_decode(encoded: np.ndarray) -> np.ndarray:
    """Inverse of ``bt709_encode``: encoded [0, 1] -> linear [0, 1]."""
    encoded = np.clip(encoded, 0.0, 1.0)
    toe = TOE_END * TOE_SLOPE
    curve = np.power((np.maximum(encoded, toe) + (POWER_SCALE - 1)) / POWER_SCALE, 1 / GAMMA)
    return np.where(encoded < toe, encoded / TOE_SLOPE, curve).astype(np.float32)


def camera_to_linear_srgb(camera_rgb: np.ndarray, white_balance: np.ndarray, camera_to_srgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) camera RGB -> linear sRGB in [0, 1]: WB gains, clip, colour matrix, clip."""
    balanced = np.clip(camera_rgb * np.asarray(white_balance, np.float32), 0.0, 1.0)
    return np.clip(balanced @ np.asarray(camera_to_srgb, np.float32).T, 0.0, 1.0)


def orient(image: np.ndarray, flip: Flip) -> np.ndarray:
    """Turn a sensor-oriented (H, W, ...) image the way LibRaw does for display."""
    if flip == Flip.ROTATE_180:
        return image[::-1, ::-1]
    if flip == Flip.ROTATE_90_CCW:
        return np.rot90(image, 1)
    if flip == Flip.ROTATE_90_CW:
        return np.rot90(image, -1)
    return image


_STRIP_ROWS = 256  # rendered a strip at a time: the per-pixel temporaries stay small on 24 MP frames


def render(camera_rgb: np.ndarray, raw: RawImage, white_balance: np.ndarray | None = None) -> np.ndarray:
    """Linear camera RGB in the raw's sensor orientation -> display-ready sRGB float32 in [0, 1].

    ``white_balance``: R, G, B gains (``seeisp.white_balance``); the camera's as-shot ones by default.
    """
    gains = raw.white_balance if white_balance is None else white_balance
    out = np.empty(camera_rgb.shape, np.float32)
    for y in range(0, camera_rgb.shape[0], _STRIP_ROWS):
        strip = camera_rgb[y : y + _STRIP_ROWS]
        out[y : y + _STRIP_ROWS] = bt709_encode(camera_to_linear_srgb(strip, gains, raw.camera_to_srgb))
    return np.ascontiguousarray(orient(out, raw.flip))
