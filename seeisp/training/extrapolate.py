"""Carry a fine-tune further along its own direction: weights = final + (alpha - 1) * (final - anchor).

    python -m seeisp.training.extrapolate ANCHOR FINAL --alphas 1.25 1.5 1.75 2 -o runs/lite-x/extrapolated.pt

A fine-tune at a small learning rate on a small dataset stops short: Adam's steps are noisy at the
scale where the loss is flat, so later steps of the same run, or restarts of it, jitter around the
point it reached (weights/HISTORY.md, twelfth and thirteenth sessions). Stepping further along
the straight line from where the fine-tune started to where it ended is a cheap way past that
("model extrapolation", Zheng et al. 2024, "Weak-to-Strong Extrapolation Expedites Alignment").
Each ``alpha`` is scored on the validation crops ``seeisp train`` uses (alpha 1 is FINAL itself),
and the best is written as a checkpoint for ``seeisp export``, recording how it was made.

ANCHOR and FINAL are checkpoints or fp32 ONNX files that ``seeisp export`` wrote. The anchor may
have fewer ``extra_convs`` than the final (the final was grown from it): its missing residual
convolutions count as the zeros they started from.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import torch

from ..cli.argtypes import finite_number
from ..errors import SeeispError, one_line
from ..writable import check_writable
from .config import TrainConfig
from .export import checkpoint_config
from .model import SIDUNet, UNetConfig
from .train import load_weights, validate, validation_set


def extrapolate(anchor: Mapping[str, torch.Tensor], final: Mapping[str, torch.Tensor], alpha: float) -> dict:
    """``final + (alpha - 1) * (final - anchor)`` for every floating-point tensor (alpha 0 = anchor, 1 = final)."""
    return {
        name: tensor + (alpha - 1) * (tensor - anchor[name]) if tensor.is_floating_point() else tensor.clone()
        for name, tensor in final.items()
    }


def describe(path: str | os.PathLike[str]) -> tuple[UNetConfig, dict]:
    """The network a checkpoint or exported ONNX file holds, and what it records of its training."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    try:
        if path.suffix == ".onnx":
            import onnx

            meta = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
            config = UNetConfig(**json.loads(meta["seeisp.model_config"]))
            training = {"name": meta.get("seeisp.name", path.stem), **json.loads(meta.get("seeisp.training", "{}"))}
        else:
            state = torch.load(path, map_location="cpu", weights_only=False)
            config = checkpoint_config(state)
            training = {**state.get("config", {}), "step": state.get("step")}
    except Exception as exc:  # protobuf, pickle and zip errors alike: whatever it is, it is not our file
        raise ValueError(f"{path}: not a checkpoint or ONNX file written by seeisp ({type(exc).__name__})") from None
    return config, training


def weights_of(path: str | os.PathLike[str], config: UNetConfig) -> dict[str, torch.Tensor]:
    model = SIDUNet(config)
    load_weights(model, path)
    return model.state_dict()


def run(
    anchor: str | os.PathLike[str],
    final: str | os.PathLike[str],
    alphas: Sequence[float],
    out: str | os.PathLike[str],
    validation: TrainConfig,
    log: Callable[[str], None] = print,
) -> tuple[float, float]:
    """Score FINAL and each extrapolation on the validation crops, save the best as a checkpoint; (alpha, PSNR)."""
    if not all(math.isfinite(alpha) for alpha in alphas):
        raise ValueError(f"alphas must be finite numbers, not {', '.join(map(str, alphas))}")
    check_writable(out, make_folders=True)
    config, training = describe(final)
    describe(anchor)  # a one-line error for a file that is not ours, before any weights are read
    start, end = weights_of(anchor, config), weights_of(final, config)
    samples = validation_set(validation)
    if not samples:
        raise ValueError(f"no validation pictures in {validation.val_dir}")
    model = SIDUNet(config)
    scores = {}
    for alpha in sorted({1.0, *alphas}):
        model.load_state_dict(extrapolate(start, end, alpha))
        scores[alpha] = validate(model, samples, torch.device("cpu"))
        log(f"alpha {alpha:g}: validation {scores[alpha]:.3f} dB")
    best = max(scores, key=scores.get)
    model.load_state_dict(extrapolate(start, end, best))

    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    kept = {k: v for k, v in training.items() if k in fields}
    train_config = TrainConfig(**{**kept, "width": config.width, "extra_convs": config.extra_convs})
    state = {
        "model": model.state_dict(),
        "model_config": config.to_dict(),
        "config": dataclasses.asdict(train_config),
        "step": training.get("step"),
        "val_psnr": scores[best],
        "extrapolation": {"anchor": str(anchor), "final": str(final), "alpha": best, "val_psnr_final": scores[1.0]},
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, out)
    log(f"best alpha {best:g} ({scores[best]:.3f} dB, final {scores[1.0]:.3f} dB): {out}")
    return best, scores[best]


def main(argv: Sequence[str] | None = None) -> int:
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(prog="python -m seeisp.training.extrapolate", description=__doc__.split("\n")[0])
    parser.add_argument("anchor", help="where the fine-tune started: a checkpoint or an exported fp32 .onnx")
    parser.add_argument("final", help="where it ended: a checkpoint or an exported fp32 .onnx")
    parser.add_argument(
        "--alphas", type=finite_number, nargs="+", default=[1.25, 1.5, 1.75, 2.0], help="1 = final itself"
    )
    parser.add_argument("-o", "--out", required=True, help="checkpoint to write (for 'seeisp export')")
    parser.add_argument("--val-dir", default=defaults.val_dir)
    parser.add_argument("--val-images", type=int, default=defaults.val_images)
    parser.add_argument("--val-crop", type=int, default=defaults.val_crop)
    parser.add_argument("--val-ratios", type=float, nargs="+", default=defaults.val_ratios)
    parser.add_argument("--val-cameras", nargs="+", default=defaults.val_cameras, help="noise profiles to score on")
    parser.add_argument("--profiles-dir", default=defaults.profiles_dir)
    args = parser.parse_args(argv)
    try:
        validation = dataclasses.replace(  # TrainConfig checks every value
            defaults,
            val_dir=args.val_dir,
            val_images=args.val_images,
            val_crop=args.val_crop,
            val_ratios=args.val_ratios,
            val_cameras=args.val_cameras,
            profiles_dir=args.profiles_dir,
        )
        run(args.anchor, args.final, args.alphas, args.out, validation)
    except (OSError, ValueError, SeeispError) as exc:  # a file or data error: one line, not the usage block
        message = one_line(exc)
        print(f"{parser.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2) from None
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
