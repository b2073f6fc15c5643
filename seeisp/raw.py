"""Read a Bayer or X-Trans raw through LibRaw (rawpy) into a normalised mosaic plus the metadata needed to render it."""

from __future__ import annotations

import contextlib
import enum
import os
import stat
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import ClassVar

import numpy as np
import rawpy
import tifffile

from .budget import MemoryBudget
from .errors import (
    InvalidArgumentTypeError,
    RawReadError,
    RawTooLargeError,
    SeeispError,
    UnsupportedSensorError,
    one_line,
    os_problem,
)


class CFAKind(enum.StrEnum):
    """Which family a colour filter belongs to: a 2x2 Bayer cell, or Fujifilm's 6x6 X-Trans cell."""

    BAYER = "Bayer"
    XTRANS = "X-Trans"


class CFA(enum.Enum):
    """The colour of the 2x2 cells of a Bayer mosaic, read row by row from the top-left pixel."""

    RGGB = "RGGB"
    BGGR = "BGGR"
    GRBG = "GRBG"
    GBRG = "GBRG"

    @property
    def kind(self) -> CFAKind:
        return CFAKind.BAYER

    @property
    def size(self) -> int:
        """Pixels per side of the repeating cell."""
        return 2

    def sites(self) -> tuple[tuple[int, int, int], ...]:
        """(row, column, channel) of each site of the 2x2 cell, the channel 0, 1 or 2 for R, G or B."""
        return _cell_sites(self.value, self.size)


@dataclass(frozen=True)
class XTransCFA:
    """A Fujifilm X-Trans colour filter: the 36 colours of its 6x6 cell, read row by row from the top-left pixel
    (``seeisp.xtrans`` serves it with the Bayer networks)."""

    value: str  # 36 letters of R, G, B

    kind: ClassVar[CFAKind] = CFAKind.XTRANS
    size: ClassVar[int] = 6

    def __post_init__(self) -> None:
        if len(self.value) != 36 or set(self.value) - set("RGB"):
            raise ValueError(f"an X-Trans cell is 36 letters of R, G, B, got {self.value!r}")

    def sites(self) -> tuple[tuple[int, int, int], ...]:
        """(row, column, channel) of each site of the 6x6 cell, the channel 0, 1 or 2 for R, G or B."""
        return _cell_sites(self.value, self.size)


