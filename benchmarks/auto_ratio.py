"""How well ``--ratio auto`` finds the true ratio, on ordinary and on night scenes; ``--fit`` trains its model.

    python benchmarks/auto_ratio.py                                  # stops off, kodak24 and held-out train
    python benchmarks/auto_ratio.py --psnr lite-int8 --limit 12      # and the PSNR lost against the true ratio
    python benchmarks/auto_ratio.py --fit seeisp/auto_exposure.json  # refit the learned estimator

Every picture is unprocessed with a seeded random camera, darkened by each ratio and given the noise of a
calibrated sensor's profile (``seeisp.sim.noise.simulate_dark_raw``), as ``seeisp benchmark`` does; the true
ratio is the one it was darkened by. Two kinds of scene:

* **ordinary**: the picture as published;
* **night**: the picture lit as a street at night (``night_scene``): warm light, a dark sky, pools of light
  around 1-6 lamps that are far brighter than white, the rest dark; the whole brought to a mean linear level
  of 0.02-0.16, as long exposures of night scenes are. The true ratio keeps it at that level: a night scene
  must stay a night scene.

The training pictures (``--train``) are split: every ``HOLD_OUT``-th one is held out and never fitted on.
Printed per camera, set, scene and ratio: the median error in stops (|log2(auto / true)|), the share within
1/3 and 2/3 stop, and with ``--psnr MODEL`` the mean and worst PSNR lost by enhancing at the auto ratio
instead of the true one, on the shots of the first ``--psnr-limit`` pictures of each set (counted in "PSNR
shots"). Pictures larger than ``MAX_SIDE`` are shrunk first (speed).

``--fit`` minimises the PSNR the estimates would lose, not their error in stops: every shot carries its loss
curve (``gain_error``: its reference rendered too bright or too dark against itself, what the exposure error
alone costs), and ``least_loss`` weights the shots by it.
"""

from __future__ import annotations

import functools
import json
import pickle
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seeisp.enhance import enhance_file
from seeisp.eval.benchmark import CFA_PHASES, check_images, find_images
from seeisp.eval.metrics import psnr
from seeisp.ratio import (
    CLIPPED_SITE,
    FEATURE_REACH,
    MAX_RATIO,
    MIN_RATIO,
    LearnedExposure,
    block_means,
    colour_block_means,
    features_of,
    learned_estimate,
    metered_estimate,
)
from seeisp.raw import parse_cfa, read_raw
from seeisp.render import bt709_decode, bt709_encode, camera_to_linear_srgb, render
from seeisp.session import ModelSession
from seeisp.sim.noise import NoiseParams, SensorProfile, normalise, resolve_profile, simulate_dark_raw
from seeisp.sim.pictures import load_srgb, to_unit
from seeisp.sim.synthesis import (
    Camera,
    bias_in_cell_order,
    linear_srgb_to_camera,
    mosaic,
    random_camera,
    write_dark_shot,
)

from options import run, shot_images, shot_options

TRAIN = "../shared/data/clean/train"
HOLD_OUT = 5  # every 5th training picture (sorted) is held out of the fit
MAX_SIDE = 1024
RATIOS = [1.0, 10.0, 100.0, 250.0, 300.0]
NIGHT_LEVELS = (0.02, 0.16)  # mean linear level of night references
LAMP_PEAK = 1e4  # the brightest lamp, times white
FIT_RATIOS_PER_PICTURE = 3
LOSS_STOPS = np.linspace(-1.5, 1.5, 19)  # the exposure errors each shot's loss curve is measured at
LOSS_STRIDE = 4  # the loss curve is measured on every 4th pixel of every 4th row (speed)
RIDGE = 1e-3
NETWORK_ERROR = 10**-2.7  # the mean squared error the loss model assumes the networks leave at the true ratio


@dataclass(frozen=True)
class Shot:
    picture: str
    scene: str  # "ordinary" or "night"
    ratio: float
    scene_rgb: np.ndarray  # the scene's camera RGB, lamps beyond white as they are: what the sensor sees
    clean_rgb: np.ndarray  # the reference's camera RGB: the scene clipped at white
    camera: Camera
    noise: NoiseParams
    cfa: str
    seed: tuple[int, ...]

    def write(self, path: Path) -> Path:
        """The dark shot as a DNG: the very raw whose mosaic ``shots`` gave."""
        rng = np.random.default_rng(self.seed)
        return write_dark_shot(path, self.scene_rgb, self.camera, self.ratio, self.noise, rng, self.cfa)


