"""What a dark frame gives: the benchmark's shots enhanced with and without one.

    python benchmarks/dark_frame.py --model full --camera SonyA7S2 [--passes 8]

The same simulated shots as ``seeisp benchmark`` (``seeisp.eval.benchmark.simulated_pairs``), scored
against the primary reference. For each shot a dark frame is simulated as a camera would record it
with the lens capped at the same settings: the same sensor noise and per-channel black-level bias,
no light, its own random draw. It is written as a DNG and read back through ``read_dark_frame``,
as ``seeisp enhance --dark-frame`` does. Per ratio it prints the model's PSNR without and with the dark
frame, and how far the measured black level is from the bias the simulation added (in DN).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from seeisp.cli.argtypes import add_passes_option
from seeisp.dark_frame import read_dark_frame
from seeisp.dng import write_dng
from seeisp.enhance import enhance_file
from seeisp.ensemble import ensemble_suffix
from seeisp.eval.benchmark import simulated_pairs
from seeisp.eval.metrics import psnr
from seeisp.session import ModelSession
from seeisp.sim.noise import resolve_profile, simulate_dark_raw
from seeisp.sim.synthesis import bias_in_cell_order

from options import run, shot_images, shot_options


def main(argv: list[str] | None = None) -> int:
    parser = shot_options(__doc__.splitlines()[0], ratios=[100, 250, 300], limit=None)
    add_passes_option(parser, "network passes averaged, 1 (default), 2, 4 or 8")
    args = parser.parse_args(argv)

    profile = resolve_profile(args.camera, args.profiles)
    images = shot_images(args.images, args.limit)
    session = ModelSession.from_name(args.model)
    rows: dict[float, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="seeisp-dark-") as folder:
        for index, (_, noise, pair) in enumerate(simulated_pairs(images, profile, args.ratios, folder)):
            cell_noise = bias_in_cell_order(noise, pair.cfa)
            shape = pair.reference.shape[:2]  # the raws are not turned: the simulated DNGs have no orientation
            rng = np.random.default_rng([1, index])  # the dark frame's own noise, not the shot's
            dark_dn = simulate_dark_raw(np.zeros(shape, np.float32), 1.0, cell_noise, rng)
            dark_path = write_dng(
                Path(folder) / "dark.dng", dark_dn, cfa=pair.cfa, black_level=noise.black, white_level=noise.white
            )
            dark = read_dark_frame(dark_path)
            true_bias = np.asarray(cell_noise.black_bias).reshape(2, 2)
            row = rows.setdefault(pair.ratio, {})
            options = {"model": session, "ratio": pair.ratio, "passes": args.passes}
            without = enhance_file(pair.dark, **options).image
            with_dark = enhance_file(pair.dark, **options, dark_frame=dark).image
            row.setdefault("without", []).append(psnr(without, pair.reference))
            row.setdefault("with", []).append(psnr(with_dark, pair.reference))
            row.setdefault("bias", []).append(float(np.abs(true_bias).mean()))
            miss = dark.offsets * (noise.white - noise.black) - true_bias
            row.setdefault("miss", []).append(float(np.abs(miss).max()))
            pair.remove()

    label = session.name + ensemble_suffix(args.passes)
    print(f"### Dark frame: {label} on {args.camera}, {len(images)} pictures of {Path(args.images).name}\n")
    print("PSNR (dB) against the primary reference; bias: the simulated black-level offset, mean |DN| per site;")
    print("missed by: the largest error of the dark frame's measurement of it, DN.\n")
    print("| ratio | without | with a dark frame | gain | bias (DN) | missed by (DN) |")
    print("|---|---:|---:|---:|---:|---:|")
    for ratio, row in rows.items():
        without, with_dark = float(np.mean(row["without"])), float(np.mean(row["with"]))
        bias, miss = float(np.mean(row["bias"])), float(np.max(row["miss"]))
        print(f"| {ratio:g} | {without:.2f} | {with_dark:.2f} | {with_dark - without:+.2f} | {bias:.2f} | {miss:.2f} |")
    return 0


if __name__ == "__main__":
    run(main)
