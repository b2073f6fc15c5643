"""Export a trained checkpoint to a single ONNX file that carries its own configuration."""

from __future__ import annotations

import json
import os
from pathlib import Path

import onnx
import torch

from .model import SIDUNet, UNetConfig

OPSET = 18


def load_checkpoint(path: str | os.PathLike[str]) -> tuple[SIDUNet, dict]:
    state = torch.load(path, map_location="cpu", weights_only=False)
    model = SIDUNet(UNetConfig(**state["model_config"]))
    model.load_state_dict(state["model"])
    return model.eval(), state


def model_metadata(model: SIDUNet, state: dict, name: str) -> dict[str, str]:
    """What a standalone runner needs to feed the network and read its output."""
    cfg = state.get("config", {})
    summary = {k: cfg[k] for k in ("steps", "batch_size", "patch", "train_dirs", "profiles_dir") if k in cfg}
    summary.update(step=state.get("step"), val_psnr=state.get("val_psnr"))
    return {
        "seeisp.name": name,
        "seeisp.width": str(model.config.width),
        "seeisp.model_config": json.dumps(model.config.to_dict()),
        "seeisp.input": "packed RGGB raw (N,4,h,w) float32: (raw-black)/(white-black) * ratio, clipped to [0,1]; "
        "channels R,G1,G2,B; other CFA phases mirrored to RGGB first",
        "seeisp.output": "linear camera RGB (N,3,2h,2w) float32, not white balanced",
        "seeisp.cfa": "RGGB",
        "seeisp.pad_multiple": str(model.pad_multiple),
        "seeisp.ratio_range": "1,300",
        "seeisp.training": json.dumps(summary),
    }


def export_onnx(checkpoint: str | os.PathLike[str], out: str | os.PathLike[str], name: str | None = None) -> Path:
    """Checkpoint -> one fp32 ONNX file with dynamic batch, height and width."""
    model, state = load_checkpoint(checkpoint)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    name = name or state.get("config", {}).get("name", out.stem)
    example = torch.zeros(1, model.config.in_channels, 64, 64)
    tmp = out.with_name(out.name + ".tmp")
    torch.onnx.export(
        model,
        (example,),
        str(tmp),
        input_names=["raw"],
        output_names=["rgb"],
        dynamic_axes={"raw": {0: "batch", 2: "height", 3: "width"}, "rgb": {0: "batch", 2: "height2", 3: "width2"}},
        opset_version=OPSET,
        external_data=False,
        dynamo=False,
    )
    proto = onnx.load(str(tmp))
    for key, value in model_metadata(model, state, name).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(tmp))
    os.replace(tmp, out)
    return out
