"""Export a trained checkpoint to a single ONNX file that carries its own configuration."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import onnx
import torch

from ..errors import SeeispError
from ..noise_level import SMOOTHING
from ..pack import INPUT_RANGE
from ..ratio import MAX_RATIO, MIN_RATIO
from ..writable import staged_file
from .model import SIDUNet, UNetConfig

OPSET = 18


def checkpoint_config(state: dict) -> UNetConfig:
    """The network a checkpoint's state describes."""
    # Checkpoints from before the input skip existed have no 'input_skip' key, and no skip.
    return UNetConfig(**{"input_skip": False, **state["model_config"]})


def load_checkpoint(path: str | os.PathLike[str]) -> tuple[SIDUNet, dict]:
    state = torch.load(path, map_location="cpu", weights_only=False)
    model = SIDUNet(checkpoint_config(state))
    model.load_state_dict(state["model"])
    return model.eval(), state


def model_metadata(model: SIDUNet, state: dict, name: str) -> dict[str, str]:
    """What a standalone runner needs to feed the network and read its output."""
    cfg = state.get("config", {})
    summary = {k: cfg[k] for k in ("steps", "batch_size", "patch", "train_dirs", "profiles_dir") if k in cfg}
    fine_tuning = ("init_from", "pattern_share", "ema", "noise_plane")
    summary.update({k: cfg[k] for k in fine_tuning if cfg.get(k)})  # only when used
    summary.update(step=state.get("step"), val_psnr=state.get("val_psnr"))
    noise_plane = has_noise_plane(model.config)
    return {
        "seeisp.name": name,
        "seeisp.width": str(model.config.width),
        "seeisp.model_config": json.dumps(model.config.to_dict()),
        "seeisp.input": (NOISE_INPUT_TEXT if noise_plane else RAW_INPUT_TEXT),
        "seeisp.noise_plane": str(int(noise_plane)),
        "seeisp.output": "linear camera RGB (N,3,2h,2w) float32, not white balanced",
        "seeisp.cfa": "RGGB",
        "seeisp.channel_order": "R,G1,G2,B",
        "seeisp.normalisation": "(raw - black) / (white - black) per CFA cell, times ratio, clipped to [-1, 1]",
        "seeisp.input_range": ",".join(f"{bound:g}" for bound in INPUT_RANGE),
        "seeisp.precision": "fp32",
        "seeisp.pad_multiple": str(model.pad_multiple),
        "seeisp.ratio_range": f"{MIN_RATIO:g},{MAX_RATIO:g}",
        "seeisp.training": json.dumps(summary),
    }


RAW_INPUT_TEXT = (
    "packed RGGB raw (N,4,h,w) float32: (raw-black)/(white-black) * ratio, clipped to [-1,1]; "
    "channels R,G1,G2,B; other CFA phases mirrored to RGGB first"
)
# seeisp.noise_level.noise_plane in words, for a runner written without seeisp.
NOISE_INPUT_TEXT = (
    "(N,5,h,w) float32: channels 1-4 the packed RGGB raw, (raw-black)/(white-black) * ratio, clipped to [-1,1], "
    "channels R,G1,G2,B, other CFA phases mirrored to RGGB first; channel 5 the expected noise std of each packed "
    "pixel in the same unit: mean over the 4 channels c of ratio * sqrt(gain * s_c / ratio + read_sigma^2), "
    f"s_c = max(0, mean of channel c over the {SMOOTHING}x{SMOOTHING} box around the pixel, cut at the edges), "
    "gain and read_sigma of the raw on the (raw-black)/(white-black) scale (seeisp.noise_level)"
)


def has_noise_plane(config: UNetConfig) -> bool:
    """Whether the network reads a fifth input plane, the expected noise of each pixel (``noise_input``)."""
    return config.in_channels == 5


def export_onnx(checkpoint: str | os.PathLike[str], out: str | os.PathLike[str], name: str | None = None) -> Path:
    """Checkpoint -> one fp32 ONNX file with dynamic batch, height and width."""
    model, state = load_checkpoint(checkpoint)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    name = name or state.get("config", {}).get("name", out.stem)
    with staged_file(out) as tmp:
        _write_onnx(model, state, name, tmp)
    return out


def _write_onnx(model: SIDUNet, state: dict, name: str, tmp: Path) -> None:
    # Batch 2, not 1: torch.export takes a size-1 dimension for a constant.
    example = torch.zeros(2, model.config.in_channels, 64, 64)
    dynamic = torch.export.Dim.DYNAMIC
    with _quiet_exporter():
        program = torch.onnx.export(
            model,
            (example,),
            input_names=["raw_and_noise" if has_noise_plane(model.config) else "raw"],
            output_names=["rgb"],
            dynamic_shapes={"inp": {0: dynamic, 2: dynamic, 3: dynamic}},
            opset_version=OPSET,
            dynamo=True,
            verbose=False,
        )
    proto = program.model_proto
    _name_dimensions(proto.graph.input[0], ("batch", None, "height", "width"))
    _name_dimensions(proto.graph.output[0], ("batch", None, "height2", "width2"))
    for key, value in model_metadata(model, state, name).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(tmp))


