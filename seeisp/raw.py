"""Read a Bayer raw through LibRaw (rawpy) into a normalised mosaic plus the metadata needed to render it."""

from __future__ import annotations

import contextlib
import enum
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
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

    def sites(self) -> tuple[tuple[int, int, int], ...]:
        """(row, column, channel) of each site of the 2x2 cell, the channel 0, 1 or 2 for R, G or B."""
        return tuple((index // 2, index % 2, "RGB".index(colour)) for index, colour in enumerate(self.value))


class Flip(enum.IntEnum):
    """LibRaw's orientation code (``sizes.flip``): how the sensor image is turned for display."""

    NONE = 0
    ROTATE_180 = 3
    ROTATE_90_CCW = 5
    ROTATE_90_CW = 6


@dataclass(frozen=True)
class Shot:
    """The capture metadata of one raw; fields the raw does not record are empty."""

    make: str = ""
    model: str = ""
    lens: str = ""
    taken: datetime | None = None
    exposure_time: float | None = None  # seconds
    f_number: float | None = None
    iso: float | None = None
    focal_length: float | None = None  # mm
    artist: str = ""

    @property
    def camera(self) -> str:
        """Make and model as people write them: "Sony ILCE-7SM2", not "SONY SONY ILCE-7SM2"."""
        if self.model.lower().startswith(self.make.lower()):
            return self.model
        return f"{self.make} {self.model}".strip()


def _no_gains() -> np.ndarray:
    return np.ones(3, np.float32)


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
    shot: Shot = Shot()
    # The sensor's daylight gains, smallest 1 (``seeisp.white_balance``).
    daylight_balance: np.ndarray = field(default_factory=_no_gains)

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of the rendered image, after orientation."""
        h, w = self.mosaic.shape
        return (w, h) if self.flip in (Flip.ROTATE_90_CCW, Flip.ROTATE_90_CW) else (h, w)


# The raw formats LibRaw reads (rawpy publishes no list; these are the suffixes of the cameras LibRaw supports);
# folders, globs and the web page pick files by these suffixes, in any case.
RAW_FORMATS = (
    "arw nef nrw cr2 cr3 dng orf rw2 pef raf srw 3fr iiq rwl x3f erf mef mos kdc dcr"
    " crw sr2 srf mrw fff raw ari bay cap dcs drf eip gpr k25 mdc ori ptx pxn rwz sti"
)
RAW_EXTENSIONS = frozenset(f".{name}" for name in RAW_FORMATS.split())
DNG_OUTPUT_SUFFIX = "-seeisp.dng"  # how seeisp names a linear DNG it writes: "IMG_1.DNG" -> "IMG_1-seeisp.dng"
LINEAR_RAW = 34892  # the PhotometricInterpretation of a demosaicked ("linear") DNG


def is_raw_name(path: str | os.PathLike[str]) -> bool:
    """Whether a file's name says raw: a raw suffix, and not a DNG that seeisp wrote (demosaicked, not a raw)."""
    name = Path(path).name.lower()
    return Path(name).suffix in RAW_EXTENSIONS and not name.endswith(DNG_OUTPUT_SUFFIX)


def is_seeisp_dng(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a linear (demosaicked) DNG that seeisp wrote (``--format dng``): a developed picture
    whatever its name, never a raw to enhance."""
    try:
        with tifffile.TiffFile(path) as tif:
            tags = tif.pages.first.tags
            photometric, camera = tags.get(262), tags.get(50708)  # PhotometricInterpretation, UniqueCameraModel
            return (
                photometric is not None
                and int(photometric.value) == LINEAR_RAW
                and camera is not None
                and str(camera.value).startswith("seeisp")
            )
    except Exception:  # not a TIFF-based file at all
        return False


def holds_camera_raw(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a file LibRaw opens as a camera's raw (of any sensor, damaged or not) that seeisp did
    not develop: a file seeisp must never write over."""
    path = Path(path)
    # LibRaw also opens some JPEGs (those a Nikon or Panasonic EXIF names): ask it only about raw-like files.
    if not path.is_file() or not _has_raw_header(path) or is_seeisp_dng(path):
        return False
    raw = rawpy.RawPy()
    try:
        with _libraw_messages_hidden(path):
            raw.open_file(str(path))  # the header only: cheap
        return True
    except rawpy.LibRawError:
        return False
    finally:
        raw.close()


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
        with _libraw_messages_hidden(path), rawpy.imread(str(path)) as raw:
            return _from_rawpy(raw, path)
    except rawpy.LibRawFileUnsupportedError:
        raise RawReadError(f"{path}: not a raw image LibRaw can read") from None
    except rawpy.LibRawIOError:
        if not _has_raw_header(path):  # LibRaw also reports a short non-raw file as an I/O error
            raise RawReadError(f"{path}: not a raw image LibRaw can read") from None
        raise RawReadError(f"{path}: cannot be read (truncated or damaged raw file)") from None
    except rawpy.LibRawError as exc:
        raise RawReadError(f"{path}: LibRaw failed to decode it ({type(exc).__name__})") from None


_STDERR_SWAP = threading.Lock()

# How the common raw formats begin: TIFF-based ones (DNG, NEF, ARW, CR2, PEF, ...), ORF, RW2, RAF, X3F, MRW.
_RAW_MAGICS = (b"II*\x00", b"MM\x00*", b"IIRO", b"IIRS", b"MMOR", b"IIU\x00", b"FUJIFILM", b"FOVb", b"\x00MRM")


def _has_raw_header(path: Path) -> bool:
    """Whether the file starts like a raw image (so a read error means damage, not a wrong file type)."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(16)
    except OSError:
        return False
    return head.startswith(_RAW_MAGICS) or head[4:8] == b"ftyp" or head[6:14] == b"HEAPCCDR"  # CR3, CRW


@contextlib.contextmanager
def _libraw_messages_hidden(path: Path) -> Iterator[None]:
    """Keep LibRaw's own C-level line ('<file>: Unexpected end of file') off stderr when reading fails.

    Our exception says the same in one line. Anything else written to stderr meanwhile (other
    threads), and LibRaw's warnings when the read succeeds, are passed on afterwards. The lock
    keeps two threads from swapping file descriptor 2 at once, which would lose stderr for good.
    """
    with _STDERR_SWAP, tempfile.TemporaryFile() as sink:
        try:
            saved = os.dup(2)
        except OSError:  # no stderr to protect
            yield
            return
        sys.stderr.flush()
        os.dup2(sink.fileno(), 2)
        failed = True
        try:
            yield
            failed = False
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines = sink.read().decode(errors="replace").splitlines(keepends=True)
            kept = [line for line in lines if not (failed and line.startswith(f"{path}: "))]
            if kept:
                sys.stderr.write("".join(kept))


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

    as_shot, daylight = _gains(raw.camera_whitebalance), _gains(raw.daylight_whitebalance)
    daylight = daylight if daylight is not None else _no_gains()
    return RawImage(
        mosaic=mosaic,
        cfa=cfa,
        white_balance=as_shot if as_shot is not None else daylight,  # as LibRaw falls back, then no gains
        camera_to_srgb=_camera_to_srgb(raw),
        flip=Flip(raw.sizes.flip) if raw.sizes.flip in Flip._value2member_map_ else Flip.NONE,
        shot=_shot(raw, path),
        daylight_balance=daylight,
    )


def _shot(raw: rawpy.RawPy, path: Path) -> Shot:
    make, model = _make_and_model(path)
    try:
        other = raw.other
        lens = getattr(raw, "lens", None)  # not in older rawpy
    except (ValueError, OverflowError, OSError):  # a capture time beyond what datetime holds, say
        return Shot(make=make, model=model)
    stamp = other.timestamp

    def positive(value: float) -> float | None:
        return float(value) if value > 0 else None

    return Shot(
        make=make,
        model=model,
        lens=str(lens.model).strip() if lens is not None else "",
        taken=stamp if isinstance(stamp, datetime) and stamp.year > 1970 else None,  # LibRaw's 0 = not recorded
        exposure_time=positive(other.shutter_speed),
        f_number=positive(other.aperture),
        iso=positive(other.iso_speed),
        focal_length=positive(other.focal_length),
        artist=str(other.artist).strip(),
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


def _gains(values: list[float]) -> np.ndarray | None:
    """LibRaw's R, G, B(, G) multipliers as gains with the smallest 1; None when they are not all set."""
    gains = np.asarray(values[:3], dtype=np.float64)
    return (gains / gains.min()).astype(np.float32) if np.all(gains > 0) else None


def _camera_to_srgb(raw: rawpy.RawPy) -> np.ndarray:
    matrix = np.asarray(raw.color_matrix, dtype=np.float64)[:3, :3]
    if not np.any(matrix):
        return np.eye(3, dtype=np.float32)  # old cameras without a matrix: LibRaw keeps camera RGB as is
    return matrix.astype(np.float32)


def _make_and_model(path: Path) -> tuple[str, str]:
    """Make and model from the TIFF header that most raw formats (DNG, ARW, NEF, CR2, ...) share.

    rawpy does not expose LibRaw's make/model, so non-TIFF formats (CR3, RAF) get empty ones.
    """
    try:
        with tifffile.TiffFile(path) as tif:
            tags = tif.pages.first.tags
            make, model = (str(tags[n].value).strip("\x00 ") if n in tags else "" for n in ("Make", "Model"))
    except Exception:  # any header we cannot parse simply gives no name
        return "", ""
    return make, model
