"""What a finished picture says about itself: the shot's EXIF, carried over from the raw, and its colour space.

``seeisp.raw.Shot`` is what the camera recorded (make, model, lens, time, exposure); ``read_raw`` fills it
and ``write_image`` writes it into the PNG, TIFF or JPEG as EXIF, with the program and the ratio used.
Every picture also gets an ICC profile that says exactly how its numbers map to colours: sRGB primaries
and the BT.709 curve of ``seeisp.render`` (LibRaw's gamma 2.222 with a linear toe), which is not quite
the sRGB curve, so the profile is built here rather than taken from a library's sRGB.
"""

from __future__ import annotations

import math
import struct
import unicodedata
from datetime import datetime
from fractions import Fraction
from functools import cache

import numpy as np

from .raw import Shot
from .render import bt709_decode

# A tag's value: text, a positive number written as a TIFF RATIONAL, or an int written as a SHORT.
TagValue = str | float | int


def exif_tags(shot: Shot, description: str = "", written: datetime | None = None) -> dict[str, dict[int, TagValue]]:
    """The EXIF tags for a picture made from ``shot``, by IFD: "0th" (the image) and "Exif" (the capture).

    ``description`` says how the picture was made (model, ratio); ``written`` is the file's own time.
    """
    from . import __version__

    written = written or datetime.now()
    image: dict[int, TagValue] = {0x0131: f"seeisp {__version__}", 0x0132: _exif_time(written)}
    capture: dict[int, TagValue] = {}
    texts = {0x010F: shot.make, 0x0110: shot.model, 0x013B: shot.artist, 0x010E: description}
    image.update({tag: _ascii(text) for tag, text in texts.items() if text})
    if shot.taken is not None:
        capture[0x9003] = _exif_time(shot.taken)  # DateTimeOriginal
    numbers = {0x829A: shot.exposure_time, 0x829D: shot.f_number, 0x920A: shot.focal_length}
    capture.update({tag: float(value) for tag, value in numbers.items() if _positive(value)})
    if shot.iso:
        capture[0x8827] = min(round(shot.iso), 65535)  # ISOSpeedRatings is a SHORT
    if shot.lens:
        capture[0xA434] = _ascii(shot.lens)  # LensModel
    return {"0th": image, "Exif": capture}


def exif_bytes(tags: dict[str, dict[int, TagValue]]) -> bytes:
    """EXIF as JPEG's APP1 and PNG's eXIf chunk hold it: a little TIFF, with the capture in its Exif IFD."""
    from PIL import Image, TiffImagePlugin

    exif = Image.Exif()
    for tag, value in tags["0th"].items():
        exif[tag] = _pillow_value(value, TiffImagePlugin.IFDRational)
    if tags["Exif"]:
        capture = exif.get_ifd(0x8769)
        for tag, value in tags["Exif"].items():
            capture[tag] = _pillow_value(value, TiffImagePlugin.IFDRational)
    return exif.tobytes()


def tiff_tags(tags: dict[str, dict[int, TagValue]]) -> list[tuple[int, str, int, object, bool]]:
    """The same tags as tifffile ``extratags``, all in the image's own IFD, as TIFF/EP and DNG keep them."""
    out: list[tuple[int, str, int, object, bool]] = []
    for tag, value in sorted({**tags["0th"], **tags["Exif"]}.items()):
        if isinstance(value, str):
            out.append((tag, "s", 0, value, True))
        elif isinstance(value, int):
            out.append((tag, "H", 1, value, True))
        else:
            out.append((tag, "2I", 1, _rational(value), True))
    return out


def _positive(value: float | None) -> bool:
    return value is not None and math.isfinite(value) and value > 0


