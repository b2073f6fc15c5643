"""Leave one sensor out: how a network does on a camera whose noise it never saw in training.

    python benchmarks/leave_one_sensor_out.py [--steps 300] [--limit 8] [--noise-plane]

For each calibrated camera it trains the network from scratch without that camera's noise profiles (each of its
ISO ranges, and the virtual sensors drawn around them: ``TrainConfig.train_cameras``), plus once with all of them;
every run has the same budget (lite width, steps, batch, crops and seed). Each camera's held-out model and the
all-cameras model are then scored by ``seeisp.eval.benchmark`` on the same simulated shots with that camera's noise,
and one table is printed: camera | trained without it | trained with all | difference, in mean PSNR (dB), with LibRaw's
noise reduction on the same shots for scale.

Runs go to ``--out`` (runs/ by default), one folder per budget; a run whose model.onnx is there is not trained
again, and an interrupted one resumes from its last checkpoint; scores of the same models, pictures and ratios
saved in scores-CAMERA.json are reused. ``--score`` limits a call to some held-out cameras (and the runs they
need), so that several calls may share the work. ``--noise-plane`` trains and scores the noise-aware network instead
(``noise_plane=true``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from seeisp.errors import SeeispError
from seeisp.eval.benchmark import LIBRAW_NR, run_benchmark
from seeisp.session import ModelSession
from seeisp.sim.noise import resolve_profile
from seeisp.training.config import TrainConfig, field_types

from options import at_least_one, run, shot_images, shot_options

CAMERAS = ["SonyA7S2", "NikonD850", "CanonEOS700D", "CanonEOS70D"]  # the calibrated profiles of ../shared
ALL = "all"


@dataclass(frozen=True)
class Budget:
    """What every run of one comparison shares."""

    config: str = "configs/lite.toml"
    steps: int = 300
    batch_size: int = 4
    patch: int = 128
    seed: int = 0
    threads: int = 1
    noise_plane: bool = False

    @property
    def folder_name(self) -> str:
        kind = "noise-plane" if self.noise_plane else "plain"
        return f"{kind}-steps{self.steps}-batch{self.batch_size}-patch{self.patch}-seed{self.seed}"


def held_out_run(camera: str) -> str:
    return f"without-{camera}"


def training_cameras(cameras: list[str]) -> dict[str, list[str]]:
    """Each run's name -> the cameras it trains on: ``ALL`` with every camera, and one run without each camera."""
    runs = {ALL: list(cameras)}
    for held_out in cameras:
        runs[held_out_run(held_out)] = [camera for camera in cameras if camera != held_out]
    return runs


def run_config(budget: Budget, train_cameras: list[str], profiles: str, out_dir: Path) -> TrainConfig:
    """The training config of one run: the budget's, training on ``train_cameras`` only.

    Validation runs once, at the last step, on the first training camera, so the model scored is the last one
    and nothing about a held-out camera chooses it.
    """
    overrides = {
        "steps": budget.steps,
        "batch_size": budget.batch_size,
        "patch": budget.patch,
        "seed": budget.seed,
        "threads": budget.threads,
        "workers": 0,
        "profiles_dir": profiles,
        "train_cameras": json.dumps(train_cameras),
        "val_cameras": json.dumps(train_cameras[:1]),
        "val_every": budget.steps,
        "val_images": 2,
        "out_dir": str(out_dir),
        "onnx_out": "",
        "init_from": "",
    }
    if budget.noise_plane:
        if "noise_plane" not in field_types():
            raise SeeispError("--noise-plane: this checkout's TrainConfig has no noise_plane key")
        overrides["noise_plane"] = "true"
    return TrainConfig.load(budget.config, [f"{key}={value}" for key, value in overrides.items()])


def trained_model(name: str, config: TrainConfig) -> Path:
    """The run's exported model, trained (or resumed) first unless it is already there; prints the wall time."""
    from seeisp.training.export import export_onnx
    from seeisp.training.train import train

    model = Path(config.out_dir) / "model.onnx"
    if model.is_file():
        print(f"{name}: reusing {model}")
        return model
    started = time.time()
    result = train(config)
    if result.best is None:
        raise SeeispError(f"{config.out_dir}: training wrote no best checkpoint")
    export_onnx(result.best, model, name=f"lite-{name}")
    seconds = time.time() - started
    (Path(config.out_dir) / "wall_seconds.txt").write_text(f"{seconds:.0f}\n")
    print(f"{name}: trained {config.steps} steps in {seconds / 60:.1f} min -> {model}")
    return model


