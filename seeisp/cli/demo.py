"""seeisp demo: simulate a dark raw of the built-in scene, enhance it, and compare with naive brightening."""

from __future__ import annotations

import argparse

from ..eval.demo import DEFAULT_RATIO
from .argtypes import add_passes_option


def register(sub: argparse._SubParsersAction, name: str, help_text: str) -> None:
    p = sub.add_parser(name, help=help_text, description=help_text)
    p.add_argument(
        "-o",
        "--out-dir",
        default="seeisp-demo",
        help="folder for the demo raw and the comparison picture, which a later run replaces (default: ./%(default)s)",
    )
    p.add_argument("--model", metavar="NAME|PATH", help="model name or .onnx file (default: the best installed)")
    p.add_argument(
        "--ratio",
        type=float,
        default=DEFAULT_RATIO,
        help="how many times too little light the simulated shot gets, 1 to 300 (default: %(default)g)",
    )
    add_passes_option(p, "network passes averaged, 1 (default), 2, 4 or 8, as in seeisp enhance --passes")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..eval.demo import run_demo

    report = run_demo(args.out_dir, model=args.model, ratio=args.ratio, passes=args.passes)
    print(f"dark raw (1/{report.ratio:g} of the light): {report.raw_path}")
    print(f"naive | seeisp | clean reference:  {report.comparison_path}")
    print()
    rows = [
        ("naive brightening", f"PSNR {report.naive_psnr:6.2f} dB"),
        (f"seeisp ({report.model})", f"PSNR {report.seeisp_psnr:6.2f} dB"),
        ("gain", f"     {report.gain_db:+6.2f} dB"),
    ]
    width = max(len(label) for label, _ in rows) + 2
    for label, value in rows:
        print(f"{label:<{width}}{value}")
    return 0
