"""Repack a folder of training pictures into fewer bytes, to carry it to a remote GPU machine.

    python -m seeisp.training.repack ../shared/data/clean/train .gpu/train --halve urban100 --jpeg bsd100

This is how the shipped weights' training set was made to fit 64 MiB (weights/MODEL_CARD.md):
every picture becomes lossless WebP (same pixels, smaller than PNG) unless its subfolder is named
in ``--halve`` (box-downscaled by 2 first, which also cleans away compression artefacts) or in
``--jpeg`` (JPEG, quality 97 unless ``--quality`` says otherwise, 4:4:4 chroma). 16-bit pictures are rounded to 8 bits.

DST must be a new or empty folder (``--force`` writes into a non-empty one), and is never SRC, inside it,
or around it. Every picture is read and written to a staging folder first: a damaged picture leaves DST as it was.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import SeeispError, one_line
from ..sim.pictures import list_images, load_srgb
from ..writable import check_writable_folder

JPEG_QUALITY = 97


class RepackError(SeeispError, ValueError):
    """The folders or options given to ``repack`` would lose pictures or cannot be repacked."""


def to_8bit(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image
    scale = 255.0 / np.iinfo(image.dtype).max
    return np.rint(image.astype(np.float32) * scale).astype(np.uint8)


def plan(
    src: Path,
    dst: Path,
    halve: Sequence[str] = (),
    jpeg: Sequence[str] = (),
    quality: int = JPEG_QUALITY,
    force: bool = False,
) -> dict[Path, Path]:
    """Check everything that can be checked before writing; map each output (relative to ``dst``) to its picture.

    Raises ``RepackError`` for a missing or empty ``src``, a ``dst`` that is ``src``, inside it or holds it,
    a ``dst`` that is (without ``force``) a non-empty folder, a quality outside 1..100, a ``--halve``/``--jpeg``
    name that is no subfolder of ``src``, and two pictures that would share an output; ``OutputError`` for a
    ``dst`` that is a file or cannot be made or written (``seeisp.writable.check_writable_folder``).
    """
    src, dst = Path(src), Path(dst)
    if not src.is_dir():
        raise RepackError(f"{src}: no such folder")
    if not 1 <= quality <= 100:
        raise RepackError(f"--quality {quality}: must be from 1 to 100")
    real_src, real_dst = src.resolve(), dst.resolve()
    if real_dst.is_relative_to(real_src):
        raise RepackError(f"{dst}: is {src} or inside it; repacking there would overwrite the pictures it reads")
    if real_src.is_relative_to(real_dst):
        raise RepackError(f"{dst}: holds {src}; repacking there would overwrite the pictures it reads")
    check_writable_folder(dst)
    check_writable_folder(dst.parent)  # the pictures are staged there first
    if dst.is_dir() and not force and any(dst.iterdir()):
        raise RepackError(f"{dst}: folder exists and is not empty; refusing to write into it (--force to do so)")
    subfolders = {p.name for p in src.iterdir() if p.is_dir()}
    for option, names in (("--halve", halve), ("--jpeg", jpeg)):
        unknown = [name for name in names if name not in subfolders]
        if unknown:
            known = ", ".join(sorted(subfolders)) or "none"
            raise RepackError(f"{option} {unknown[0]}: no such subfolder of {src} (subfolders: {known})")
    outputs: dict[Path, Path] = {}
    seen: dict[str, Path] = {}
    for path in list_images([src]):
        relative = path.relative_to(src)
        folder = relative.parts[0] if len(relative.parts) > 1 else ""
        out = relative.with_suffix(".jpg" if folder in jpeg else ".webp")
        key = str(out).casefold()  # Dup.png and dup.png are one file on case-insensitive disks (macOS, Windows)
        if key in seen:
            raise RepackError(f"{seen[key]} and {path} would both be written as {dst / out}; rename one")
        seen[key] = outputs[out] = path
    if not outputs:
        raise RepackError(f"{src}: no pictures in it or its subfolders")
    return outputs


def repack(
    src: Path,
    dst: Path,
    halve: Sequence[str] = (),
    jpeg: Sequence[str] = (),
    quality: int = JPEG_QUALITY,
    force: bool = False,
) -> list[Path]:
    """Write every picture under ``src`` to the same relative place under ``dst``; return the new files.

    Nothing is written until every check of ``plan`` passes, and the pictures are written to a staging
    folder beside ``dst`` first: a picture that cannot be read or written leaves ``dst`` as it was.
    """
    src, dst = Path(src), Path(dst)
    outputs = plan(src, dst, halve, jpeg, quality, force)
    created = [p for p in [dst.parent, *dst.parent.parents] if not p.exists()]
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RepackError(f"{dst.parent}: cannot create folder ({exc.strerror or exc})") from None
    staging = None
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{dst.name}.repack-", dir=dst.parent))
        for relative, path in outputs.items():
            folder = relative.parts[0] if len(relative.parts) > 1 else ""
            picture = Image.fromarray(to_8bit(load_srgb(path)))
            if folder in halve:
                picture = picture.resize((picture.width // 2, picture.height // 2), Image.Resampling.BOX)
            out = staging / relative
            out.parent.mkdir(parents=True, exist_ok=True)
            try:
                if folder in jpeg:
                    picture.save(out, "JPEG", quality=quality, subsampling=0)
                else:
                    picture.save(out, "WEBP", lossless=True, method=4)
            except (OSError, ValueError) as exc:
                raise RepackError(f"{path}: cannot be written as {out.suffix[1:].upper()} ({exc})") from None
        if not dst.exists():
            staging.rename(dst)
        else:  # an empty folder, or --force: the new pictures replace same-named ones, the rest stay
            for relative in outputs:
                (dst / relative).parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / relative, dst / relative)
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        for folder in created:  # innermost first; only the empty folders this run made
            try:
                folder.rmdir()
            except OSError:
                break
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return [dst / relative for relative in outputs]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seeisp.training.repack", description=__doc__.split("\n\n")[0])
    parser.add_argument("src", type=Path, help="folder of clean pictures (searched recursively)")
    parser.add_argument("dst", type=Path, help="new or empty folder for the repacked pictures (same layout)")
    parser.add_argument("--halve", nargs="*", default=[], metavar="SUBFOLDER", help="downscale these by 2")
    parser.add_argument("--jpeg", nargs="*", default=[], metavar="SUBFOLDER", help="store these as JPEG")
    parser.add_argument("--quality", type=int, default=JPEG_QUALITY, help="JPEG quality 1-100 (default %(default)s)")
    parser.add_argument(
        "--force", action="store_true", help="write into a non-empty DST, replacing same-named pictures"
    )
    args = parser.parse_args(argv)
    try:
        written = repack(args.src, args.dst, args.halve, args.jpeg, args.quality, args.force)
    except (OSError, ValueError, SeeispError) as exc:
        message = one_line(exc)
        print(f"{parser.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2) from None
    size = sum(p.stat().st_size for p in written)
    print(f"{len(written)} pictures, {size / 2**20:.1f} MiB in {args.dst}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
