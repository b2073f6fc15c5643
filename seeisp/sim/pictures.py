"""Clean pictures on disk: the folders of PNG/JPEG/TIFF/BMP/WebP files that training, calibration and the
benchmark read, as sRGB arrays."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

import imageio.v3 as iio
import numpy as np

from ..errors import PictureReadError, one_line

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}


def list_images(folders: Sequence[str | Path]) -> list[Path]:
    """Every picture file in ``folders`` and their subfolders, sorted within each folder."""
    paths: list[Path] = []
    for folder in folders:
        paths += sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    return paths


def _reason(exc: Exception) -> str:
    """Why a reader failed, in a few words on one line."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    line = one_line(exc)
    if line.startswith("Could not find a backend"):  # imageio: no reader recognises the bytes
        return "unknown or damaged file format"
    return line if len(line) <= 100 else line[:97] + "..."


@contextlib.contextmanager
def _reader_messages_hidden() -> Iterator[None]:
    """Keep tifffile's log lines on damaged files off stderr: a failed read is reported once, as an exception."""
    logger = logging.getLogger("tifffile")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


def _png_bit_depth(path: Path) -> int | None:
    """The bit depth in a PNG's header; None for any other file."""
    with open(path, "rb") as stream:
        head = stream.read(25)
    return head[24] if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR" else None


def _read_png16(path: Path) -> np.ndarray:
    """A 16-bit PNG as (H, W, planes) uint16: Pillow, imageio's reader, turns 16-bit colour into 8 bits."""
    import png  # pypng

    width, height, rows, info = png.Reader(filename=str(path)).asDirect()
    return np.vstack([np.asarray(row, np.uint16) for row in rows]).reshape(height, width, info["planes"])


def load_srgb(path: Path) -> np.ndarray:
    """An 8- or 16-bit picture as (H, W, 3) uint8/uint16 (greyscale repeated, alpha dropped, 1-bit made 8-bit).

    Raises ``PictureReadError``, naming the file, when it is missing, empty or damaged, is no picture at
    all, or is not one 8- or 16-bit picture (floating-point samples, a stack of pages).
    """
    path = Path(path)
    if path.is_dir():
        raise PictureReadError(f"{path}: is a folder, not a picture")
    if not path.exists():
        raise PictureReadError(f"{path}: no such picture")
    if path.is_file() and path.stat().st_size == 0:
        raise PictureReadError(f"{path}: not a picture that can be read (file is empty)")
    try:
        with _reader_messages_hidden():
            image = _read_png16(path) if _png_bit_depth(path) == 16 else iio.imread(path)
    except MemoryError:
        raise
    except Exception as exc:  # Pillow and tifffile fail on damaged files in many ways (OSError, SyntaxError, ...)
        raise PictureReadError(f"{path}: not a picture that can be read ({_reason(exc)})") from exc
    if image.dtype == np.bool_:
        image = image.astype(np.uint8) * np.uint8(255)
    if image.dtype not in (np.uint8, np.uint16):
        raise PictureReadError(f"{path}: {image.dtype} samples; only 8- and 16-bit pictures can be read")
    if image.ndim == 3 and image.shape[2] in (1, 2):  # grey, grey + alpha
        image = image[..., 0]
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise PictureReadError(f"{path}: not a single picture (pixel array of shape {image.shape})")
    return image[..., :3]


def to_unit(image: np.ndarray) -> np.ndarray:
    """An integer picture as float32 in [0, 1]."""
    return image.astype(np.float32) / np.float32(np.iinfo(image.dtype).max)