def night_scene(linear: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A picture's linear sRGB relit as a night street: warm light, a dark sky, pools of light around lamps far
    brighter than white; scaled so that its reference (clipped at white) has a mean in ``NIGHT_LEVELS``."""
    h, w = linear.shape[:2]
    tint = rng.choice([[1.0, 0.55, 0.2], [1.0, 0.72, 0.42], [1.0, 0.85, 0.65], [0.75, 0.85, 1.0]])
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    lamps = [(rng.uniform(0, h * 0.8), rng.uniform(0, w)) for _ in range(int(rng.integers(1, 7)))]
    pools = np.full((h, w), rng.uniform(0.03, 0.3), np.float32)
    glow = np.zeros((h, w), np.float32)
    size = min(h, w)
    for cy, cx in lamps:
        d2 = (yy - cy) ** 2 + (xx - cx) ** 2
        pools += np.exp(-d2 / (2 * (rng.uniform(0.1, 0.35) * size) ** 2))
        radius = rng.uniform(0.004, 0.02) * size + 1
        peak = np.exp(rng.uniform(np.log(5), np.log(LAMP_PEAK)))  # times white: some clip even in the dark raw
        glow += np.where(d2 <= radius**2, peak, 0.3 * np.exp(-d2 / (2 * (3 * radius) ** 2)))
    sky = np.ones((h, 1), np.float32)
    if rng.random() < 0.7:
        sky[: int(h * rng.uniform(0.15, 0.5))] = rng.uniform(0.01, 0.1)
    lit = linear * (pools * sky)[..., None] * np.asarray(tint, np.float32)
    light = glow[..., None] * np.asarray(tint, np.float32) ** 0.3
    target = np.exp(rng.uniform(*np.log(NIGHT_LEVELS)))
    low, high = 1e-4, 1e3  # bisect the scale of the lit scene (the lamps stay as they are)
    for _ in range(40):
        k = np.sqrt(low * high)
        if np.clip(k * lit + light, 0, 1).mean() < target:
            low = k
        else:
            high = k
    return (np.sqrt(low * high) * lit + light).astype(np.float32)


def load_picture(path: Path) -> np.ndarray:
    """The picture as linear sRGB in [0, 1], box-shrunk to at most ``MAX_SIDE`` pixels a side, even sizes."""
    srgb = to_unit(load_srgb(path))
    n = -(-max(srgb.shape[:2]) // MAX_SIDE)
    h, w = srgb.shape[0] // (2 * n) * 2 * n, srgb.shape[1] // (2 * n) * 2 * n
    srgb = srgb[:h, :w].reshape(h // n, n, w // n, n, 3).mean(axis=(1, 3))
    return bt709_decode(np.ascontiguousarray(srgb))


def shots(
    images: list[Path], profile: SensorProfile, ratios: list[float] | None, seed: int
) -> Iterator[tuple[Shot, np.ndarray]]:
    """(shot, its normalised dark mosaic) for every picture, scene and ratio; ``ratios`` None: random ones."""
    for i, path in enumerate(images):
        linear = load_picture(path)
        camera = random_camera(np.random.default_rng([seed, i]))
        cfa = CFA_PHASES[i % len(CFA_PHASES)]
        for s, scene in enumerate(("ordinary", "night")):
            rng = np.random.default_rng([seed, i, s])
            lit = linear if scene == "ordinary" else night_scene(linear, rng)
            seen = np.maximum(lit @ camera.srgb_to_camera.T.astype(np.float32) / camera.white_balance, 0)
            seen = seen.astype(np.float32)
            clean = linear_srgb_to_camera(lit, camera)
            drawn = ratios or list(np.exp(rng.uniform(0, np.log(MAX_RATIO), FIT_RATIOS_PER_PICTURE)))
            for k, ratio in enumerate(drawn):
                noise = profile.sample(np.random.default_rng([seed, i, s, k, 0]))
                shot = Shot(path.name, scene, float(ratio), seen, clean, camera, noise, cfa, (seed, i, s, k, 1))
                cells = bias_in_cell_order(noise, cfa)
                dark = simulate_dark_raw(mosaic(seen, cfa), ratio, cells, np.random.default_rng(shot.seed))
                yield shot, normalise(dark, noise)


def gain_error(shot: Shot) -> np.ndarray:
    """The mean squared error of the shot's reference rendered ``LOSS_STOPS`` too bright or too dark (the scene
    amplified, clipped at white as the render clips it), against the reference: what the exposure error alone
    costs, whatever the network does."""
    gains = shot.camera.white_balance / shot.camera.white_balance.min()

    def rendered(camera_rgb: np.ndarray) -> np.ndarray:
        return bt709_encode(camera_to_linear_srgb(camera_rgb, gains, shot.camera.camera_to_srgb))

    scene = shot.scene_rgb[::LOSS_STRIDE, ::LOSS_STRIDE]
    reference = rendered(shot.clean_rgb[::LOSS_STRIDE, ::LOSS_STRIDE])
    return np.array([np.mean((rendered(scene * 2.0**stops) - reference) ** 2) for stops in LOSS_STOPS])


def split_train(folder: str) -> tuple[list[Path], list[Path]]:
    """(fitted on, held out) among the training pictures."""
    pictures = find_images(folder)
    return [p for k, p in enumerate(pictures) if k % HOLD_OUT], pictures[::HOLD_OUT]


def measure(
    images: list[Path], profile: SensorProfile, ratios: list[float] | None, seed: int, loss_curves: bool = False
) -> list[dict]:
    """Every shot's ratio and scene with what the estimators read of it (block means, clipped share, colours),
    and with ``loss_curves`` its ``gain_error`` (for fitting), so that fitting and scoring need no second
    simulation (``--cache``)."""
    records = []
    for shot, dark in shots(images, profile, ratios, seed):
        record = {
            "picture": shot.picture,
            "scene": shot.scene,
            "ratio": shot.ratio,
            "blocks": block_means(dark).astype(np.float32),
            "clipped": float(np.mean(dark >= CLIPPED_SITE)),
            "colours": colour_block_means(dark, parse_cfa(shot.cfa), shot.camera.white_balance).astype(np.float32),
            "metered": metered_estimate(dark),
        }
        if loss_curves:
            record["gain_error"] = gain_error(shot)
        records.append(record)
    return records


def cached(path: Path | None, make: Callable[[], list[dict]]) -> list[dict]:
    if path is not None and path.exists():
        return pickle.loads(path.read_bytes())
    records = make()
    if path is not None:
        path.write_bytes(pickle.dumps(records))
    return records


def record_features(record: dict) -> np.ndarray:
    return features_of(record["blocks"].astype(np.float64), record["clipped"], record["colours"].astype(np.float64))


def fit(records: list[dict], out: Path) -> None:
    """Fit ``LearnedExposure`` on the records and write it as JSON: a logistic regression of night against
    ordinary, and for each kind of scene a linear model of log2(true ratio) on the standardised features that
    loses the least PSNR (``least_loss``)."""
    x = np.array([record_features(r) for r in records])
    y = np.log2([r["ratio"] for r in records])
    night = np.array([r["scene"] == "night" for r in records])
    curves = psnr_loss_curves(records)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = np.clip((x - mean) / scale, -FEATURE_REACH, FEATURE_REACH)
    model = {"mean": mean, "scale": scale, "night": logistic(z, night.astype(np.float64))}
    for name, chosen in (("ordinary_ratio", ~night), ("night_ratio", night)):
        model[name] = least_loss(z[chosen], y[chosen], curves[chosen])
    lines = [f'  "{key}": {json.dumps(rounded(value))}' for key, value in model.items()]
    out.write_text("{\n" + ",\n".join(lines) + "\n}\n")
    learned = LearnedExposure.load(out)
    residual = np.array([learned.log2_ratio(f) for f in x]) - y
    lost = loss_at(curves, residual)
    print(
        f"fitted on {len(y)} shots; median |error| {np.median(np.abs(residual)):.3f} stops, "
        f"modelled PSNR loss {lost.mean():.2f} dB mean -> {out}"
    )


def psnr_loss_curves(records: list[dict]) -> np.ndarray:
    """(shots, ``LOSS_STOPS``): the PSNR each shot would lose at each exposure error, modelled as its
    ``gain_error`` added to the error ``NETWORK_ERROR`` the network leaves at the true ratio."""
    return 10 * np.log10(1 + np.array([r["gain_error"] for r in records]) / NETWORK_ERROR)


def loss_at(curves: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Each shot's loss curve read at its own exposure error (linear between ``LOSS_STOPS``, flat beyond)."""
    step = LOSS_STOPS[1] - LOSS_STOPS[0]
    position = np.clip((stops - LOSS_STOPS[0]) / step, 0, len(LOSS_STOPS) - 1)
    low = np.minimum(position.astype(int), len(LOSS_STOPS) - 2)
    rows = np.arange(len(curves))
    return curves[rows, low] + (position - low) * (curves[rows, low + 1] - curves[rows, low])


