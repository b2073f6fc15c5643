"""What you get without seeisp: the dark raw amplified and rendered by LibRaw, with or without its denoising."""

from __future__ import annotations

import os

import numpy as np
import rawpy


def libraw_render(
    path: str | os.PathLike[str],
    ratio: float = 1.0,
    denoise: bool = False,
    white_balance: np.ndarray | None = None,
    half_size: bool = False,
) -> np.ndarray:
    """LibRaw's render (camera WB, sRGB, BT.709 curve, no auto-bright) of the raw amplified by ``ratio``.

    ``denoise`` turns on LibRaw's own noise reduction: FBDD (full) before demosaicking and
    three median-filter passes after it. ``white_balance``: R, G, B gains to use instead of the
    camera's. ``half_size``: LibRaw's half-size demosaicking (one pixel per 2x2 cell; a quarter of the work),
    for a picture to look at on a screen. Returns float32 sRGB in [0, 1].
    """
    with rawpy.imread(str(path)) as raw:
        if ratio != 1.0:
            visible = raw.raw_image_visible
            black = np.asarray(raw.black_level_per_channel, np.float32)[raw.raw_colors_visible]
            amplified = black + (visible.astype(np.float32) - black) * np.float32(ratio)
            visible[:] = np.clip(np.round(amplified), 0, raw.white_level).astype(visible.dtype)
        if white_balance is None:
            balance: dict[str, object] = {"use_camera_wb": True}
        else:
            red, green, blue = map(float, white_balance)
            balance = {"user_wb": [red, green, blue, green]}
        rgb = raw.postprocess(
            **balance,
            no_auto_bright=True,
            adjust_maximum_thr=0,
            output_bps=16,
            fbdd_noise_reduction=rawpy.FBDDNoiseReductionMode.Full if denoise else rawpy.FBDDNoiseReductionMode.Off,
            median_filter_passes=3 if denoise else 0,
            half_size=half_size,
        )
    return rgb.astype(np.float32) / 65535.0
