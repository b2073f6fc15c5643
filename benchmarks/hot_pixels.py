"""What hot pixels cost a model, and how much of it removing them (``seeisp.hot_pixels``) wins back.

    python benchmarks/hot_pixels.py --model full --camera SonyA7S2 --limit 8

The same simulated shots as ``seeisp benchmark`` (``seeisp.eval.benchmark.simulated_pairs``), scored against the
primary reference, each also with ``--share`` of its sites made hot (20-2000 DN above what they
recorded, log-uniform; seeded). Per ratio it prints the PSNR of the model on the raw as it is and with
hot pixels, each with and without the removal, the share of the planted sites found, the sites taken
for hot in the raw without any (per megapixel), and the seconds the search takes per 12 megapixels.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time

import numpy as np

from seeisp.enhance import enhance_raw
from seeisp.eval.benchmark import simulated_pairs
from seeisp.eval.metrics import psnr
from seeisp.hot_pixels import find_hot_pixels
from seeisp.raw import read_raw
from seeisp.session import ModelSession
from seeisp.sim.noise import resolve_profile

from options import run, share, shot_images, shot_options

COLUMNS = ("as is", "as is, removed", "hot", "hot, removed")


def plant_hot_pixels(mosaic: np.ndarray, share: float, span: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(the mosaic with ``share`` of its sites 20-2000 DN brighter, a mask of those sites); span = white - black."""
    rng = np.random.default_rng(seed)
    count = int(share * mosaic.size)
    rows, cols = rng.integers(0, mosaic.shape[0], count), rng.integers(0, mosaic.shape[1], count)
    hot = mosaic.copy()
    hot[rows, cols] += (np.exp(rng.uniform(np.log(20), np.log(2000), count)) / span).astype(mosaic.dtype)
    mask = np.zeros(mosaic.shape, bool)
    mask[rows, cols] = True
    return hot, mask


def main(argv: list[str] | None = None) -> int:
    parser = shot_options(__doc__.splitlines()[0], ratios=[1, 100, 300], limit=8)
    parser.add_argument("--share", type=share, default=5e-4, help="share of the sites made hot")
    args = parser.parse_args(argv)

    profile = resolve_profile(args.camera, args.profiles)
    images = shot_images(args.images, args.limit)
    session = ModelSession.from_name(args.model)
    table: dict[float, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="seeisp-hot-") as folder:
        for i, (_, noise, pair) in enumerate(simulated_pairs(images, profile, args.ratios, folder)):
            raw = read_raw(pair.dark)
            hot, planted = plant_hot_pixels(raw.mosaic, args.share, noise.white - noise.black, seed=i)
            row = table.setdefault(pair.ratio, {})
            for name, mosaic, removal in (
                ("as is", raw.mosaic, False),
                ("as is, removed", raw.mosaic, True),
                ("hot", hot, False),
                ("hot, removed", hot, True),
            ):
                image = enhance_raw(
                    dataclasses.replace(raw, mosaic=mosaic), model=session, ratio=pair.ratio, hot_pixels=removal
                )
                row.setdefault(name, []).append(psnr(image.image, pair.reference))
            started = time.perf_counter()
            false_rows, _, _ = find_hot_pixels(raw.mosaic)
            row.setdefault("seconds per 12 MP", []).append((time.perf_counter() - started) * 12e6 / raw.mosaic.size)
            found_rows, found_cols, _ = find_hot_pixels(hot)
            row.setdefault("found", []).append(planted[found_rows, found_cols].sum() / planted.sum())
            row.setdefault("false per MP", []).append(false_rows.size * 1e6 / raw.mosaic.size)
            pair.remove()

    print(f"### Hot pixels: {session.name} on {args.camera}, {len(images)} pictures, {args.share:.2%} of sites hot\n")
    print("PSNR (dB) against the primary reference.\n")
    print("| ratio | " + " | ".join(COLUMNS) + " | planted found | false per MP | s per 12 MP |")
    print("|---|" + "---:|" * (len(COLUMNS) + 3))
    for ratio, row in table.items():
        cells = " | ".join(f"{np.mean(row[c]):.2f}" for c in COLUMNS)
        print(
            f"| {ratio:g} | {cells} | {np.mean(row['found']):.0%} | {np.mean(row['false per MP']):.1f} "
            f"| {np.mean(row['seconds per 12 MP']):.2f} |"
        )
    return 0


if __name__ == "__main__":
    run(main)