def same_shots(results: dict | None, models: list[str], images: list[Path], ratios: list[float]) -> bool:
    """Whether saved benchmark results scored these models on these pictures and ratios (so need not run again)."""
    if results is None:
        return False
    scored = [case["image"] for case in results["cases"]]
    wanted = [image.name for image in images for _ in ratios]
    return results["models"] == models and results["ratios"] == [float(r) for r in ratios] and scored == wanted


def main(argv: list[str] | None = None) -> int:
    parser = shot_options(__doc__.splitlines()[0], ratios=[100, 250, 300], limit=8, model=False, cameras=CAMERAS)
    parser.add_argument(
        "--steps", type=at_least_one, default=Budget.steps, help="training steps (default: %(default)s)"
    )
    parser.add_argument("--batch-size", type=at_least_one, default=Budget.batch_size, help="(default: %(default)s)")
    parser.add_argument("--patch", type=at_least_one, default=Budget.patch, help="raw crop side (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=Budget.seed, help="training seed (default: %(default)s)")
    parser.add_argument("--threads", type=at_least_one, default=Budget.threads, help="(default: %(default)s)")
    parser.add_argument("--config", default=Budget.config, help="TrainConfig file (default: %(default)s)")
    parser.add_argument("--noise-plane", action="store_true", help="the noise-aware network (noise_plane=true)")
    parser.add_argument("--out", default="runs/leave_one_sensor_out", help="runs folder (default: %(default)s)")
    parser.add_argument(
        "--score", nargs="+", metavar="CAMERA", help="train and score only the runs these held-out cameras need"
    )
    args = parser.parse_args(argv)
    if len(args.camera) < 2:
        parser.error("--camera needs at least two cameras: one to leave out and one to train on")
    scored = args.score or args.camera
    if set(scored) - set(args.camera):
        parser.error(f"--score: {sorted(set(scored) - set(args.camera))[0]} is none of --camera")
    profiles = {camera: resolve_profile(camera, args.profiles) for camera in args.camera}
    images = shot_images(args.images, args.limit)
    budget = Budget(args.config, args.steps, args.batch_size, args.patch, args.seed, args.threads, args.noise_plane)
    folder = Path(args.out) / budget.folder_name
    configs = {
        name: run_config(budget, cameras, args.profiles, folder / name)
        for name, cameras in training_cameras(args.camera).items()
    }  # every config is checked before the first run starts
    needed = [ALL, *map(held_out_run, scored)]
    models = {name: trained_model(name, configs[name]) for name in needed}

    rows = []
    for camera in scored:
        names = [f"lite-{held_out_run(camera)}", f"lite-{ALL}"]
        scores_file = folder / f"scores-{camera}.json"
        results = json.loads(scores_file.read_text()) if scores_file.is_file() else None
        if not same_shots(results, names, images, args.ratios):
            sessions = [ModelSession(models[held_out_run(camera)], threads=args.threads)]
            sessions.append(ModelSession(models[ALL], threads=args.threads))
            results = run_benchmark(images, profiles[camera], args.ratios, sessions)
            scores_file.write_text(json.dumps(results, indent=1))
        everything = results["summary"]["groups"]["all"]
        without, with_all = (everything[f"seeisp {name}"]["psnr"] for name in names)
        libraw = everything[LIBRAW_NR]["psnr"]
        rows.append(f"| {camera} | {without:.2f} | {with_all:.2f} | {without - with_all:+.2f} | {libraw:.2f} |")

    print(
        f"\n{'Noise-aware' if budget.noise_plane else 'Plain'} lite network, {budget.steps} steps of batch "
        f"{budget.batch_size} at patch {budget.patch}, seed {budget.seed}; {len(images)} pictures of "
        f"{Path(args.images).name}, ratios {', '.join(f'{r:g}' for r in args.ratios)}; mean PSNR (dB)\n"
    )
    print(f"| sensor | trained without it | trained with all {len(args.camera)} | difference | LibRaw NR, same shots |")
    print("|---|---:|---:|---:|---:|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    run(main)
