"""The registry of shipped models: a name, an ONNX file in weights/, and what it is."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelError


@dataclass(frozen=True)
class ModelInfo:
    name: str
    filename: str
    description: str


# Packed pixels per network call (2N x 2N raw pixels) when the caller chooses none; see default_tile.
WIDE_MODEL_TILE = 512
NARROW_MODEL_TILE = 1024
NARROW_MODEL_WIDTH = 16  # the lite models

# Best first: the first one whose file is present is the default.
MODELS: dict[str, ModelInfo] = {
    m.name: m
    for m in (
        ModelInfo("full", "seeisp-full.onnx", "SID U-Net, width 32 (32-64-128-256-512 channels)"),
        ModelInfo("lite", "seeisp-lite.onnx", "SID U-Net, width 16, three more convs per level: less work than full"),
        ModelInfo("full-fp16", "seeisp-full-fp16.onnx", "full model with fp16 weights (made by seeisp export)"),
        ModelInfo("lite-fp16", "seeisp-lite-fp16.onnx", "lite model with fp16 weights (made by seeisp export)"),
        ModelInfo("full-int8", "seeisp-full-int8.onnx", "full model, static QDQ int8"),
        ModelInfo("lite-int8", "seeisp-lite-int8.onnx", "lite model, static QDQ int8: fastest on a CPU"),
    )
}


def default_tile(width: int | None) -> int:
    """The tile size for a network of a given base width (its ``seeisp.width`` metadata; None when unknown).

    Bigger tiles recompute less overlap (each tile redoes a context margin on every inner side), but ONNX
    Runtime's buffers grow with width x tile area. Lite at 1024 is faster than at 512 and stays within the
    memory target at 24 MP; full at 1024 does not (docs/PERFORMANCE.md), so wider networks, and files without
    the width, keep 512.
    """
    return NARROW_MODEL_TILE if width is not None and width <= NARROW_MODEL_WIDTH else WIDE_MODEL_TILE


def weights_dirs() -> list[Path]:
    """Where weights are looked for: $SEEISP_WEIGHTS, the installed package, then a source checkout."""
    here = Path(__file__).resolve().parent
    dirs = [here / "weights", here.parent / "weights"]
    if os.environ.get("SEEISP_WEIGHTS"):
        dirs.insert(0, Path(os.environ["SEEISP_WEIGHTS"]))
    return dirs


def model_path(name: str | os.PathLike[str]) -> Path:
    """The ONNX file of a registered model name, or a path to any .onnx file."""
    name = os.fspath(name)
    if name.endswith(".onnx"):
        path = Path(name)
        if not path.is_file():
            raise ModelError(f"{name}: no such model file")
        return path
    if name not in MODELS:
        raise ModelError(f"unknown model {name!r}; choose one of {', '.join(MODELS)} or give a .onnx path")
    for folder in weights_dirs():
        path = folder / MODELS[name].filename
        if path.is_file():
            return path
    installed = ", ".join(available_models()) or "none"
    raise ModelError(
        f"model {name!r} is not installed ({MODELS[name].filename} not found in weights/){_how_to_make(name)}; "
        f"installed: {installed}"
    )


def _how_to_make(name: str) -> str:
    """For a variant (``lite-fp16``) whose fp32 model is installed: the command that makes it, else ''."""
    base, _, precision = name.rpartition("-")
    if base not in MODELS:
        return ""
    for folder in weights_dirs():
        fp32 = folder / MODELS[base].filename
        if fp32.is_file():
            return f"; make it with: seeisp export {fp32} --variants {precision} -o {folder} (needs the train extra)"
    return ""


def available_models() -> list[str]:
    """Registered models whose weights are present, best first."""
    found = []
    for name, info in MODELS.items():
        if any((folder / info.filename).is_file() for folder in weights_dirs()):
            found.append(name)
    return found


def default_model() -> str:
    found = available_models()
    if not found:
        raise ModelError("no seeisp model is installed (weights/ is empty)")
    return found[0]
