"""Repack a folder of training pictures into fewer bytes, to carry it to a remote GPU machine.

    python -m seeisp.training.repack ../shared/data/clean/train .gpu/train --halve urban100 --jpeg bsd100

This is how the shipped weights' training set was made to fit 64 MiB (weights/MODEL_CARD.md):
every picture becomes lossless WebP (same pixels, smaller than PNG) unless its subfolder is named
in ``--halve`` (box-downscaled by 2 first, which also cleans away compression artefacts) or in
``--jpeg`` (JPEG, quality 97 unless ``--quality`` says otherwise, 4:4:4 chroma). 16-bit pictures are rounded to 8 bits.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from ..pictures import list_images, load_srgb

JPEG_QUALITY = 97


def to_8bit(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image
    scale = 255.0 / np.iinfo(image.dtype).max
    return np.rint(image.astype(np.float32) * scale).astype(np.uint8)


def repack(
    src: Path, dst: Path, halve: Sequence[str] = (), jpeg: Sequence[str] = (), quality: int = JPEG_QUALITY
) -> list[Path]:
    """Write every picture under ``src`` to the same relative place under ``dst``; return the new files."""
    written = []
    for path in list_images([src]):
        relative = path.relative_to(src)
        folder = relative.parts[0] if len(relative.parts) > 1 else ""
        picture = Image.fromarray(to_8bit(load_srgb(path)))
        if folder in halve:
            picture = picture.resize((picture.width // 2, picture.height // 2), Image.Resampling.BOX)
        out = dst / relative.with_suffix(".jpg" if folder in jpeg else ".webp")
        out.parent.mkdir(parents=True, exist_ok=True)
        if folder in jpeg:
            picture.save(out, "JPEG", quality=quality, subsampling=0)
        else:
            picture.save(out, "WEBP", lossless=True, method=4)
        written.append(out)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("src", type=Path, help="folder of clean pictures (searched recursively)")
    parser.add_argument("dst", type=Path, help="folder for the repacked pictures (same layout)")
    parser.add_argument("--halve", nargs="*", default=[], metavar="SUBFOLDER", help="downscale these by 2")
    parser.add_argument("--jpeg", nargs="*", default=[], metavar="SUBFOLDER", help="store these as JPEG")
    parser.add_argument("--quality", type=int, default=JPEG_QUALITY, help="JPEG quality (default %(default)s)")
    args = parser.parse_args(argv)
    if not args.src.is_dir():
        parser.error(f"{args.src}: no such folder")
    written = repack(args.src, args.dst, args.halve, args.jpeg, args.quality)
    size = sum(p.stat().st_size for p in written)
    print(f"{len(written)} pictures, {size / 2**20:.1f} MiB in {args.dst}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
