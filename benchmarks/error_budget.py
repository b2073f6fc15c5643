"""Where a model's error comes from on the quality benchmark: a table of PSNR split by cause.

    python benchmarks/error_budget.py --model full --camera SonyA7S2 --limit 8

The same simulated shots as ``seeisp benchmark`` (``seeisp.eval.benchmark.simulated_pairs``), scored
against the primary reference, at low ratios too, where there is little noise left to remove.
Per ratio it prints:

* PSNR of LibRaw's naive render and of the model (single pass and, with ``--passes N``, averaged over N passes);
* the model's error split in two: "coarse" compares Gaussian-blurred (sigma 3 px) pictures, i.e.
  brightness and colour over areas; "fine" keeps only the detail (output minus its blur, plus the
  reference's blur), i.e. texture, edges and leftover grain;
* the model on the same shots with the sensor's per-channel black-level bias set to 0, which
  shows how much of the error is the bias: an offset no metadata tells the network about.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter

from seeisp.cli.argtypes import add_passes_option
from seeisp.enhance import enhance_file
from seeisp.eval.baseline import libraw_render
from seeisp.eval.benchmark import simulated_pairs
from seeisp.eval.metrics import psnr
from seeisp.session import ModelSession
from seeisp.sim.noise import SensorProfile, resolve_profile

from options import run, shot_images, shot_options

BLUR_SIGMA = 3.0  # pixels: "coarse" is what survives this blur


def blur(image: np.ndarray) -> np.ndarray:
    return gaussian_filter(image, (BLUR_SIGMA, BLUR_SIGMA, 0))


def scores(
    profile: SensorProfile, images: list[Path], ratios: list[float], session: ModelSession, passes: int
) -> dict[float, dict[str, list[float]]]:
    """Per ratio, per column, the PSNR of every shot."""
    table: dict[float, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="seeisp-budget-") as folder:
        for _, _, pair in simulated_pairs(images, profile, ratios, folder):
            row = table.setdefault(pair.ratio, {})
            ref = pair.reference
            out = enhance_file(pair.dark, model=session, ratio=pair.ratio).image
            out_coarse, ref_coarse = blur(out), blur(ref)
            row.setdefault("naive", []).append(psnr(libraw_render(pair.dark, pair.ratio), ref))
            row.setdefault("model", []).append(psnr(out, ref))
            row.setdefault("coarse", []).append(psnr(out_coarse, ref_coarse))
            row.setdefault("fine", []).append(psnr(out - out_coarse + ref_coarse, ref))
            if passes > 1:
                best = enhance_file(pair.dark, model=session, ratio=pair.ratio, passes=passes).image
                row.setdefault(f"x{passes}", []).append(psnr(best, ref))
            pair.remove()
    return table


def main(argv: list[str] | None = None) -> int:
    parser = shot_options(__doc__.splitlines()[0], ratios=[1, 10, 100, 250, 300], limit=8)
    add_passes_option(parser, "also score the model averaged over N passes (2, 4 or 8)")
    args = parser.parse_args(argv)

    profile = resolve_profile(args.camera, args.profiles)
    images = shot_images(args.images, args.limit)
    session = ModelSession.from_name(args.model)
    with_bias = scores(profile, images, args.ratios, session, args.passes)
    unbiased = dataclasses.replace(profile, color_bias=((0.0, 0.0, 0.0, 0.0),))
    without_bias = scores(unbiased, images, args.ratios, session, passes=1)

    columns = ["naive", "model", *([f"x{args.passes}"] if args.passes > 1 else []), "coarse", "fine"]
    print(f"### Error budget: {session.name} on {args.camera}, {len(images)} pictures of {Path(args.images).name}\n")
    print("PSNR (dB) against the primary reference; coarse/fine: the model's error over areas / in detail.\n")
    print("| ratio | " + " | ".join(columns) + " | model, no black bias | bias costs |")
    print("|---|" + "---:|" * (len(columns) + 2))
    for ratio, row in with_bias.items():
        unbiased_psnr = float(np.mean(without_bias[ratio]["model"]))
        values = [float(np.mean(row[c])) for c in columns]
        cells = " | ".join(f"{v:.2f}" for v in values)
        print(f"| {ratio:g} | {cells} | {unbiased_psnr:.2f} | {unbiased_psnr - values[1]:+.2f} |")
    return 0


if __name__ == "__main__":
    run(main)
