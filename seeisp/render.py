"""Render linear camera RGB to an sRGB picture exactly as LibRaw does (camera WB, sRGB, no auto-bright).

LibRaw's steps: white-balance gains (smallest = 1), clip at 1, demosaic, camera-to-sRGB
matrix, clip, BT.709 transfer curve (power 1/2.222, slope 4.5 below 0.018). seeisp's
network replaces the demosaic step; everything else here follows LibRaw, and ``clip_highlights``
moves LibRaw's clip to before the network, where it belongs for a network's input.
"""

from __future__ import annotations

import numpy as np

from .noise_level import box_mean
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


HIGHLIGHT_BOX = 5  # sites of one colour per side of the local mean that decides whether a colour is blown
HIGHLIGHT_REACH = 2  # sites around such a mean clipped too: thin dark lines between blown areas, edges
NEARLY_WHITE = (0.5, 0.9)  # of white: a blown colour the network drew this bright is raised to white, in a ramp
_RGGB_SITES = (((0, 0), 0), ((0, 1), 1), ((1, 0), 1), ((1, 1), 2))  # (row, column) in the cell, colour


def white_levels(white_balance: np.ndarray, ratio: float) -> np.ndarray:
    """R, G, B: the camera-RGB level at which each colour renders white with these gains, in the raw's scale
    before amplification by ``ratio`` (the render clips every colour at 1 after its gain, as LibRaw does)."""
    gains = np.asarray(white_balance, np.float64)
    return (gains.min() / gains / ratio).astype(np.float32)


def blown_sites(mosaic_rggb: np.ndarray, white_balance: np.ndarray, ratio: float) -> np.ndarray:
    """(4, H/2, W/2) for the R, G1, G2, B sites of an RGGB mosaic: whether the colour's local mean
    (``HIGHLIGHT_BOX`` sites of it per side), amplified by ``ratio``, is at or above the level that renders
    white. A mean, not single sites: noise alone must not make a mid-tone blown."""
    whites = white_levels(white_balance, ratio)
    return np.stack([_local_mean(mosaic_rggb[dy::2, dx::2]) >= whites[channel] for (dy, dx), channel in _RGGB_SITES])


def clip_highlights(mosaic_rggb: np.ndarray, white_balance: np.ndarray, ratio: float) -> np.ndarray:
    """An RGGB mosaic whose colours are clipped, around where they render white (``blown_sites``), at that white.

    LibRaw clips every channel at the same white after the white-balance gains, so whatever clipped, in the
    sensor or by amplification, renders white. The network's input is clipped before any gain, at 1 in every
    channel: a blown area reaches it as camera-RGB white, which the gains (green's the smallest) turn magenta,
    and the network spreads that colour into the dark lines and edges around it. Clipped at the level each
    colour renders white at instead, it is handed the white the picture will show. Only around blown areas
    (``HIGHLIGHT_REACH`` sites): elsewhere, clipping single noisy sites would darken mid-tones.
    """
    whites = white_levels(white_balance, ratio)
    out = mosaic_rggb.copy()
    for blown, ((dy, dx), channel) in zip(blown_sites(mosaic_rggb, white_balance, ratio), _RGGB_SITES, strict=True):
        sites = out[dy::2, dx::2]
        near = _dilate(blown, HIGHLIGHT_REACH)
        sites[near] = np.minimum(sites[near], whites[channel])
    return out


def whiten_blown(
    camera_rgb: np.ndarray, mosaic_rggb: np.ndarray, white_balance: np.ndarray, ratio: float
) -> np.ndarray:
    """The network's camera RGB (H, W, 3, RGGB orientation, even size) with every colour that is blown in its
    input (``blown_sites``) and that the network already took close to white raised the rest of the way: never
    trained beyond white, it stops a little short, and the colours it leaves short tint what should be white.
    Only close to white (a ramp over ``NEARLY_WHITE``): where it drew a blown colour darker, as in fine lines
    between blown areas, raising that colour alone would tint them instead."""
    blown = np.repeat(np.repeat(blown_sites(mosaic_rggb, white_balance, ratio), 2, axis=1), 2, axis=2)
    by_colour = (blown[0], blown[1] | blown[2], blown[3])
    whites = white_levels(white_balance, 1.0)
    out = camera_rgb.copy()
    low, high = NEARLY_WHITE
    for channel, mask in enumerate(by_colour):
        values = out[..., channel][mask]
        closeness = np.clip((values / whites[channel] - low) / (high - low), 0, 1)
        out[..., channel][mask] = values + closeness * np.maximum(whites[channel] - values, 0)
    return out


def _local_mean(sites: np.ndarray) -> np.ndarray:
    """The float32 mean of one colour's sites over ``HIGHLIGHT_BOX`` of them per side, of those inside the frame."""
    return box_mean(sites[None], HIGHLIGHT_BOX)[0].astype(np.float32)


def _dilate(mask: np.ndarray, reach: int) -> np.ndarray:
    """``mask`` grown by ``reach`` pixels in each direction (a square)."""
    grown = mask.copy()
    for axis in (0, 1):
        source = grown.copy()
        for step in range(1, reach + 1):
            for shift in (step, -step):
                moved = np.roll(source, shift, axis=axis)
                edge = [slice(None)] * 2
                edge[axis] = slice(0, shift) if shift > 0 else slice(shift, None)
                moved[tuple(edge)] = False
                grown |= moved
    return grown


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