def least_loss(z: np.ndarray, y: np.ndarray, curves: np.ndarray, steps: int = 30) -> dict:
    """A linear model of ``y`` (log2 ratio) on ``z`` whose estimates lose the least PSNR on these shots, each
    shot's loss read off its own curve: iteratively reweighted ridge regressions, each shot weighted by the
    loss at its last error over that error squared. Errors in stops cost roughly in proportion (not squared),
    and more on the side that clips highlights, so the fit follows the loss rather than the squared error."""
    weights, least = np.ones(len(y)), (LOSS_STOPS[1] - LOSS_STOPS[0]) / 2
    for _ in range(steps):
        model = ridge(z, y, weights)
        error = z @ model["weights"] + model["bias"] - y
        error = np.where(error < 0, -1, 1) * np.maximum(np.abs(error), least)  # a fitted shot keeps its weight
        weights = loss_at(curves, error) / error**2
    return model


def ridge(z: np.ndarray, y: np.ndarray, weights: np.ndarray) -> dict:
    """Weighted ridge regression (the bias not penalised)."""
    weights = weights / weights.sum()
    z_mean, y_mean = weights @ z, weights @ y
    centred = z - z_mean
    gram = centred.T @ (centred * weights[:, None]) + RIDGE * np.eye(z.shape[1])
    coefficients = np.linalg.solve(gram, centred.T @ (weights * (y - y_mean)))
    return {"weights": coefficients, "bias": y_mean - z_mean @ coefficients}