def _cell_sites(letters: str, size: int) -> tuple[tuple[int, int, int], ...]:
    """(row, column, channel) of each letter of a ``size`` x ``size`` cell read row by row; R, G, B are 0, 1, 2."""
    return tuple((index // size, index % size, "RGB".index(colour)) for index, colour in enumerate(letters))


def parse_cfa(letters: str) -> CFA | XTransCFA:
    """A colour filter from its letters: 4 for a Bayer cell ("GBRG"), 36 for an X-Trans cell."""
    letters = letters.upper()
    return XTransCFA(letters) if len(letters) == 36 else CFA(letters)


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
    """A Bayer or X-Trans raw, black-subtracted and scaled so that 0 is black and 1 the sensor's white level.

    ``mosaic`` is float32 (H, W) and not clipped: noise below black stays negative.
    ``white_balance`` holds the camera's as-shot R, G, B gains, scaled so the smallest is 1
    (as LibRaw applies them). ``camera_to_srgb`` maps white-balanced camera RGB to linear sRGB.
    """

    mosaic: np.ndarray
    cfa: CFA | XTransCFA
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
    try:
        # LibRaw also opens some JPEGs (those a Nikon or Panasonic EXIF names): ask it only about raw-like files.
        if not path.is_file() or not _has_raw_header(path) or is_seeisp_dng(path):
            return False
        with _opened(path):  # the header only: cheap
            return True
    except Exception:  # LibRaw's errors, or a name it cannot be given
        return False


DEFAULT_MAX_MEGAPIXELS = 250.0  # above any camera's single shot (the largest have about 150)
# No raw format packs a sensor's pixels into less (lossless JPEG spends at least a bit on each): a header that claims
# more pixels than its file holds bits is damaged or forged, and would be decoded into garbage at great cost.
MIN_BITS_PER_PIXEL = 1

_max_megapixels: ContextVar[float] = ContextVar("seeisp_max_megapixels", default=DEFAULT_MAX_MEGAPIXELS)


@contextlib.contextmanager
def pixel_limit(megapixels: float) -> Iterator[None]:
    """Within the block, ``read_raw`` (and so ``enhance_file``) refuses raws of more than ``megapixels``, not
    ``DEFAULT_MAX_MEGAPIXELS``: how ``seeisp enhance --max-megapixels`` raises the limit for its batch."""
    token = _max_megapixels.set(float(megapixels))
    try:
        yield
    finally:
        _max_megapixels.reset(token)


def read_raw(
    path: str | os.PathLike[str], *, max_megapixels: float | None = None, memory: MemoryBudget | None = None
) -> RawImage:
    """Open any Bayer or X-Trans raw LibRaw understands. Raises ``RawReadError`` or ``UnsupportedSensorError``, one line
    naming the file, whatever went wrong (the OS, LibRaw, a damaged file).

    Before decoding, the header's pixel count is checked against ``max_megapixels`` (default ``pixel_limit``'s,
    ``DEFAULT_MAX_MEGAPIXELS``) and against the bytes the file holds (``RawTooLargeError``): a small forged file
    cannot make LibRaw decode gigabytes of garbage. With ``memory`` (``seeisp.budget``), a raw that would take more
    memory than is free is refused there too (``MemoryBudgetError``).
    """
    path = as_input_path(path)
    _check_regular_file(path)
    limit = _max_megapixels.get() if max_megapixels is None else max_megapixels
    try:
        with _opened(path) as raw:
            _check_budget(raw, path, limit)
            if memory is not None:
                memory.check(path, raw.sizes.raw_width * raw.sizes.raw_height)
            _check_dng(path)
            return _from_rawpy(raw, path)
    except SeeispError:
        raise
    except rawpy.LibRawFileUnsupportedError:
        raise RawReadError(f"{path}: not a raw image LibRaw can read") from None
    except rawpy.LibRawIOError:
        if not _has_raw_header(path):  # LibRaw also reports a short non-raw file as an I/O error
            raise RawReadError(f"{path}: not a raw image LibRaw can read") from None
        raise RawReadError(f"{path}: cannot be read (truncated or damaged raw file)") from None
    except rawpy.LibRawError as exc:
        raise RawReadError(f"{path}: LibRaw failed to decode it ({type(exc).__name__})") from None
    except MemoryError:
        raise RawReadError(f"{path}: not enough memory to decode it") from None
    except OSError as exc:
        raise RawReadError(f"{path}: cannot be read: {os_problem(exc)}") from None
    except Exception as exc:  # whatever else a damaged file makes rawpy raise (NotImplementedError, ValueError, ...)
        raise RawReadError(f"{path}: LibRaw could not decode it ({type(exc).__name__}: {one_line(exc)})") from None


def as_input_path(path: object) -> Path:
    """``path`` as a ``Path``; ``InvalidArgumentTypeError`` for what is not a str or os.PathLike (None, bytes, 3),
    ``RawReadError`` for a name no file can have (a NUL character)."""
    try:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError
        name = Path(path)
    except TypeError:  # also an os.PathLike whose path is bytes
        raise InvalidArgumentTypeError(f"path must be a str or os.PathLike, not {type(path).__name__}") from None
    if "\x00" in str(name):
        raise RawReadError(f"{str(name)!r}: a file name cannot hold a NUL character")
    return name


def _check_regular_file(path: Path) -> None:
    """``RawReadError`` unless ``path`` is a non-empty regular file (not a folder, FIFO or device)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise RawReadError(f"{path}: no such file") from None
    except (OSError, RuntimeError) as exc:
        raise RawReadError(f"{path}: {os_problem(exc)}") from None
    if stat.S_ISDIR(info.st_mode):
        raise RawReadError(f"{path}: is a folder, not a raw file")
    if not stat.S_ISREG(info.st_mode):
        raise RawReadError(f"{path}: not a regular file ({_FILE_KINDS.get(stat.S_IFMT(info.st_mode), 'special')})")
    if info.st_size == 0:
        raise RawReadError(f"{path}: file is empty")


_FILE_KINDS = {
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
}


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[rawpy.RawPy]:
    """LibRaw opened on ``path`` (its header read, nothing decoded yet), closed after the block."""
    raw = rawpy.RawPy()
    try:
        with open(path, "rb") as stream:  # an unreadable file fails here, in words, not as a LibRaw I/O error
            try:
                name = str(path)
                name.encode("utf-8")
            except UnicodeEncodeError:  # rawpy passes names to LibRaw as UTF-8: hand it the bytes instead
                raw.open_buffer(stream)
            else:
                raw.open_file(name)
        yield raw
    finally:
        raw.close()


def _check_budget(raw: rawpy.RawPy, path: Path, max_megapixels: float) -> None:
    """``RawTooLargeError`` when the header claims more pixels than the limit or than the file has bits."""
    pixels = raw.sizes.raw_width * raw.sizes.raw_height
    megapixels = f"{pixels / 1e6:.4g} megapixels"
    if pixels > max_megapixels * 1e6:
        raise RawTooLargeError(f"{path}: {megapixels}, more than the limit of {max_megapixels:g}")
    held = path.stat().st_size
    if held * 8 < pixels * MIN_BITS_PER_PIXEL:
        raise RawTooLargeError(
            f"{path}: truncated, or a forged header: {held} bytes cannot hold the image data for {megapixels}"
        )


def _check_dng(path: Path) -> None:
    """For a DNG, what its tags say of its sensor data, before LibRaw decodes it: the colour filter pattern must be
    stated (else LibRaw's answer depends on the files it read before), uncompressed data must be in the file."""
    for page in _dng_cfa_pages(path):
        if 33422 not in page.tags:  # CFAPattern
            raise UnsupportedSensorError(f"{path}: no colour filter pattern (CFAPattern) in this DNG")
        try:
            compression = int(page.tags[259].value) if 259 in page.tags else 1
            if compression != 1:
                continue
            size = path.stat().st_size
            need = -(-page.imagewidth * page.imagelength * page.samplesperpixel * page.bitspersample // 8)
            strips = zip(page.dataoffsets, page.databytecounts, strict=True)  # unequal counts: damaged, LibRaw decides
            have = sum(max(0, min(count, size - offset)) for offset, count in strips)
        except Exception:  # tags too damaged to say: LibRaw decides
            continue
        if have < need:
            raise RawReadError(
                f"{path}: cannot be read (truncated or damaged raw file: {have} of its {need} bytes of image data)"
            )


def _dng_cfa_pages(path: Path) -> list[tifffile.TiffPage]:
    """The IFDs of a DNG that hold colour-filter sensor data; none for other files or a header tifffile cannot
    parse."""
    try:
        with tifffile.TiffFile(path) as tif:
            first = tif.pages.first
            if 50706 not in first.tags:  # DNGVersion
                return []
            pages = [first, *(first.pages or [])]
            return [page for page in pages if isinstance(page, tifffile.TiffPage) and page.photometric == 32803]
    except Exception:
        return []


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


def _from_rawpy(raw: rawpy.RawPy, path: Path) -> RawImage:
    cfa = _xtrans_cfa(raw) or _bayer_cfa(raw, path)
    visible = raw.raw_image_visible
    if visible is None or visible.ndim != 2 or min(visible.shape) < 2:
        raise UnsupportedSensorError(f"{path}: no colour filter mosaic in this raw")

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
    try:
        pattern = raw.raw_pattern
    except NotImplementedError:  # rawpy's answer for a colour filter code it has no layout for
        raise UnsupportedSensorError(
            f"{path}: a colour filter LibRaw cannot lay out; seeisp reads Bayer and X-Trans raws"
        ) from None
    if pattern is None or raw.raw_type != rawpy.RawType.Flat:
        raise UnsupportedSensorError(
            f"{path}: no colour filter pattern (Foveon, sRAW or linear DNG); seeisp reads Bayer and X-Trans raws"
        )
    if raw.num_colors == 1 or pattern.shape == (1, 1):
        raise UnsupportedSensorError(f"{path}: monochrome sensor; seeisp reads colour Bayer and X-Trans raws")
    if pattern.shape != (2, 2):
        raise UnsupportedSensorError(
            f"{path}: {pattern.shape[0]}x{pattern.shape[1]} colour filter; seeisp reads 2x2 Bayer and 6x6 X-Trans raws"
        )
    desc = raw.color_desc.decode("ascii", "replace")
    letters = "".join(desc[i] if i < len(desc) else "?" for i in pattern.ravel())
    try:
        return CFA(letters)
    except ValueError:
        raise UnsupportedSensorError(f"{path}: colour filter {letters} is not an RGB Bayer pattern") from None


def _xtrans_cfa(raw: rawpy.RawPy) -> XTransCFA | None:
    """The X-Trans cell of a flat raw with a 6x6 colour filter of red, green and blue; None for any other raw."""
    pattern = raw.raw_pattern
    if pattern is None or raw.raw_type != rawpy.RawType.Flat or pattern.shape != (6, 6):
        return None
    desc = raw.color_desc.decode("ascii", "replace")
    letters = "".join(desc[i] if i < len(desc) else "?" for i in pattern.ravel())
    return XTransCFA(letters) if set(letters) == set("RGB") else None


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
