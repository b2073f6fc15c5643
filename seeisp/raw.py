"""Read a Bayer raw through LibRaw (rawpy) into a normalised mosaic plus the metadata needed to render it."""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rawpy
import tifffile

from .errors import RawReadError, UnsupportedSensorError


class CFA(enum.Enum):
    """The colour of the 2x2 cells of a Bayer mosaic, read row by row from the top-left pixel."""

    RGGB = "RGGB"
    BGGR = "BGGR"
    GRBG = "GRBG"
    GBRG = "GBRG"


class Flip(enum.IntEnum):
    """LibRaw's orientation code (``sizes.flip``): how the sensor image is turned for display."""

    NONE = 0
    ROTATE_180 = 3
    ROTATE_90_CCW = 5
    ROTATE_90_CW = 6


@dataclass(frozen=True)
class RawImage:
    """A Bayer raw, black-subtracted and scaled so that 0 is black and 1 the sensor's white level.

    ``mosaic`` is float32 (H, W) and not clipped: noise below black stays negative.
    ``white_balance`` holds the camera's as-shot R, G, B gains, scaled so the smallest is 1
    (as LibRaw applies them). ``camera_to_srgb`` maps white-balanced camera RGB to linear sRGB.
    """

    mosaic: np.ndarray
    cfa: CFA
    white_balance: np.ndarray
    camera_to_srgb: np.ndarray
    flip: Flip = Flip.NONE
    camera: str = ""
    exposure_time: float | None = None
    iso: float | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of the rendered image, after orientation."""
        h, w = self.mosaic.shape
        return (w, h) if self.flip in (Flip.ROTATE_90_CCW, Flip.ROTATE_90_CW) else (h, w)


# LibRaw colour indices in raw_pattern: 0 red, 1 green, 2 blue, 3 second green.
_PATTERN_LETTERS = "RGBG"


def read_raw(path: str | os.PathLike[str]) -> RawImage:
    """Open any Bayer raw LibRaw understands. Raises ``RawReadError`` or ``UnsupportedSensorError``."""
    path = Path(path)
    if not path.exists():
        raise RawReadError(f"{path}: no such file")
    if path.is_dir():
        raise RawReadError(f"{path}: is a folder, not a raw file")
    if path.stat().st_size == 0:
        raise RawReadError(f"{path}: file is empty")
    try:
        with rawpy.imread(str(path)) as raw:
            return _from_rawpy(raw, path)
    except rawpy.LibRawFileUnsupportedError:
        raise RawReadError(f"{path}: not a raw image LibRaw can read") from None
    except rawpy.LibRawIOError:
        raise RawReadError(f"{path}: cannot be read (truncated or damaged raw file)") from None
    except rawpy.LibRawError as exc:
        raise RawReadError(f"{path}: LibRaw failed to decode it ({type(exc).__name__})") from None


def _from_rawpy(raw: rawpy.RawPy, path: Path) -> RawImage:
    cfa = _bayer_cfa(raw, path)
    visible = raw.raw_image_visible
    if visible is None or visible.ndim != 2 or min(visible.shape) < 2:
        raise UnsupportedSensorError(f"{path}: no Bayer mosaic in this raw")

    colors = raw.raw_colors_visible
    black = np.asarray(raw.black_level_per_channel, dtype=np.float32)[colors]
    white = float(raw.white_level)
    if white <= float(black.max()):
        raise RawReadError(f"{path}: white level {white:g} is not above the black level")
    mosaic = (visible.astype(np.float32) - black) / (white - black)

    # A truncated file often decodes to an all-zero tail: reject frames whose rows are empty below a point.
    if visible.shape[0] >= 16 and not visible[-max(1, visible.shape[0] // 8) :].any() and visible.any():
        raise RawReadError(f"{path}: image data ends early (truncated raw file)")

    other = raw.other
    return RawImage(
        mosaic=mosaic,
        cfa=cfa,
        white_balance=_white_balance(raw),
        camera_to_srgb=_camera_to_srgb(raw),
        flip=Flip(raw.sizes.flip) if raw.sizes.flip in Flip._value2member_map_ else Flip.NONE,
        camera=_camera_name(path),
        exposure_time=float(other.shutter_speed) if other.shutter_speed > 0 else None,
        iso=float(other.iso_speed) if other.iso_speed > 0 else None,
    )


def _bayer_cfa(raw: rawpy.RawPy, path: Path) -> CFA:
    pattern = raw.raw_pattern
    if pattern is None or raw.raw_type != rawpy.RawType.Flat:
        raise UnsupportedSensorError(f"{path}: no Bayer pattern (Foveon, sRAW or linear DNG); seeisp needs a Bayer raw")
    if raw.num_colors == 1 or pattern.shape == (1, 1):
        raise UnsupportedSensorError(f"{path}: monochrome sensor; seeisp needs a colour Bayer raw")
    if pattern.shape != (2, 2):
        raise UnsupportedSensorError(
            f"{path}: {pattern.shape[0]}x{pattern.shape[1]} colour filter (X-Trans?); seeisp needs a 2x2 Bayer raw"
        )
    desc = raw.color_desc.decode("ascii", "replace")
    letters = "".join(desc[i] if i < len(desc) else "?" for i in pattern.ravel())
    try:
        return CFA(letters)
    except ValueError:
        raise UnsupportedSensorError(f"{path}: colour filter {letters} is not an RGB Bayer pattern") from None


def _white_balance(raw: rawpy.RawPy) -> np.ndarray:
    gains = np.asarray(raw.camera_whitebalance[:3], dtype=np.float64)
    if not np.all(gains > 0):
        gains = np.asarray(raw.daylight_whitebalance[:3], dtype=np.float64)
    if not np.all(gains > 0):
        gains = np.ones(3)
    return (gains / gains.min()).astype(np.float32)


def _camera_to_srgb(raw: rawpy.RawPy) -> np.ndarray:
    matrix = np.asarray(raw.color_matrix, dtype=np.float64)[:3, :3]
    if not np.any(matrix):
        return np.eye(3, dtype=np.float32)  # old cameras without a matrix: LibRaw keeps camera RGB as is
    return matrix.astype(np.float32)


def _camera_name(path: Path) -> str:
    """Make and model from the TIFF header that most raw formats (DNG, ARW, NEF, CR2, ...) share.

    rawpy does not expose LibRaw's make/model, so non-TIFF formats (CR3, RAF) get an empty name.
    """
    try:
        with tifffile.TiffFile(path) as tif:
            tags = tif.pages.first.tags
            parts = [str(tags[name].value).strip("\x00 ") for name in ("Make", "Model") if name in tags]
    except Exception:  # noqa: BLE001 - any header we cannot parse simply has no name
        return ""
    make, model = (parts + ["", ""])[:2]
    return model if model.lower().startswith(make.lower()) else f"{make} {model}".strip()