def _ascii(text: str) -> str:
    """EXIF text is 7-bit ASCII (TIFF writers refuse anything else): "José Müller" -> "Jose Muller"."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(c if c.isprintable() else " " for c in plain).strip()


def _exif_time(moment: datetime) -> str:
    return moment.strftime("%Y:%m:%d %H:%M:%S")


def _rational(value: float) -> tuple[int, int]:
    """The simplest fraction within 1e-4 of ``value``: LibRaw's float32 1/15 s is written 1/15, not 66667/1000000."""
    for limit in (10, 100, 1_000, 10_000, 100_000):
        fraction = Fraction(value).limit_denominator(limit)
        if abs(fraction - value) <= 1e-4 * abs(value):
            break
    return fraction.numerator, fraction.denominator


def _pillow_value(value: TagValue, rational: type) -> object:
    return rational(*_rational(value)) if isinstance(value, float) else value


# ICC profile: sRGB primaries and white adapted to the D50 profile connection space (the values of
# the sRGB profiles in use), and the render's BT.709 curve as a table.
_D50 = (0.9642, 1.0, 0.8249)
_PRIMARIES_D50 = {
    b"rXYZ": (0.4361, 0.2225, 0.0139),
    b"gXYZ": (0.3851, 0.7169, 0.0971),
    b"bXYZ": (0.1431, 0.0606, 0.7141),
}
_CURVE_POINTS = 1024
PROFILE_NAME = "sRGB primaries, BT.709 curve (seeisp)"


@cache
def icc_profile() -> bytes:
    """An ICC v2 display profile of the pictures ``seeisp.render`` makes."""
    curve = bt709_decode(np.linspace(0.0, 1.0, _CURVE_POINTS, dtype=np.float32))
    table = np.round(np.clip(curve, 0.0, 1.0) * 65535).astype(">u2").tobytes()
    trc = b"curv" + bytes(4) + struct.pack(">I", _CURVE_POINTS) + table
    tags = {
        b"desc": _icc_description(PROFILE_NAME),
        b"cprt": b"text" + bytes(4) + b"No copyright, use freely\x00",
        b"wtpt": _icc_xyz(_D50),
        **{sig: _icc_xyz(xyz) for sig, xyz in _PRIMARIES_D50.items()},
        b"rTRC": trc,
        b"gTRC": trc,
        b"bTRC": trc,
    }
    # Tag data follows the header (128 bytes) and the tag table, each piece 4-byte aligned; the three
    # curves share one copy, as ICC allows.
    offset = 128 + 4 + 12 * len(tags)
    table_entries, data, placed = [], b"", {}
    for sig, payload in tags.items():
        if payload not in placed:
            placed[payload] = offset + len(data)
            data += payload + bytes(-len(payload) % 4)
        table_entries.append(struct.pack(">4sII", sig, placed[payload], len(payload)))
    body = struct.pack(">I", len(tags)) + b"".join(table_entries) + data
    size = 128 + len(body)
    header = (
        struct.pack(">I4sI", size, b"", 0x02100000)  # size, no preferred CMM, version 2.1
        + b"mntrRGB XYZ "
        + struct.pack(">6H", 2026, 1, 1, 0, 0, 0)
        + b"acsp"
        + bytes(4 + 4 + 4 + 4 + 8 + 4)  # platform, flags, manufacturer, model, attributes, intent: perceptual
        + _s15_fixed16(_D50)
        + bytes(4 + 16 + 28)  # creator, profile ID, reserved
    )
    assert len(header) == 128
    return header + body


def _s15_fixed16(values: tuple[float, ...]) -> bytes:
    return struct.pack(f">{len(values)}i", *(round(v * 65536) for v in values))


def _icc_xyz(xyz: tuple[float, float, float]) -> bytes:
    return b"XYZ " + bytes(4) + _s15_fixed16(xyz)


def _icc_description(text: str) -> bytes:
    """A v2 textDescriptionType: ASCII, then empty Unicode and ScriptCode parts."""
    ascii_text = text.encode("ascii") + b"\x00"
    return b"desc" + bytes(4) + struct.pack(">I", len(ascii_text)) + ascii_text + bytes(4 + 4 + 2 + 1 + 67)
