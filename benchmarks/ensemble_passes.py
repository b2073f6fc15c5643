"""How much of the self-ensemble's gain 2 and 4 passes give, against 1 and 8, on the benchmark's shots.

    python benchmarks/ensemble_passes.py --model full
    python benchmarks/ensemble_passes.py --model lite

The same simulated shots as ``seeisp benchmark`` (``seeisp.eval.benchmark.simulated_pairs``), enhanced as
``seeisp enhance --passes N`` does (``passes=N``), scored against the primary reference. Prints the mean
PSNR per number of passes.
"""

from __future__ import annotations

import tempfile

import numpy as np

from seeisp.enhance import enhance_raw
from seeisp.ensemble import PASSES
from seeisp.eval.benchmark import simulated_pairs
from seeisp.eval.metrics import psnr
from seeisp.raw import read_raw
from seeisp.session import ModelSession
from seeisp.sim.noise import resolve_profile

from options import run, shot_images, shot_options


def main(argv: list[str] | None = None) -> int:
    parser = shot_options(__doc__.splitlines()[0], ratios=[100, 250, 300], limit=None)
    args = parser.parse_args(argv)

    profile = resolve_profile(args.camera, args.profiles)
    images = shot_images(args.images, args.limit)
    session = ModelSession.from_name(args.model)
    scores: dict[int, list[float]] = {passes: [] for passes in PASSES}
    with tempfile.TemporaryDirectory(prefix="seeisp-passes-") as folder:
        for _, _, pair in simulated_pairs(images, profile, args.ratios, folder):
            raw = read_raw(pair.dark)
            for passes in PASSES:
                scores[passes].append(
                    psnr(enhance_raw(raw, model=session, ratio=pair.ratio, passes=passes).image, pair.reference)
                )
            pair.remove()

    print(f"### Self-ensemble passes: {session.name} on {args.camera}, {len(images)} pictures\n")
    print("| passes | PSNR (dB) | gain over 1 pass |")
    print("|---:|---:|---:|")
    for passes, values in scores.items():
        print(f"| {passes} | {np.mean(values):.2f} | {np.mean(values) - np.mean(scores[1]):+.2f} |")
    return 0


if __name__ == "__main__":
    run(main)
