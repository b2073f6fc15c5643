"""How well ``--ratio auto`` finds the true ratio, on plain frames and on night frames with light sources.

    python benchmarks/auto_ratio.py --camera SonyA7S2 NikonD850

Every picture of ``--images`` is unprocessed with the benchmark's seeded random camera, darkened by each
ratio and given the noise of the camera's calibrated profile (``seeisp.sim.noise.simulate_dark_raw``), in
three versions of its scene:

* **plain**: the picture as it is (what ``seeisp benchmark`` scores);
* **lights**: 1-5 light sources added to the scene (a disc of 2-12 pixels at 100-100,000 times the
  picture's white, with a faint halo), as street lamps, lit windows or the moon in a night frame; in
  the raw they are bright or clipped at the white level;
* **dark sky**: the top 30-70 % of the frame 1000 times darker, as a night sky over lit buildings;
* **both**: the dark sky with the light sources on it, as a street at night.

Two estimators are compared: the plain mean level (``TARGET_LEVEL / mean``, seeisp's earlier estimate)
and seeisp's ``estimate_ratio`` (block means capped at 3x their 75th percentile). The right
answer is the ratio the picture was darkened by, i.e. the picture exposed as it was published. Printed
per scene: the share of estimates within x2 of it, and the median and worst factor off (above 1: the
estimate is brighter than the published picture).
"""

from __future__ import annotations

import numpy as np

from seeisp.eval.benchmark import CFA_PHASES
from seeisp.ratio import MAX_RATIO, MIN_RATIO, TARGET_LEVEL, estimate_ratio
from seeisp.sim.noise import SensorProfile, normalise, resolve_profile, simulate_dark_raw
from seeisp.sim.pictures import load_srgb, to_unit
from seeisp.sim.synthesis import mosaic, random_camera, unprocess

from options import run, shot_images, shot_options

SCENES = ("plain", "lights", "dark sky", "both")


def plain_mean_ratio(normalised: np.ndarray) -> float:
    """The estimate seeisp used before the capped level: the frame's plain mean brought to TARGET_LEVEL."""
    level = float(np.mean(normalised, dtype=np.float64))
    if level <= TARGET_LEVEL / MAX_RATIO:
        return MAX_RATIO
    return float(np.clip(TARGET_LEVEL / level, MIN_RATIO, MAX_RATIO))


ESTIMATORS = {"plain mean": plain_mean_ratio, "seeisp (capped blocks)": estimate_ratio}


def add_lights(clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """1-5 light sources on a clean mosaic (white = 1): bright discs with a faint Gaussian halo."""
    h, w = clean.shape
    yy, xx = np.mgrid[0:h, 0:w]
    lit = clean.copy()
    for _ in range(int(rng.integers(1, 6))):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        radius, halo = rng.uniform(2, 12), rng.uniform(5, 30)
        peak = float(np.exp(rng.uniform(np.log(1e2), np.log(1e5))))
        d2 = (yy - cy) ** 2 + (xx - cx) ** 2
        lit += (peak * np.where(d2 <= radius**2, 1.0, 0.02 * np.exp(-d2 / (2 * halo**2)))).astype(np.float32)
    return lit


def dark_sky(clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The top 30-70 % of the rows 1000 times darker."""
    rows = int(clean.shape[0] * rng.uniform(0.3, 0.7)) // 2 * 2
    darker = clean.copy()
    darker[:rows] *= 1e-3
    return darker


def factors_off(
    profile: SensorProfile, images: list, ratios: list[float], seed: int = 0
) -> dict[tuple[str, str], list[float]]:
    """(scene, estimator) -> estimate / true ratio, for every picture and ratio."""
    table: dict[tuple[str, str], list[float]] = {}
    for i, path in enumerate(images):
        srgb = to_unit(load_srgb(path))
        h, w = srgb.shape[0] - srgb.shape[0] % 2, srgb.shape[1] - srgb.shape[1] % 2
        camera = random_camera(np.random.default_rng([seed, i]))
        clean = mosaic(unprocess(np.ascontiguousarray(srgb[:h, :w]), camera), CFA_PHASES[i % len(CFA_PHASES)])
        for ratio in ratios:
            rng = np.random.default_rng([seed, i, round(ratio * 1000)])
            lit, sky = add_lights(clean, rng), dark_sky(clean, rng)
            scenes = {"plain": clean, "lights": lit, "dark sky": sky, "both": sky + (lit - clean)}
            for scene, picture in scenes.items():
                noise = profile.sample(rng)
                normalised = normalise(simulate_dark_raw(picture, ratio, noise, rng), noise)
                for name, estimate in ESTIMATORS.items():
                    table.setdefault((scene, name), []).append(estimate(normalised) / ratio)
    return table


def main(argv: list[str] | None = None) -> int:
    parser = shot_options(
        __doc__.splitlines()[0], ratios=[10, 100, 300], limit=None, model=False, cameras=["SonyA7S2", "NikonD850"]
    )
    args = parser.parse_args(argv)

    profiles = [resolve_profile(camera, args.profiles) for camera in args.camera]
    images = shot_images(args.images, args.limit)
    ratios = ", ".join(f"{r:g}" for r in args.ratios)
    print(f"### Auto ratio: {len(images)} pictures of {args.images}, ratios {ratios}\n")
    print("| camera | scene | estimator | within x2 | median factor off | worst factor off |")
    print("|---|---|---|---:|---:|---:|")
    for camera, profile in zip(args.camera, profiles, strict=True):
        table = factors_off(profile, images, args.ratios)
        for (scene, name), factors in table.items():
            logs = np.log2(factors)
            worst = float(2.0 ** logs[np.argmax(np.abs(logs))])
            print(
                f"| {camera} | {scene} | {name} | {np.mean(np.abs(logs) <= 1):.0%} "
                f"| x{2.0 ** np.median(logs):.2f} | x{worst:.2f} |"
            )
    return 0


if __name__ == "__main__":
    run(main)
