"""How well the blind noise estimate (``seeisp.noise_level``) recovers a simulated sensor's noise.

    python benchmarks/noise_level.py [--camera SonyA7S2 NikonD850] [--ratios 100 300] [--limit 8]

The benchmark's kind of shot: a clean picture unprocessed with a seeded random camera, mosaicked to RGGB and
given the noise of a calibrated sensor at a seeded gain (shot, Tukey-lambda read, row noise and black-level
bias). Per sensor and ratio it prints, over the pictures, the estimated gain and read noise over the true ones
(median and range; the true read noise counts the rounding to whole DN) and the error of the noise it predicts
(standard deviation) at the 10th, 50th and 90th percentile of the shot's signal, the worst of the three.
"""

from __future__ import annotations

import math

import numpy as np

from seeisp.noise_level import estimate_noise_level
from seeisp.sim.noise import read_noise_std, resolve_profile, simulate_dark_raw
from seeisp.sim.pictures import load_srgb, to_unit
from seeisp.sim.synthesis import mosaic_rggb, random_camera, unprocess

from options import run, shot_images, shot_options


def main(argv: list[str] | None = None) -> int:
    parser = shot_options(__doc__.splitlines()[0], ratios=[100, 300], limit=8, model=False, cameras=["SonyA7S2"])
    args = parser.parse_args(argv)
    images = shot_images(args.images, args.limit)
    print("| camera | ratio | shots | gain est/true | range | read est/true | range | noise error | worst |")
    print("|---|---|---|---|---|---|---|---|---|")
    for camera in args.camera:
        profile = resolve_profile(camera, args.profiles)
        for ratio in args.ratios:
            gains, reads, errors = [], [], []
            for i, path in enumerate(images):
                rng = np.random.default_rng([i, int(ratio)])
                clean = mosaic_rggb(unprocess(to_unit(load_srgb(path)), random_camera(rng)))
                noise = profile.sample(rng)
                raw = simulate_dark_raw(clean, ratio, noise, rng).astype(np.float32) - noise.black
                level = estimate_noise_level(raw, saturation=noise.white - noise.black)
                read = math.sqrt(read_noise_std(noise) ** 2 + 1 / 12)
                signal = np.percentile(np.clip(raw, 0, None), [10, 50, 90])
                truth = np.sqrt(noise.k * signal + read**2)
                gains.append(level.gain / noise.k)
                reads.append(level.read_sigma / read)
                errors.append(float(np.abs(np.sqrt(level.variance(signal)) / truth - 1).max()))
            print(
                f"| {camera} | {ratio:g} | {len(images)} | {np.median(gains):.2f} | {min(gains):.2f}-{max(gains):.2f} "
                f"| {np.median(reads):.2f} | {min(reads):.2f}-{max(reads):.2f} "
                f"| {np.median(errors):.0%} | {max(errors):.0%} |"
            )
    return 0


if __name__ == "__main__":
    run(main)
