"""The strength control, as Lightroom's "Amount": the network's picture blended with a lightly denoised naive one.

The naive picture is the raw amplified by the same ratio, its two greens averaged and each colour smoothed over
3x3 half-size pixels: light noise reduction, no network. Both pictures are linear camera RGB in the sensor's
orientation, so the blend is made before rendering and reaches every format, the linear DNG included.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.ndimage import uniform_filter

from ..enhance import EnhanceResult, rggb_mosaic
from ..pack import from_rggb, pack, restore_size
from ..raw import RawImage
from ..render import render

FULL_STRENGTH = 100  # percent: the network's picture alone


def soft_naive(raw: RawImage, ratio: float) -> np.ndarray:
    """(H/2, W/2, 3) linear camera RGB of the raw amplified by ``ratio`` and lightly smoothed, in RGGB orientation."""
    red, green1, green2, blue = pack(rggb_mosaic(raw))
    half = np.stack([red, (green1 + green2) / 2, blue], axis=-1) * np.float32(ratio)
    return uniform_filter(np.clip(half, 0, 1), size=(3, 3, 1), mode="nearest").astype(np.float32)


def full_size(half: np.ndarray, raw: RawImage) -> np.ndarray:
    """``soft_naive``'s picture at the raw's full size and orientation, as the network's camera RGB is."""
    doubled = np.repeat(np.repeat(half, 2, axis=0), 2, axis=1)
    return restore_size(from_rggb(doubled, raw.cfa), raw.mosaic.shape)


def soft_naive_picture(result: EnhanceResult) -> np.ndarray:
    """The lightly denoised naive picture at half size, rendered as the result is (its white balance)."""
    half = soft_naive(result.raw, result.ratio)
    return render(from_rggb(half, result.raw.cfa), result.raw, result.gains)


def with_strength(result: EnhanceResult, percent: float) -> EnhanceResult:
    """The result with its camera RGB blended: ``percent`` of the network's, the rest of the naive picture's."""
    if percent >= FULL_STRENGTH:
        return result
    share = np.float32(max(percent, 0) / 100)
    naive = full_size(soft_naive(result.raw, result.ratio), result.raw)
    camera_rgb = share * result.camera_rgb + (1 - share) * naive
    return dataclasses.replace(result, camera_rgb=camera_rgb, image=render(camera_rgb, result.raw, result.gains))


def blend_previews(seeisp: np.ndarray, naive: np.ndarray, percent: float) -> np.ndarray:
    """Two 8-bit previews of one size blended at ``percent`` of ``seeisp``: what the strength control shows at once."""
    share = min(max(percent, 0), 100) / 100
    mixed = share * seeisp.astype(np.float32) + (1 - share) * naive.astype(np.float32)
    return np.round(mixed).astype(np.uint8)