def logistic(z: np.ndarray, label: np.ndarray, steps: int = 3000, rate: float = 0.5) -> dict:
    """Logistic regression by gradient descent, with the ridge's penalty."""
    weights, bias = np.zeros(z.shape[1]), 0.0
    for _ in range(steps):
        error = 1 / (1 + np.exp(-(z @ weights + bias))) - label
        weights -= rate * (z.T @ error / len(z) + RIDGE * weights)
        bias -= rate * error.mean()
    return {"weights": weights, "bias": bias}


def rounded(value: object) -> object:
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    return np.round(np.asarray(value, np.float64), 6).tolist()


def learned(record: dict) -> float:
    return learned_estimate(
        record["blocks"].astype(np.float64), record["clipped"], record["colours"].astype(np.float64)
    )


ESTIMATORS = {"learned": learned, "metered (before)": lambda record: record["metered"]}


def score(records: list[dict]) -> None:
    """Each estimator's error in stops, into the records."""
    for record in records:
        for estimator, estimate in ESTIMATORS.items():
            auto = float(np.clip(estimate(record), MIN_RATIO, MAX_RATIO))
            record[estimator] = float(np.log2(auto / record["ratio"]))


def psnr_lost(images: list[Path], profile: SensorProfile, ratios: list[float], session: ModelSession) -> list[float]:
    """For every shot (as ``shots`` makes them): PSNR at the true ratio minus PSNR at the auto ratio."""
    lost = []
    with tempfile.TemporaryDirectory(prefix="seeisp-exposure-") as folder:
        for shot, _ in shots(images, profile, ratios, seed=0):
            dng = shot.write(Path(folder) / "shot.dng")
            reference = render(shot.clean_rgb, read_raw(dng))
            true = enhance_file(dng, ratio=shot.ratio, model=session).image
            auto = enhance_file(dng, ratio=None, model=session).image
            lost.append(psnr(true, reference) - psnr(auto, reference))
            dng.unlink()
    return lost