def _name_dimensions(value: onnx.ValueInfoProto, names: Sequence[str | None]) -> None:
    """Give the dynamic dimensions of a graph input or output readable names (torch.export calls them s0, s1, ...)."""
    for dimension, dim_name in zip(value.type.tensor_type.shape.dim, names, strict=True):
        if dim_name is not None:
            dimension.dim_param = dim_name


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """The exporter's chatter kept off the console: notes on optional torchvision operators it skips, and
    deprecation warnings from inside torch that no caller can act on."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        logger.setLevel(level)


def is_onnx(source: str | os.PathLike[str]) -> bool:
    """Whether ``export_variants`` takes ``source`` for an ONNX model (else for a training checkpoint)."""
    return Path(source).suffix.lower() == ".onnx"


def onnx_training_config(path: str | os.PathLike[str]) -> dict:
    """The name and training summary (``train_dirs``, ``profiles_dir``, ...) an fp32 ONNX file made by
    ``export_onnx`` carries; a ``ValueError`` for any other file."""
    from .quantize import seeisp_metadata

    metadata = seeisp_metadata(onnx.load(str(path)))
    if "seeisp.name" not in metadata:
        raise ValueError("no seeisp metadata")
    if metadata.get("seeisp.precision", "fp32") != "fp32":
        raise ValueError(f"an {metadata['seeisp.precision']} model; variants are made from the fp32 one")
    return {**json.loads(metadata.get("seeisp.training") or "{}"), "name": metadata["seeisp.name"]}


def variant_paths(out_dir: str | os.PathLike[str], name: str, precisions: Sequence[str]) -> dict[str, Path]:
    """precision -> where ``export_variants`` writes it, named as in ``seeisp.models.MODELS``."""
    from .quantize import variant_filename

    return {precision: Path(out_dir) / variant_filename(name, precision) for precision in precisions}


def export_variants(
    source: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    name: str | None = None,
    precisions: Sequence[str] = ("fp32", "fp16", "int8"),
    calibration_samples: int = 32,
    calibration_dirs: Sequence[str | os.PathLike[str]] | None = None,
    log: Callable[[str], None] = lambda _message: None,
    fp16_storage: bool = False,
) -> dict[str, Path]:
    """A checkpoint, or an fp32 ONNX file (for its fp16 and int8 variants) -> ``seeisp-<name>[-<precision>].onnx``
    in ``out_dir`` for each precision.

    int8 is calibrated on simulated dark raws made from the pictures in ``calibration_dirs`` (a ``SeeispError``
    when none of them holds a picture of ``CALIBRATION_PATCH`` px; default: the source's training folders when
    they exist here, else the built-in scene) with the source's noise profiles (else the virtual sensor).
    The files appear only when all are made. ``fp16_storage`` stores the
    fp32 file's weights in fp16 (``store_weights_fp16``), after the other variants are made from it.
    """
    from ..sim.noise import load_profiles
    from .quantize import (
        CALIBRATION_PATCH,
        builtin_pictures,
        calibration_inputs,
        calibration_pictures,
        convert_fp16,
        quantize_int8,
        store_weights_fp16,
    )

    from_onnx = is_onnx(source)
    if from_onnx and "fp32" in precisions:
        raise SeeispError(f"{source}: already an fp32 model; make its fp16 or int8 variant from it")
    config = onnx_training_config(source) if from_onnx else load_checkpoint(source)[1].get("config", {})
    name = name or config.get("name") or Path(source).stem
    paths = variant_paths(out_dir, name, precisions)
    inputs: list[np.ndarray] = []
    if "int8" in paths:  # the calibration pictures first: a bad one must stop the export before any file is written
        folders = calibration_dirs if calibration_dirs is not None else config.get("train_dirs", [])
        folders = [f for f in folders if Path(f).is_dir()]
        found = calibration_pictures(folders, calibration_samples, CALIBRATION_PATCH)
        if calibration_dirs is not None and not found:
            named = ", ".join(map(str, calibration_dirs))
            raise SeeispError(f"no calibration picture of at least {CALIBRATION_PATCH} px in {named}")
        profiles_dir = config.get("profiles_dir")
        profiles = load_profiles(profiles_dir) if profiles_dir and Path(profiles_dir).is_dir() else {}
        noise_plane = bool(config.get("noise_plane"))
        pictures = found or builtin_pictures()
        inputs = calibration_inputs(calibration_samples, pictures, list(profiles.values()), noise_plane=noise_plane)
        drawn_from = f"{len(found)} pictures in {', '.join(map(str, folders))}" if found else "the built-in scene"
        ratios = f"{MIN_RATIO:g}-{MAX_RATIO:g}"
        log(f"int8: calibrating on {len(inputs)} simulated dark raws from {drawn_from}, ratios {ratios}")
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    # Every file is made beside its destination and moved into place at the end: a failed export leaves none.
    with tempfile.TemporaryDirectory(prefix=".seeisp-export-", dir=out_dir) as tmp:
        staged = {precision: Path(tmp) / path.name for precision, path in paths.items()}
        fp32 = Path(source) if from_onnx else staged.get("fp32", Path(tmp) / "fp32.onnx")
        if not from_onnx:
            export_onnx(source, fp32, name)
            log("fp32: exported")
        if "fp16" in staged:
            convert_fp16(fp32, staged["fp16"])
            log("fp16: converted")
        if "int8" in staged:
            quantize_int8(fp32, staged["int8"], inputs)
            log("int8: quantised")
        if fp16_storage and "fp32" in staged:
            store_weights_fp16(fp32, fp32)
            log("fp32: weights stored in fp16")
        for precision, path in paths.items():
            os.replace(staged[precision], path)
    return paths
