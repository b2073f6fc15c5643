"""Clean pictures on disk: the folders of PNG/JPEG/TIFF/BMP/WebP files that training, calibration and the
benchmark read, as sRGB arrays."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import imageio.v3 as iio
import numpy as np

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}


def list_images(folders: Sequence[str | Path]) -> list[Path]:
    """Every picture in ``folders`` and their subfolders, sorted within each folder."""
    paths: list[Path] = []
    for folder in folders:
        paths += sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    return paths


def load_srgb(path: Path) -> np.ndarray:
    """An 8- or 16-bit picture as (H, W, 3) uint8/uint16 (greyscale repeated, alpha dropped)."""
    image = iio.imread(path)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return image[..., :3]


def to_unit(image: np.ndarray) -> np.ndarray:
    """An integer picture as float32 in [0, 1]."""
    return image.astype(np.float32) / np.float32(np.iinfo(image.dtype).max)
