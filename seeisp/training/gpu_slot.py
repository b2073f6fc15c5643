"""Fine-tune on a short, borrowed GPU slot: pack the pictures here, train there, bring back ONNX and a table.

A slot gives a GPU for a few minutes and carries at most a few tens of MiB of inputs, so nothing can be
fetched or set up there. Two steps (docs/TRAINING.md, "A short GPU slot"):

    python -m seeisp.training.gpu_slot pack --out slot/pictures.zip          # here: crops of every picture
    python -m seeisp.training.gpu_slot run --bundle slot/pictures.zip --model full --minutes 7 --out OUT

``pack`` writes one zip (stored, not deflated: its members are JPEG or lossless WebP already) holding random
crops of every training picture (``train/``), the centre crops validation scores (``val/``), the noise
profiles (``profiles/``) and a manifest, within a size budget. ``run`` unpacks it, fine-tunes from ONNX
weights or a checkpoint with the noise drawn on the GPU (``noise_on_device``) for a wall-time budget, exports
the best weights to ONNX (weights stored in fp16, small enough to bring back) and prints a table: PSNR of the
starting and the tuned weights on the validation crops, per sensor and ratio, and on fixed crops of the
training pictures, so overfitting shows as a gain on the second that the first does not share.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import shutil
import zipfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from ..sim.pictures import list_images, load_srgb

if TYPE_CHECKING:  # torch: imported where a slot trains, not where it packs
    from .config import TrainConfig

MANIFEST = "manifest.json"
VAL_CROP = 512  # the centre crop TrainConfig.val_crop scores by default
# Bytes a member adds besides its data: zip headers (twice its name) and its line in the manifest, roughly.
MEMBER_OVERHEAD = 512
# (lr, min_lr) of a fine-tune from shipped weights, as in weights/MODEL_CARD.md: a from-scratch rate would
# undo them in a few steps.
FINE_TUNE_LR = {"full": (3e-5, 3e-6), "lite": (1e-4, 5e-6)}
CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@dataclasses.dataclass(frozen=True)
class PackSettings:
    # Pixels per side. Training cuts its patches (256) out of these, at offsets that keep JPEG's 8x8 grid from
    # lining up with the patches.
    crop: int = 288
    budget_mib: float = 18.0  # the whole bundle: the slot carries it and the repository within 64 MiB
    quality: int = 90  # JPEG quality (4:4:4); 0 = lossless WebP
    seed: int = 0


def as_uint8(picture: np.ndarray) -> np.ndarray:
    """An sRGB picture (uint8 or uint16, grey or with alpha) as uint8 RGB."""
    if picture.ndim == 2:
        picture = np.repeat(picture[..., None], 3, axis=2)
    picture = picture[..., :3]
    if picture.dtype == np.uint16:
        picture = np.round(picture / 257.0)
    return np.ascontiguousarray(picture.astype(np.uint8))


def encode(picture: np.ndarray, quality: int) -> tuple[bytes, str]:
    """uint8 RGB -> (file bytes, suffix): JPEG at ``quality`` without chroma subsampling, or lossless WebP at 0."""
    buffer = io.BytesIO()
    if quality:
        Image.fromarray(picture).save(buffer, format="JPEG", quality=quality, subsampling=0)
        return buffer.getvalue(), ".jpg"
    Image.fromarray(picture).save(buffer, format="WEBP", lossless=True, method=4)
    return buffer.getvalue(), ".webp"


def random_corner(picture: np.ndarray, size: int, rng: np.random.Generator) -> tuple[int, int]:
    """The top left (y, x) of a random ``size`` x ``size`` crop inside ``picture``."""
    h, w = picture.shape[:2]
    return int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))


def centre_crop(picture: np.ndarray, size: int) -> np.ndarray:
    h, w = picture.shape[:2]
    y, x = (h - size) // 2, (w - size) // 2
    return picture[y : y + size, x : x + size]


def pack_bundle(
    out: str | os.PathLike[str],
    train_dirs: Sequence[str | os.PathLike[str]],
    val_dir: str | os.PathLike[str] | None,
    profiles_dir: str | os.PathLike[str] | None,
    settings: PackSettings = PackSettings(),
) -> dict:
    """Write the bundle and return its manifest.

    Every training picture at least ``crop`` px on its short side gives one crop per round, until the next crop
    would not fit the budget; the first round goes in whole, whatever the budget. So all pictures weigh about
    the same, as in ``SyntheticPairs``, which draws a picture first and a patch of it second. The validation
    pictures go in first, as centre crops of ``VAL_CROP`` (or of their short side), in the same encoding.
    """
    rng = np.random.default_rng(settings.seed)
    budget = int(settings.budget_mib * 2**20)
    pictures = [(p, as_uint8(load_srgb(p))) for p in list_images(train_dirs)]
    pictures = [(p, im) for p, im in pictures if min(im.shape[:2]) >= settings.crop]
    if not pictures:
        raise ValueError(f"no training picture of at least {settings.crop} px in {', '.join(map(str, train_dirs))}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    manifest: dict = {**dataclasses.asdict(settings), "pictures": len(pictures), "train": [], "val": []}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as bundle:
        used = 0
        for path in list_images([val_dir]) if val_dir and Path(val_dir).is_dir() else []:
            picture = as_uint8(load_srgb(path))
            data, suffix = encode(centre_crop(picture, min(VAL_CROP, *picture.shape[:2])), settings.quality)
            bundle.writestr(f"val/{path.stem}{suffix}", data)
            manifest["val"].append(path.name)
            used += len(data) + MEMBER_OVERHEAD
        for path in sorted(Path(profiles_dir).glob("*.json")) if profiles_dir and Path(profiles_dir).is_dir() else []:
            bundle.write(path, f"profiles/{path.name}")
            used += path.stat().st_size + MEMBER_OVERHEAD
        rounds = 0
        while True:  # one crop of every picture a round, in a new order each time, until the budget is spent
            for index in rng.permutation(len(pictures)):
                path, picture = pictures[index]
                y, x = random_corner(picture, settings.crop, rng)
                data, suffix = encode(picture[y : y + settings.crop, x : x + settings.crop], settings.quality)
                if rounds and used + len(data) + MEMBER_OVERHEAD > budget:  # the first round always goes in whole
                    bundle.writestr(MANIFEST, json.dumps(manifest, indent=1))
                    return manifest
                name = f"train/{len(manifest['train']):05d}-{path.stem}{suffix}"
                bundle.writestr(name, data)
                manifest["train"].append({"name": name, "source": str(path), "corner": [y, x]})
                used += len(data) + MEMBER_OVERHEAD
            rounds += 1


def unpack_bundle(bundle: str | os.PathLike[str], folder: str | os.PathLike[str]) -> dict[str, Path]:
    """Unpack into ``folder`` (emptied first) -> where its parts lie: ``train``, ``val``, ``profiles``."""
    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(folder)
    return {part: folder / part for part in ("train", "val", "profiles")}


# ----------------------------------------------------------------------------------------------- the slot itself


@dataclasses.dataclass(frozen=True)
class SlotRun:
    model: str  # "full" or "lite": configs/<model>.toml
    bundle: Path
    out: Path  # what the slot brings back: ONNX, log, table
    work: Path  # unpacked pictures and checkpoints
    init: str  # weights to start from: .onnx or .pt
    minutes: float
    overrides: tuple[str, ...] = ()  # KEY=VALUE for TrainConfig, after the slot's own


def slot_config(run: SlotRun, parts: dict[str, Path], cuda: bool, cpus: int) -> TrainConfig:
    """The ``TrainConfig`` of a slot: the model's config file, fine-tuned on the bundle's pictures."""
    from .config import TrainConfig

    lr, min_lr = FINE_TUNE_LR[run.model]
    own = [
        f"train_dirs={parts['train']}",
        f"val_dir={parts['val']}",
        f"profiles_dir={parts['profiles']}",
        f"out_dir={run.work / 'run'}",
        f"init_from={run.init}",
        f"max_minutes={run.minutes}",
        "onnx_out=",  # exported once, at the end, with its weights in fp16
        "ema=0.999",
        f"lr={lr}",
        f"min_lr={min_lr}",
        "steps=5000",  # the cosine schedule's length: size it to the steps a slot reaches (its log.csv)
        "val_every=500",
        "checkpoint_every=500",
        "pattern_share=0.25",
        f"noise_on_device={str(cuda).lower()}",
        f"workers={max(cpus - 2, 1) if cuda else 0}",
    ]
    return TrainConfig.load(str(CONFIGS / f"{run.model}.toml"), [*own, *run.overrides])


def score_table(config: TrainConfig, start_weights: str, tuned: Path | None, train_crops: int = 24) -> str:
    """PSNR (dB) of the starting and the tuned weights, per sensor and ratio on the validation crops of every
    calibrated sensor, and on fixed crops of the training pictures (SonyA7S2 noise): a markdown table."""
    import torch

    from .export import load_checkpoint
    from .model import SIDUNet
    from .train import load_weights, validate, validation_set

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    start = SIDUNet(config.model_config)
    load_weights(start, start_weights)
    models = {"start": start.to(device)}
    if tuned is not None:
        models["tuned"] = load_checkpoint(tuned)[0].to(device)
    calibrated = sorted(p.stem for p in Path(config.profiles_dir).glob("*.json"))
    # The training run's validation sensors first: the first keeps its seeds, so its rows match log.csv's scores.
    sensors = [*config.val_cameras, *(s for s in calibrated if s not in config.val_cameras)] if calibrated else []
    sets = {
        "val": dataclasses.replace(config, val_images=10**6, val_cameras=sensors),
        "train": dataclasses.replace(
            config, val_dir=config.train_dirs[0], val_images=train_crops, val_crop=config.patch, val_cameras=sensors[:1]
        ),
    }
    rows = ["| crops | sensor | ratio | pictures | " + " | ".join(f"{m} dB" for m in models) + " | change dB |"]
    rows.append("|---" * (5 + len(models)) + "|")
    for kind, cfg in sets.items():
        samples = validation_set(cfg)
        names = cfg.val_cameras if Path(cfg.profiles_dir).is_dir() else ["virtual"]
        per_sensor = len(samples) // max(len(names), 1)
        groups: dict[tuple[str, float], list[int]] = defaultdict(list)
        for i in range(len(samples)):  # validation_set lays samples out sensor by sensor, picture, ratio
            groups[names[i // per_sensor], cfg.val_ratios[i % len(cfg.val_ratios)]].append(i)
        scores = {m: [validate(net, [s], device) for s in samples] for m, net in models.items()}
        for (sensor, ratio), index in groups.items():
            means = [float(np.mean([scores[m][i] for i in index])) for m in models]
            change = f"{means[-1] - means[0]:+.2f}" if len(means) > 1 else ""
            cells = " | ".join(f"{v:.2f}" for v in means)
            rows.append(f"| {kind} | {sensor} | {ratio:g} | {len(index)} | {cells} | {change} |")
        means = [float(np.mean(scores[m])) for m in models]
        change = f"{means[-1] - means[0]:+.2f}" if len(means) > 1 else ""
        rows.append(f"| {kind} | all | all | {len(samples)} | {' | '.join(f'{v:.2f}' for v in means)} | {change} |")
    return "\n".join(rows)


def run_slot(run: SlotRun) -> str:
    """Unpack, fine-tune, export and score; returns the table (also written to ``out``/table.md)."""
    import torch

    from .export import export_variants
    from .train import train

    cuda = torch.cuda.is_available()
    parts = unpack_bundle(run.bundle, run.work / "pictures")
    config = slot_config(run, parts, cuda, os.cpu_count() or 1)
    print(
        f"slot: {run.model} from {run.init} for {run.minutes:g} min on {'cuda' if cuda else 'cpu'}, "
        f"{len(list(parts['train'].iterdir()))} training crops, workers={config.workers}",
        flush=True,
    )
    result = train(config)
    run.out.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(config.out_dir) / "log.csv", run.out / "log.csv")
    if result.best is not None:
        paths = export_variants(result.best, run.out, name=run.model, precisions=("fp32",), fp16_storage=True)
        print(f"slot: exported {', '.join(str(p) for p in paths.values())}", flush=True)
    else:
        print("slot: no validation ran before the time was up: nothing exported (lower val_every)", flush=True)
    table = score_table(config, run.init, result.best)
    summary = f"step {result.step} of {config.steps}" + (" (stopped by max_minutes)" if result.stopped_early else "")
    text = f"{run.model}, {summary}, from {run.init}\n\n{table}\n"
    (run.out / "table.md").write_text(text)
    print(text, flush=True)
    return text


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m seeisp.training.gpu_slot", description=__doc__.split("\n")[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    pack = verbs.add_parser("pack", help="crops of the training pictures, the validation crops and the profiles")
    pack.add_argument("--out", required=True, type=Path)
    pack.add_argument("--train", nargs="+", default=["../shared/data/clean/train"])
    pack.add_argument("--val", default="../shared/data/clean/val/kodak24")
    pack.add_argument("--profiles", default="../shared/data/noise_profiles")
    pack.add_argument("--mib", type=float, default=PackSettings.budget_mib, help="size of the whole bundle")
    pack.add_argument("--crop", type=int, default=PackSettings.crop)
    pack.add_argument("--quality", type=int, default=PackSettings.quality, help="JPEG quality; 0 = lossless WebP")
    pack.add_argument("--seed", type=int, default=PackSettings.seed, help="another seed, other crops")
    go = verbs.add_parser("run", help="fine-tune on the bundle, export ONNX, print the validation table")
    go.add_argument("--bundle", required=True, type=Path)
    go.add_argument("--model", choices=("full", "lite"), default="full")
    go.add_argument("--init", help="weights to start from (default: weights/seeisp-<model>.onnx)")
    go.add_argument("--minutes", type=float, default=7.0, help="training wall time (the slot adds about a minute)")
    go.add_argument("--out", required=True, type=Path)
    go.add_argument("--work", type=Path, default=Path("runs/slot"))
    go.add_argument("overrides", nargs="*", help="TrainConfig KEY=VALUE, e.g. steps=6000 lr=3e-5")
    args = parser.parse_args(argv)
    if args.verb == "pack":
        settings = PackSettings(crop=args.crop, budget_mib=args.mib, quality=args.quality, seed=args.seed)
        manifest = pack_bundle(args.out, args.train, args.val, args.profiles, settings)
        size = args.out.stat().st_size / 2**20
        print(
            f"{args.out}: {size:.1f} MiB, {len(manifest['train'])} training crops of {args.crop} px from "
            f"{manifest['pictures']} pictures, {len(manifest['val'])} validation crops"
        )
    else:
        init = args.init or f"weights/seeisp-{args.model}.onnx"
        run_slot(SlotRun(args.model, args.bundle, args.out, args.work, init, args.minutes, tuple(args.overrides)))


if __name__ == "__main__":
    main()
