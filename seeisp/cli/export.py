"""seeisp export: a training checkpoint -> ONNX models in fp32, fp16 and int8, with their metadata; or a shipped
fp32 model -> its fp16 or int8 variant."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from ..errors import SeeispError, one_line
from ..writable import check_writable, check_writable_folder

# The same as seeisp.training.quantize.PRECISIONS, which is not imported here: it needs the train extra.
PRECISIONS = ("fp32", "fp16", "int8")


def register(sub: argparse._SubParsersAction, name: str, help_text: str) -> None:
    p = sub.add_parser(
        name,
        help=help_text,
        description=help_text + ". Files are named seeisp-NAME.onnx, seeisp-NAME-fp16.onnx, seeisp-NAME-int8.onnx. "
        "From an fp32 .onnx file (e.g. weights/seeisp-lite.onnx), the fp16 and int8 variants are made.",
    )
    p.add_argument(
        "source", help="checkpoint written by 'seeisp train' (e.g. runs/lite/best.pt), or an fp32 model (.onnx)"
    )
    p.add_argument("-o", "--out-dir", default="weights", help="folder for the .onnx files (default: weights)")
    p.add_argument("--name", help="model name, e.g. lite or full (default: the name the source carries)")
    p.add_argument(
        "--variants",
        nargs="+",
        choices=PRECISIONS,
        help="precisions to write (default: all from a checkpoint, fp16 and int8 from an .onnx file)",
    )
    p.add_argument(
        "--calibration-samples",
        type=int,
        default=32,
        metavar="N",
        help="simulated dark raws for int8 calibration, ratios spread over 1-300 (default: 32)",
    )
    p.add_argument(
        "--calibration-images",
        nargs="+",
        metavar="DIR",
        help="folders of clean pictures for int8 calibration (default: the source's training folders, "
        "else the built-in scene)",
    )
    p.add_argument(
        "--fp16-storage",
        action="store_true",
        help="store the fp32 model's weights in fp16: half the file, the same fp32 arithmetic (weights rounded)",
    )
    p.add_argument("--force", action="store_true", help="replace model files that already exist")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    source, out_dir = Path(args.source), Path(args.out_dir)
    from_onnx = source.suffix.lower() == ".onnx"  # as seeisp.training.export.is_onnx, which needs torch
    if not source.is_file():
        raise SeeispError(f"{source}: no such {'model' if from_onnx else 'checkpoint'} file")
    if args.calibration_samples < 1:
        raise SeeispError(f"--calibration-samples must be at least 1, got {args.calibration_samples}")
    if args.name is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", args.name):
        raise SeeispError(f"--name {args.name!r}: use letters, digits, '-', '_' or '.'")
    variants = list(dict.fromkeys(args.variants or (PRECISIONS[1:] if from_onnx else PRECISIONS)))
    if from_onnx and "fp32" in variants:
        raise SeeispError(f"{source}: already an fp32 model; --variants fp16 and int8 are made from it")
    check_writable_folder(out_dir)
    for folder in args.calibration_images or []:
        if not Path(folder).is_dir():
            raise SeeispError(f"{folder}: no such folder of calibration pictures")

    from ..training.export import export_variants, load_checkpoint, onnx_training_config, variant_paths

    try:
        config = onnx_training_config(source) if from_onnx else load_checkpoint(source)[1].get("config", {})
    except Exception as exc:  # torch.load, onnx.load and load_state_dict raise many unrelated types
        what = "an fp32 seeisp model" if from_onnx else "a seeisp training checkpoint"
        raise SeeispError(f"{source}: not {what} ({one_line(exc)})") from None
    name = args.name or config.get("name") or source.stem
    for path in variant_paths(out_dir, name, variants).values():
        check_writable(path, overwrite=args.force, make_folders=True, replace_with="--force")

    paths = export_variants(
        source,
        out_dir,
        name,
        variants,
        calibration_samples=args.calibration_samples,
        calibration_dirs=args.calibration_images,
        log=lambda message: print(message, flush=True),
        fp16_storage=args.fp16_storage,
    )
    for precision, path in paths.items():
        print(f"{precision:5s} {path.stat().st_size / 1e6:6.1f} MB  {path}")
    return 0
