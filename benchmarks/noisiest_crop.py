"""The benchmark's noisiest shots through a model, and a crop of the worst one beside its reference.

    python benchmarks/noisiest_crop.py --model full --camera SonyA7S2 -o docs/noisiest-crop.jpg

The shots are ``seeisp benchmark``'s (``simulated_pairs``, seed 0), and the noisiest tenth is the group its
"noisiest tenth" rows average (``noisiest_cases``: the highest ratio x gain). Each of those shots is enhanced at
its true ratio and scored; the worst one's flattest square (the least detail in the reference, where colour
speckle shows most) is written beside the same square of the reference, both enlarged 2x.
"""

from __future__ import annotations

import tempfile

import imageio.v3 as iio
import numpy as np

from seeisp.enhance import enhance_file
from seeisp.eval.benchmark import noisiest_cases, score, simulated_pairs
from seeisp.output import quantize
from seeisp.session import ModelSession
from seeisp.sim.noise import resolve_profile

from options import at_least_one, run, shot_images, shot_options

MID_TONES = (0.15, 0.85)  # the crop's mean brightness (display sRGB): speckle hides in black and in white


def flattest_square(reference: np.ndarray, side: int) -> tuple[int, int]:
    """Top-left corner of the ``side``-pixel square of ``reference`` (H, W, 3 display sRGB) with the least
    variation, among squares of mid-tone brightness when there are any."""
    grey = reference.mean(axis=2)
    step = max(1, side // 8)
    best, corner = np.inf, (0, 0)
    for mid_tones_only in (True, False):
        for y in range(0, grey.shape[0] - side + 1, step):
            for x in range(0, grey.shape[1] - side + 1, step):
                square = grey[y : y + side, x : x + side]
                if mid_tones_only and not MID_TONES[0] <= square.mean() <= MID_TONES[1]:
                    continue
                if square.std() < best:
                    best, corner = float(square.std()), (y, x)
        if np.isfinite(best):
            break
    return corner


def side_by_side(reference: np.ndarray, result: np.ndarray, corner: tuple[int, int], side: int) -> np.ndarray:
    """The square at ``corner`` of the reference and of the result, side by side, each enlarged 2x (8-bit)."""
    y, x = corner
    crops = [image[y : y + side, x : x + side] for image in (reference, result)]
    gap = np.ones((side, side // 16, 3), np.float32)
    joined = np.concatenate([crops[0], gap, crops[1]], axis=1)
    return quantize(np.repeat(np.repeat(joined, 2, axis=0), 2, axis=1), 8)


def main(argv: list[str] | None = None) -> int:
    parser = shot_options(__doc__.splitlines()[0], ratios=[100, 250, 300], limit=None)
    parser.add_argument("-o", "--output", default="noisiest-crop.jpg", help="the crop (default: %(default)s)")
    parser.add_argument("--side", type=at_least_one, default=128, help="crop side in pixels (default: %(default)s)")
    args = parser.parse_args(argv)

    profile = resolve_profile(args.camera, args.profiles)
    images = shot_images(args.images, args.limit)
    session = ModelSession.from_name(args.model)
    with tempfile.TemporaryDirectory(prefix="seeisp-noisiest-") as folder:
        cases = []
        for name, noise, pair in simulated_pairs(images, profile, args.ratios, folder):
            pair.remove()
            cases.append({"image": name, "ratio": pair.ratio, "gain_k": noise.k})
        wanted = {(case["image"], case["ratio"]) for case in noisiest_cases(cases)}
        print(f"| picture | ratio | gain k | {session.name} PSNR (dB) | SSIM |\n|---|---:|---:|---:|---:|")
        scores, shots = [], []
        for name, noise, pair in simulated_pairs(images, profile, args.ratios, folder):
            try:
                if (name, pair.ratio) not in wanted:
                    continue
                image = enhance_file(pair.dark, model=session, ratio=pair.ratio).image
                scored = score(image, pair)
            finally:
                pair.remove()
            scores.append(scored)
            shots.append((pair.reference, image))
            print(f"| {name} | {pair.ratio:g} | {noise.k:.2f} | {scored['psnr']:.2f} | {scored['ssim']:.3f} |")
    mean = {key: float(np.mean([s[key] for s in scores])) for key in ("psnr", "ssim")}
    print(f"| mean of {len(scores)} | | | {mean['psnr']:.2f} | {mean['ssim']:.3f} |")
    reference, image = shots[int(np.argmin([s["psnr"] for s in scores]))]
    side = min(args.side, *reference.shape[:2])
    corner = flattest_square(reference, side)
    iio.imwrite(args.output, side_by_side(reference, image, corner, side))
    print(f"\nworst shot's flattest {side}-pixel square at (row, column) {corner}: reference | {session.name}")
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    run(main)
