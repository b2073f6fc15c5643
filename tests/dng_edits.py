"""Edits of the DNGs the tests write (little-endian classic TIFF, one IFD, as ``seeisp.dng.write_dng`` makes them):
set or drop a tag, and seeded mutations for fuzzing: byte flips, truncation, tag edits."""

from __future__ import annotations

import random
import struct
from pathlib import Path

# Tags worth forging: sizes, bits, compression, strips, photometric, the colour filter, levels.
FORGED_TAGS = (256, 257, 258, 259, 262, 273, 277, 278, 279, 33421, 33422, 50706, 50714, 50717, 50721, 50728)
TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}
VALUE_FORMATS = {1: "B", 2: "B", 3: "H", 4: "I", 5: "I", 7: "B", 8: "h", 9: "i", 10: "i", 11: "f", 12: "d"}


def entries(data: bytes | bytearray) -> dict[int, int]:
    """Each tag code of the first IFD -> the offset of its 12-byte entry."""
    ifd = struct.unpack_from("<I", data, 4)[0]
    count = struct.unpack_from("<H", data, ifd)[0]
    return {struct.unpack_from("<H", data, ifd + 2 + 12 * i)[0]: ifd + 2 + 12 * i for i in range(count)}


def set_tag_bytes(data: bytearray, code: int, value: int) -> None:
    """Write ``value`` (wrapped to the tag's type) into every value of tag ``code``, inline or where it points."""
    at = entries(data)[code]
    kind, count = struct.unpack_from("<HI", data, at + 2)
    where = at + 8 if TYPE_SIZES.get(kind, 1) * count <= 4 else struct.unpack_from("<I", data, at + 8)[0]
    fmt = "<" + VALUE_FORMATS.get(kind, "B")
    width = struct.calcsize(fmt)
    if fmt[-1] in "fd":
        packed = struct.pack(fmt, float(value))
    else:
        limit = 1 << (8 * width)
        packed = struct.pack(fmt, (value + limit // 2) % limit - limit // 2 if fmt[-1].islower() else value % limit)
    for index in range(count * (2 if kind in (5, 10) else 1)):  # a rational is two numbers
        start = where + index * width
        if start + width > len(data):
            break
        data[start : start + width] = packed


def set_tag(path: Path, code: int, value: int) -> Path:
    data = bytearray(path.read_bytes())
    set_tag_bytes(data, code, value)
    path.write_bytes(bytes(data))
    return path


def set_type(path: Path, code: int, kind: int) -> Path:
    """Give tag ``code`` the data type ``kind`` (99: one no TIFF reader knows)."""
    data = bytearray(path.read_bytes())
    struct.pack_into("<H", data, entries(data)[code] + 2, kind)
    path.write_bytes(bytes(data))
    return path


def drop_tag(path: Path, code: int) -> Path:
    """Hide tag ``code`` from readers by giving its entry a code no reader knows."""
    data = bytearray(path.read_bytes())
    struct.pack_into("<H", data, entries(data)[code], 65000)
    path.write_bytes(bytes(data))
    return path


def mutate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """One seeded mutation of a DNG's bytes, and what it was (for a failing case's report)."""
    out = bytearray(data)
    kind = rng.choice(["flip", "flip", "truncate", "tag", "tag", "tag", "tags"])
    if kind == "flip":  # mostly in the header, where a flipped byte matters most
        spots = [rng.randrange(min(len(out), 1024)) if rng.random() < 0.7 else rng.randrange(len(out))]
        spots += [rng.randrange(len(out)) for _ in range(rng.randrange(4))]
        for spot in spots:
            out[spot] ^= 1 << rng.randrange(8)
        return bytes(out), f"flip bytes {spots}"
    if kind == "truncate":
        size = rng.randrange(len(out))
        return bytes(out[:size]), f"truncate to {size}"
    edits = []
    for _ in range(1 if kind == "tag" else rng.randrange(2, 5)):
        code = rng.choice([c for c in FORGED_TAGS if c in entries(out)])
        value = rng.choice(
            [
                0,
                1,
                2,
                3,
                7,
                8,
                12,
                16,
                32,
                255,
                256,
                4096,
                20000,
                65535,
                1 << 20,
                0xFFFFFFFF,
                rng.randrange(1 << 16),
                rng.randrange(1 << 32),
            ]
        )
        if rng.random() < 0.2:
            struct.pack_into("<H", out, entries(out)[code], 65000)  # drop it
            edits.append(f"drop {code}")
        else:
            set_tag_bytes(out, code, value)
            edits.append(f"{code}={value}")
    return bytes(out), "tags " + ", ".join(edits)