def table(rows: list[dict], estimator: str) -> list[str]:
    lines = [
        f"| camera | set | scene | ratio | shots | median stops off | within 1/3 stop | within 2/3 stop "
        f"| PSNR shots | PSNR lost, mean (dB) | PSNR lost, worst (dB) |  ({estimator})",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    keys = dict.fromkeys((r["camera"], r["set"], r["scene"]) for r in rows)
    for camera, name, scene in keys:
        members = [r for r in rows if (r["camera"], r["set"], r["scene"]) == (camera, name, scene)]
        for group in [*dict.fromkeys(f"{r['ratio']:g}" for r in members), "all"]:
            chosen = [r for r in members if group == "all" or f"{r['ratio']:g}" == group]
            off = np.abs([r[estimator] for r in chosen])
            lost = [r["psnr_lost"] for r in chosen if "psnr_lost" in r and estimator == "learned"]
            psnr_cells = f"{len(lost)} | {np.mean(lost):.2f} | {np.max(lost):.2f}" if lost else "- | - | -"
            lines.append(
                f"| {camera} | {name} | {scene} | {group} | {len(chosen)} | {np.median(off):.2f} "
                f"| {np.mean(off <= 1 / 3):.0%} | {np.mean(off <= 2 / 3):.0%} | {psnr_cells} |"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = shot_options(
        __doc__.splitlines()[0], ratios=RATIOS, limit=None, model=False, cameras=["SonyA7S2", "NikonD850"]
    )
    parser.add_argument("--train", default=TRAIN, help="training pictures, split into fitted and held out")
    parser.add_argument("--fit", type=Path, metavar="JSON", help="fit the learned estimator and write it here")
    parser.add_argument("--psnr", metavar="MODEL", help="also enhance at the true and the auto ratio with MODEL")
    parser.add_argument("--psnr-limit", type=int, help="PSNR on only the first N pictures of each set")
    parser.add_argument("--cache", type=Path, metavar="DIR", help="keep the measured shots here, to score again")
    args = parser.parse_args(argv)

    kodak = None if args.fit else shot_images(args.images, args.limit)  # a bad --images stops it before any work
    profiles = {camera: resolve_profile(camera, args.profiles) for camera in args.camera}
    fitted, held_out = split_train(args.train)
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)

    def cache_file(name: str) -> Path | None:
        return args.cache / f"{name}.pickle" if args.cache else None

    if args.fit:
        records = []
        for p, (camera, profile) in enumerate(profiles.items()):
            make = functools.partial(measure, fitted[: args.limit], profile, None, 100 + p, loss_curves=True)
            records += cached(cache_file(f"fit-{camera}-{args.limit}"), make)
        fit(records, args.fit)
        return 0
    sets = {"kodak24": kodak, "held-out train": held_out[: args.limit]}
    check_images(sets["held-out train"])
    session = ModelSession.from_name(args.psnr) if args.psnr else None
    rows = []
    for camera, profile in profiles.items():
        for name, images in sets.items():
            make = functools.partial(measure, images, profile, list(args.ratios), 0)
            records = cached(cache_file(f"eval-{camera}-{name}-{args.limit}"), make)
            score(records)
            if session is not None:
                lost = psnr_lost(images[: args.psnr_limit], profile, list(args.ratios), session)
                for record, value in zip(records[: len(lost)], lost, strict=True):  # the same shots, in order
                    record["psnr_lost"] = value
            rows += [{"camera": camera, "set": name, **r} for r in records]
    counts = ", ".join(f"{name} {len(images)} pictures" for name, images in sets.items())
    psnr_on = f" (PSNR: seeisp {args.psnr}, first {args.psnr_limit or 'all'} pictures of each set)" if args.psnr else ""
    print(f"### Auto exposure: {counts}, ratios {', '.join(f'{r:g}' for r in args.ratios)}{psnr_on}\n")
    for estimator in ESTIMATORS:
        print("\n".join(table(rows, estimator)) + "\n")
    return 0


if __name__ == "__main__":
    run(main)
