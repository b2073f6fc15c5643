"""Bring any Bayer phase to RGGB, pack it to four half-resolution channels, and amplify it.

Phases are canonicalised by mirroring, which is exact and keeps the frame size: mirroring a
GRBG mosaic left-right makes it RGGB, and the network's output is mirrored back. Odd
frame sizes are trimmed to even for the network and the last row/column is restored after.
"""

from __future__ import annotations

import numpy as np

from .raw import CFA

# Which axes to mirror so that the top-left 2x2 cell reads R G / G B.
_MIRROR_AXES: dict[CFA, tuple[int, ...]] = {
    CFA.RGGB: (),
    CFA.GRBG: (1,),
    CFA.GBRG: (0,),
    CFA.BGGR: (0, 1),
}


def even_crop(mosaic: np.ndarray) -> np.ndarray:
    """Trim a last row and/or column so both sides are even (a whole number of 2x2 cells)."""
    h, w = mosaic.shape[:2]
    return mosaic[: h - h % 2, : w - w % 2]


def to_rggb(mosaic: np.ndarray, cfa: CFA) -> np.ndarray:
    """Mirror an even-sized mosaic of any phase so that it reads RGGB."""
    axes = _MIRROR_AXES[cfa]
    return np.flip(mosaic, axes) if axes else mosaic


def from_rggb(image: np.ndarray, cfa: CFA) -> np.ndarray:
    """Undo ``to_rggb`` on an image (H, W, ...) computed from the mirrored mosaic."""
    return to_rggb(image, cfa)  # mirroring is its own inverse


def restore_size(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Pad an (H, W, C) image trimmed by ``even_crop`` back to ``shape`` by repeating its edge."""
    dh, dw = shape[0] - image.shape[0], shape[1] - image.shape[1]
    if dh == 0 and dw == 0:
        return image
    return np.pad(image, ((0, dh), (0, dw), (0, 0)), mode="edge")


def pack(mosaic_rggb: np.ndarray) -> np.ndarray:
    """(H, W) RGGB mosaic -> (4, H/2, W/2) channels in the order R, G1, G2, B."""
    return np.stack(
        [mosaic_rggb[0::2, 0::2], mosaic_rggb[0::2, 1::2], mosaic_rggb[1::2, 0::2], mosaic_rggb[1::2, 1::2]]
    )


def unpack(packed: np.ndarray) -> np.ndarray:
    """(4, h, w) R, G1, G2, B channels -> (2h, 2w) RGGB mosaic; the inverse of ``pack``."""
    _, h, w = packed.shape
    mosaic = np.empty((2 * h, 2 * w), dtype=packed.dtype)
    mosaic[0::2, 0::2], mosaic[0::2, 1::2], mosaic[1::2, 0::2], mosaic[1::2, 1::2] = packed
    return mosaic


# The network's input range. SID clips at 0 too; keeping the noise below black (as ELD does)
# leaves the input unbiased in the shadows, where clipping would add a large positive offset.
INPUT_RANGE = (-1.0, 1.0)


def amplify(packed: np.ndarray, ratio: float, input_range: tuple[float, float] = INPUT_RANGE) -> np.ndarray:
    """Multiply by the exposure ratio and clip to the network's input range (``ModelSession.input_range``),
    as the network was trained."""
    return np.clip(packed * np.float32(ratio), *input_range).astype(np.float32, copy=False)
