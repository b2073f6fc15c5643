"""How much mirrored context around the network's input is best: the benchmark's shots at several borders.

    python benchmarks/context_border.py --images ../shared/data/clean/train/mcmaster --model full

The networks' convolutions pad with zeros, so a frame's outermost pixels see less than the rest.
``seeisp.session.CONTEXT_BORDER`` packed pixels are mirrored around every network input to give
them context; this script sets it to each of ``--borders`` in turn and scores the same simulated
shots (``seeisp.eval.benchmark.simulated_pairs``) against the primary reference, over the whole picture
and over its outer 32 pixels. Choose the border on training pictures, not on the benchmark's.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from seeisp import session as session_module
from seeisp.enhance import enhance_file
from seeisp.eval.benchmark import simulated_pairs
from seeisp.eval.metrics import psnr
from seeisp.session import ModelSession
from seeisp.sim.noise import resolve_profile

from options import at_least_zero, run, shot_images, shot_options

BAND = 32  # output pixels: the frame's outer band


def main(argv: list[str] | None = None) -> int:
    parser = shot_options(__doc__.splitlines()[0], ratios=[100, 250, 300], limit=None)
    parser.add_argument(
        "--borders", type=at_least_zero, nargs="+", default=[0, 8, 16, 24, 32, 48], help="(default: %(default)s)"
    )
    args = parser.parse_args(argv)

    profile = resolve_profile(args.camera, args.profiles)
    images = shot_images(args.images, args.limit)
    session = ModelSession.from_name(args.model)
    scores: dict[int, dict[str, list[float]]] = {border: {} for border in args.borders}
    with tempfile.TemporaryDirectory(prefix="seeisp-border-") as folder:
        for _, _, pair in simulated_pairs(images, profile, args.ratios, folder):
            band = np.ones(pair.reference.shape[:2], bool)
            band[BAND:-BAND, BAND:-BAND] = False
            for border in args.borders:
                session_module.CONTEXT_BORDER = border
                image = enhance_file(pair.dark, model=session, ratio=pair.ratio).image
                row = scores[border]
                row.setdefault(f"{pair.ratio:g}", []).append(psnr(image, pair.reference))
                row.setdefault("band", []).append(psnr(image[band], pair.reference[band]))
            pair.remove()

    ratios = [f"{ratio:g}" for ratio in args.ratios]
    print(f"### Context border: {session.name} on {args.camera}, {len(images)} pictures of {Path(args.images).name}\n")
    print(f"PSNR (dB) against the primary reference, per ratio, over all, and over the outer {BAND} pixels.\n")
    print("| border (packed px) | " + " | ".join(f"ratio {r}" for r in ratios) + f" | all | outer {BAND} px |")
    print("|---|" + "---:|" * (len(ratios) + 2))
    for border, row in scores.items():
        per_ratio = [float(np.mean(row[r])) for r in ratios]
        every = float(np.mean([value for r in ratios for value in row[r]]))
        cells = " | ".join(f"{value:.2f}" for value in [*per_ratio, every, float(np.mean(row["band"]))])
        print(f"| {border} | {cells} |")
    return 0


if __name__ == "__main__":
    run(main)
