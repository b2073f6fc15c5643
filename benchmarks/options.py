"""What the quality scripts of benchmarks/ share: the options that choose the benchmark's shots.

Each script runs on its own (``python benchmarks/NAME.py``), so this module is imported from the
script's folder.
"""

from __future__ import annotations

import argparse

KODAK = "../shared/data/clean/val/kodak24"
PROFILES = "../shared/data/noise_profiles"


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
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--images", default=KODAK, help="folder of clean pictures (default: %(default)s)")
    if cameras:
        parser.add_argument("--camera", nargs="+", default=cameras, help="calibrated sensors (default: %(default)s)")
    else:
        parser.add_argument("--camera", default="SonyA7S2", help="calibrated sensor (default: %(default)s)")
    parser.add_argument("--profiles", default=PROFILES, help="folder of noise profiles (default: %(default)s)")
    if model:
        parser.add_argument("--model", default="full", help="registered name or .onnx file (default: %(default)s)")
    parser.add_argument("--ratios", type=float, nargs="+", default=ratios, help="(default: %(default)s)")
    parser.add_argument("--limit", type=int, default=limit, help="only the first N pictures (default: %(default)s)")
    return parser
