"""Write finished sRGB images as PNG (8/16-bit), TIFF (8/16-bit) or JPEG, and camera RGB as DNG, atomically.

    write_image("dark.png", result.image)            # 8-bit PNG
    write_image("dark.tif", result.image)            # 16-bit TIFF, uncompressed
    write_image("dark.tif", result.image, compress=True)  # 16-bit TIFF, zlib: smaller, slower
    write_image("dark.png", result.image, bits=16)   # 16-bit PNG
    write_camera_dng("dark-seeisp.dng", result.camera_rgb, result.raw, result.gains)  # for a raw editor

The file appears complete or not at all: it is written to a hidden temporary file in the same
folder and moved into place with ``os.replace``. Every file carries an ICC profile of its colours
(``seeisp.metadata.icc_profile``); given the raw's ``Shot``, it also carries the shot's EXIF.

A DNG holds the network's linear camera RGB (denoised, demosaicked, amplified) with the raw's colour
matrix, white balance and orientation, so a raw editor (or LibRaw) develops it as it would the raw,
and white balance and exposure stay free to change there. LibRaw renders it as ``seeisp.render`` does.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .dng import ORIENTATION_OF_FLIP, linear_dng_tags, write_tiff, xyz_to_camera_for
from .errors import OutputError
from .metadata import TagValue, exif_bytes, exif_tags, icc_profile, tiff_tags
from .raw import DNG_OUTPUT_SUFFIX, LINEAR_RAW, RawImage, Shot
from .writable import check_writable, staged_file

Tags = dict[str, dict[int, TagValue]]

# suffix -> format name
FORMATS: dict[str, str] = {
    ".png": "png",
    ".tif": "tiff",
    ".tiff": "tiff",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".dng": "dng",
}
# format name -> what new files' names end with
SUFFIXES: dict[str, str] = {"png": ".png", "tiff": ".tif", "jpeg": ".jpg", "dng": DNG_OUTPUT_SUFFIX}
BITS: dict[str, tuple[int, ...]] = {"png": (8, 16), "tiff": (16, 8), "jpeg": (8,), "dng": (16,)}  # first = default
JPEG_QUALITY = 95
QUANTIZE_ROWS = 256  # quantise this many rows at a time: float temporaries stay a strip, not a frame


def format_of(path: str | os.PathLike[str]) -> str:
    """The format name for a file name's suffix; ``OutputError`` when it is not an image format we write."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(sorted(FORMATS))
        raise OutputError(f"{path}: unknown image format {suffix or '(no suffix)'!r}; use one of {known}")
    return FORMATS[suffix]


def check_bits(fmt: str, bits: int | None) -> int:
    """The bit depth to write ``fmt`` with: ``bits``, or the format's default when None."""
    if bits is None:
        return BITS[fmt][0]
    if bits not in BITS[fmt]:
        allowed = " or ".join(str(b) for b in sorted(BITS[fmt]))
        raise OutputError(f"{fmt.upper()} is written with {allowed} bits per channel, not {bits!r}")
    return bits


def quantize(image: np.ndarray, bits: int) -> np.ndarray:
    """Float image in [0, 1] (clipped, NaN -> 0) -> uint8 or uint16, rounded to nearest.

    Works through ``QUANTIZE_ROWS`` rows at a time: every step is per pixel, so the result is the
    same as over the whole frame, without whole-frame float temporaries.
    """
    image = np.asarray(image)
    pixels = np.empty(image.shape, np.uint8 if bits == 8 else np.uint16)
    for start in range(0, image.shape[0], QUANTIZE_ROWS):
        rows = slice(start, start + QUANTIZE_ROWS)
        pixels[rows] = _quantize_strip(image[rows], (1 << bits) - 1)
    return pixels


def _quantize_strip(strip: np.ndarray, top: int) -> np.ndarray:
    # float32 at least: top = 65535 overflows float16
    scaled = np.nan_to_num(strip.astype(np.result_type(strip.dtype, np.float32)), nan=0.0, copy=False)
    np.clip(scaled, 0.0, 1.0, out=scaled)
    scaled *= top
    return np.rint(scaled, out=scaled)


def write_image(
    path: str | os.PathLike[str],
    image: np.ndarray,
    bits: int | None = None,
    *,
    compress: bool = False,
    shot: Shot | None = None,
    description: str = "",
) -> Path:
    """Write an (H, W, 3) float sRGB image in [0, 1]; the format comes from the suffix.

    ``shot`` (the raw's capture details) and ``description`` (how the picture was made) are written
    as EXIF; without a shot the file has no EXIF.

    ``compress`` zlib-compresses a TIFF (with the horizontal predictor): the noise-like low bits of a
    16-bit picture barely shrink and compressing takes seconds per frame, so TIFFs are uncompressed by default.
    PNG and JPEG are always compressed; for them ``compress`` changes nothing.

    Raises ``OutputError`` for an unknown suffix, a bit depth the format lacks, or a path that
    ``seeisp.writable.check_writable`` refuses (a folder, a camera raw, a folder missing or not writable).
    Never leaves a partial file behind.
    """
    path = Path(path)
    fmt = format_of(path)
    if fmt == "dng":
        raise OutputError(f"{path}: a DNG holds camera RGB, not a finished picture (write_camera_dng writes it)")
    depth = check_bits(fmt, bits)
    pixels = quantize(_three_channels(image, "image"), depth)
    tags = exif_tags(shot, description) if shot is not None else None
    return _write_atomically(path, lambda stream: _WRITERS[fmt](stream, pixels, compress, tags))


