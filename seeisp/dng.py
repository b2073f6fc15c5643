"""Write minimal DNG files that LibRaw reads: Bayer and X-Trans (CFA) raws, linear and monochrome DNGs.

Used for the demo raw, the synthetic benchmark pairs and the test fixtures.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np
import tifffile

from .render import RGB_TO_XYZ

# CFA colour codes in the DNG CFAPattern tag: 0 = red, 1 = green, 2 = blue.
_CFA_CODES = {"R": 0, "G": 1, "B": 2}
_ORIENTATIONS = (1, 3, 6, 8)  # TIFF orientations LibRaw maps to flips 0, 3, 6, 5
ORIENTATION_OF_FLIP = {0: 1, 3: 3, 6: 6, 5: 8}  # LibRaw's flip -> the TIFF orientation it reads as that flip


def _srational(values: Sequence[float], denominator: int = 10000) -> tuple[int, ...]:
    out: list[int] = []
    for v in values:
        out += [round(float(v) * denominator), denominator]
    return tuple(out)


def write_dng(
    path: str | os.PathLike[str],
    bayer: np.ndarray,
    *,
    cfa: str = "RGGB",
    black_level: float | Sequence[float] = 0,
    white_level: int = 65535,
    xyz_to_camera: np.ndarray | None = None,
    as_shot_neutral: Sequence[float] = (1.0, 1.0, 1.0),
    orientation: int = 1,
    exposure_time: float | None = None,
    iso: int | None = None,
    make: str = "seeisp",
    model: str = "Synthetic",
    f_number: float | None = None,
    focal_length: float | None = None,
    taken: datetime | None = None,
    lens: str = "",
    artist: str = "",
) -> Path:
    """Write a uint16 Bayer (``cfa`` of 4 letters) or X-Trans (36 letters, the 6x6 cell row by row) mosaic as a DNG.

    ``black_level`` is one value or one per site of the CFA cell, in the order of ``cfa``
    (for 2x2: top-left, top-right, bottom-left, bottom-right). ``as_shot_neutral`` is the camera
    RGB of a neutral grey (the reciprocal of the white-balance gains). The capture details
    (exposure, lens, time, ...) go into the main IFD, where LibRaw reads them in a DNG, all but
    ``iso``: LibRaw reads the ISO only from an EXIF IFD, which this writer does not make.
    """
    bayer = np.ascontiguousarray(bayer, dtype=np.uint16)
    if bayer.ndim != 2:
        raise ValueError("bayer must be a 2-D array")
    cfa = cfa.upper()
    if len(cfa) not in (4, 36) or set(cfa) - set(_CFA_CODES):
        raise ValueError(f"cfa must be 4 (Bayer) or 36 (X-Trans) letters of R, G, B, got {cfa!r}")
    side = 2 if len(cfa) == 4 else 6
    blacks = np.broadcast_to(np.asarray(black_level, dtype=float), (len(cfa),)) if np.ndim(black_level) else None

    tags = [
        *_dng_tags(orientation, f"{make} {model}", xyz_to_camera, as_shot_neutral),
        (271, "s", 0, make, True),
        (272, "s", 0, model, True),
        (33421, "H", 2, (side, side), True),  # CFARepeatPatternDim
        (33422, "B", len(cfa), tuple(_CFA_CODES[c] for c in cfa), True),  # CFAPattern
        (50710, "B", 3, (0, 1, 2), True),  # CFAPlaneColor
        (50711, "H", 1, 1, True),  # CFALayout: rectangular
        (50717, "I", 1, int(white_level), True),  # WhiteLevel
    ]
    if blacks is None:
        tags += [(50714, "2I", 1, _srational([float(black_level)], 100), True)]
    else:
        tags += [
            (50713, "H", 2, (side, side), True),  # BlackLevelRepeatDim
            (50714, "2I", len(cfa), _srational(blacks, 100), True),
        ]
    if exposure_time is not None:
        tags.append((33434, "2I", 1, _srational([exposure_time], 1_000_000), True))
    if iso is not None:
        tags.append((34855, "H", 1, int(iso), True))
    if f_number is not None:
        tags.append((33437, "2I", 1, _srational([f_number], 1000), True))
    if focal_length is not None:
        tags.append((37386, "2I", 1, _srational([focal_length], 1000), True))
    if taken is not None:
        tags.append((306, "s", 0, taken.strftime("%Y:%m:%d %H:%M:%S"), True))  # DateTime
    if lens:
        tags.append((42036, "s", 0, lens, True))  # LensModel
    if artist:
        tags.append((315, "s", 0, artist, True))

    write_tiff(path, bayer, photometric=32803, extratags=tags)
    return Path(path)


def linear_dng_tags(
    white_level: int = 65535,
    xyz_to_camera: np.ndarray | None = None,
    as_shot_neutral: Sequence[float] = (1.0, 1.0, 1.0),
    orientation: int = 1,
    camera: str = "seeisp Linear",
) -> list[tuple]:
    """The DNG tags of a linear DNG of camera RGB, for ``write_tiff`` with ``LINEAR_RAW``.

    ``xyz_to_camera`` is the ColorMatrix1 (``xyz_to_camera_for`` gives the one that renders as a raw did),
    ``as_shot_neutral`` the camera RGB of a neutral grey, ``camera`` the UniqueCameraModel.
    """
    return [
        *_dng_tags(orientation, camera, xyz_to_camera, as_shot_neutral),
        (50717, "I", 3, (white_level,) * 3, True),  # WhiteLevel
    ]


def _dng_tags(
    orientation: int, camera: str, xyz_to_camera: np.ndarray | None, as_shot_neutral: Sequence[float]
) -> list[tuple]:
    """The tags every DNG written here carries: orientation, DNG version, camera, colour matrix (identity for
    None), as-shot white and its illuminant (D65)."""
    if orientation not in _ORIENTATIONS:
        raise ValueError(f"orientation must be one of {_ORIENTATIONS}")
    matrix = np.eye(3) if xyz_to_camera is None else np.asarray(xyz_to_camera, dtype=float)
    return [
        (274, "H", 1, orientation, True),
        (50706, "B", 4, (1, 4, 0, 0), True),  # DNGVersion
        (50707, "B", 4, (1, 1, 0, 0), True),  # DNGBackwardVersion
        (50708, "s", 0, camera, True),  # UniqueCameraModel
        (50721, "2i", 9, _srational(matrix.ravel()), True),  # ColorMatrix1
        (50728, "2I", 3, _srational(as_shot_neutral, 1_000_000), True),  # AsShotNeutral
        (50778, "H", 1, 21, True),  # CalibrationIlluminant1: D65
    ]


def xyz_to_camera_for(camera_to_srgb: np.ndarray) -> np.ndarray:
    """The DNG ColorMatrix1 (XYZ -> camera) from which LibRaw derives exactly ``camera_to_srgb`` again.

    LibRaw turns a ColorMatrix M into camera -> sRGB as inverse(M @ sRGB_to_XYZ, rows scaled to sum 1);
    a camera -> sRGB matrix keeps white white (rows sum to 1), so M = inverse(camera_to_srgb) @ XYZ_to_sRGB.
    """
    return np.linalg.inv(np.asarray(camera_to_srgb, np.float64)) @ np.linalg.inv(RGB_TO_XYZ)


def write_tiff(
    target: str | os.PathLike[str] | BinaryIO,
    data: np.ndarray,
    photometric: int,
    extratags: list,
    software: str | None = None,
) -> None:
    """Write one uncompressed TIFF/DNG image with these tags to a file name or an open binary stream."""
    tifffile.imwrite(
        target,
        data,
        photometric=photometric,
        planarconfig="contig" if data.ndim == 3 else None,
        subfiletype=0,
        extratags=extratags,
        software=software,
        metadata=None,
    )
