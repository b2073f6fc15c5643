"""What the scripts of benchmarks/ share: the options that choose the benchmark's shots, their checks, and
``run``, which turns a bad option or picture into one line on stderr instead of a traceback.

Each script runs on its own (``python benchmarks/NAME.py``), so this module is imported from the
script's folder.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from seeisp.cli.argtypes import whole_number

KODAK = "../shared/data/clean/val/kodak24"
PROFILES = "../shared/data/noise_profiles"


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, but a bad option is one line on stderr (``NAME.py: error: ...``), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


at_least_one = whole_number(1)  # an argparse type: counts of pictures, threads, ...


def ratio(value: str) -> float:
    """An argparse type: an amplification ratio in the models' range (``seeisp.ratio.parse_ratio``, no 'auto')."""
    from seeisp.errors import InvalidRatioError
    from seeisp.ratio import parse_ratio

    try:
        return float(parse_ratio(value, allow_auto=False))  # type: ignore[arg-type]
    except InvalidRatioError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def shot_options(
    description: str,
    *,
    ratios: list[float],
    limit: int | None,
    model: bool = True,
    cameras: list[str] | None = None,
) -> argparse.ArgumentParser:
    """A parser with --images, --camera (one, or several when ``cameras`` gives the default ones), --profiles,
    --model (when ``model``), --ratios and --limit; the script adds its own options to it."""
    parser = ArgumentParser(description=description)
    parser.add_argument("--images", default=KODAK, help="folder of clean pictures (default: %(default)s)")
    if cameras:
        parser.add_argument("--camera", nargs="+", default=cameras, help="calibrated sensors (default: %(default)s)")
    else:
        parser.add_argument("--camera", default="SonyA7S2", help="calibrated sensor (default: %(default)s)")
    parser.add_argument("--profiles", default=PROFILES, help="folder of noise profiles (default: %(default)s)")
    if model:
        parser.add_argument("--model", default="full", help="registered name or .onnx file (default: %(default)s)")
    parser.add_argument("--ratios", type=ratio, nargs="+", default=ratios, help="from 1 to 300 (default: %(default)s)")
    parser.add_argument(
        "--limit", type=at_least_one, default=limit, help="only the first N pictures (default: %(default)s)"
    )
    return parser


def shot_images(folder: str | os.PathLike[str], limit: int | None) -> list[Path]:
    """The pictures the shots are simulated from, each read once and checked up front like ``seeisp benchmark``
    does, so that a bad or too small one stops the script before any work."""
    from seeisp.eval.benchmark import check_images, find_images

    images = find_images(folder, limit)
    check_images(images)
    return images


def run(main: Callable[[], int | None]) -> NoReturn:
    """``sys.exit(main())``, but a bad option, file or picture (``SeeispError``, ``ValueError``, ``OSError``) is one
    line on stderr, ``NAME.py: error: ...``, and exit status 2 rather than a traceback."""
    from seeisp.errors import SeeispError, one_line

    prog = Path(sys.argv[0]).name
    try:
        status = main()
    except (SeeispError, ValueError, OSError) as exc:
        print(f"{prog}: error: {one_line(exc)}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(status or 0)