def write_camera_dng(
    path: str | os.PathLike[str],
    camera_rgb: np.ndarray,
    raw: RawImage,
    gains: np.ndarray | None = None,
    *,
    description: str = "",
) -> Path:
    """Write linear camera RGB (H, W, 3) in sensor orientation, 1 = the raw's white, as a 16-bit linear DNG.

    It carries ``raw``'s colour matrix, orientation and shot (as EXIF), and ``gains`` (R, G, B; None: the
    raw's as-shot ones) as its as-shot white balance. Raises ``OutputError`` as ``write_image`` does.
    """
    path = Path(path)
    if format_of(path) != "dng":
        raise OutputError(f"{path}: a DNG is written to a .dng file")
    pixels = quantize(_three_channels(camera_rgb, "camera_rgb"), 16)
    balance = np.asarray(raw.white_balance if gains is None else gains, np.float64)
    tags = linear_dng_tags(
        xyz_to_camera=xyz_to_camera_for(raw.camera_to_srgb),
        as_shot_neutral=balance.min() / balance,
        orientation=ORIENTATION_OF_FLIP[raw.flip.value],
        camera=f"seeisp {raw.shot.camera}".strip(),
    )
    exif = tiff_tags(exif_tags(raw.shot, description))
    software = next(value for code, _, _, value, _ in exif if code == 0x0131)  # tifffile writes it
    extratags = tags + [tag for tag in exif if tag[0] != 0x0131]
    return _write_atomically(path, lambda stream: write_tiff(stream, pixels, LINEAR_RAW, extratags, software))


def _three_channels(image: np.ndarray, name: str) -> np.ndarray:
    """``image`` as an array; ``ValueError`` unless it is (H, W, 3) with at least one pixel."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < 1:
        raise ValueError(f"{name} must be (H, W, 3), got shape {image.shape}")
    return image


def _write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> Path:
    """Run ``write`` on a hidden temporary file beside ``path``, then move it into place; ``OutputError`` if it
    cannot be written. Never leaves a partial file behind."""
    check_writable(path, overwrite=True)  # again at write time: a library caller may not have asked before its work
    try:
        with staged_file(path) as temp, open(temp, "wb") as stream:
            write(stream)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write it ({exc.strerror or exc})") from None
    return path


def _write_png(stream: BinaryIO, pixels: np.ndarray, compress: bool, tags: Tags | None) -> None:
    import png  # pypng: Pillow cannot write 16-bit RGB PNG

    chunks = [(b"iCCP", b"seeisp\x00\x00" + zlib.compress(icc_profile()))]  # name, 0, zlib (method 0)
    if tags is not None:
        chunks.append((b"eXIf", exif_bytes(tags).removeprefix(b"Exif\x00\x00")))

    class TaggedWriter(png.Writer):
        def write_preamble(self, outfile: BinaryIO) -> None:  # the chunks go after IHDR, before the pixels
            super().write_preamble(outfile)
            for tag, data in chunks:
                png.write_chunk(outfile, tag, data)

    h, w, _ = pixels.shape
    writer = TaggedWriter(w, h, greyscale=False, bitdepth=8 * pixels.itemsize)
    rows = pixels.astype(pixels.dtype.newbyteorder(">"), copy=False).reshape(h, -1).view(np.uint8)
    writer.write_packed(stream, rows)


def _write_tiff(stream: BinaryIO, pixels: np.ndarray, compress: bool, tags: Tags | None) -> None:
    import tifffile

    packing = {"compression": "zlib", "predictor": True} if compress else {"compression": None}
    extratags = tiff_tags(tags) if tags is not None else []
    software = next((value for code, _, _, value, _ in extratags if code == 0x0131), None)  # tifffile writes it
    tifffile.imwrite(
        stream,
        pixels,
        photometric="rgb",
        metadata=None,
        iccprofile=icc_profile(),
        software=software,
        extratags=[tag for tag in extratags if tag[0] != 0x0131],
        **packing,
    )


def _write_jpeg(stream: BinaryIO, pixels: np.ndarray, compress: bool, tags: Tags | None) -> None:
    import imageio.v3 as iio

    extra = {"exif": exif_bytes(tags)} if tags is not None else {}
    iio.imwrite(stream, pixels, extension=".jpg", quality=JPEG_QUALITY, icc_profile=icc_profile(), **extra)


# (stream, pixels, compress, EXIF tags or None)
_WRITERS: dict[str, Callable[[BinaryIO, np.ndarray, bool, Tags | None], None]] = {
    "png": _write_png,
    "tiff": _write_tiff,
    "jpeg": _write_jpeg,
}
