"""Smaller variants of an exported fp32 model: fp16 weights and static QDQ int8.

    fp32 = export_onnx("runs/lite/best.pt", "weights/seeisp-lite.onnx")
    convert_fp16(fp32, "weights/seeisp-lite-fp16.onnx")
    quantize_int8(fp32, "weights/seeisp-lite-int8.onnx", calibration_inputs(32, images))

Both keep float32 inputs and outputs, so every runner feeds every variant the same tensor.
The int8 variant is calibrated on simulated dark raws amplified at ratios spread
log-uniformly over the trained range, i.e. on what the network sees at inference.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)

from ..output import quantize
from ..ratio import MAX_RATIO, MIN_RATIO
from ..sim.noise import SensorProfile
from ..sim.pictures import list_images, load_srgb
from ..sim.scene import draw_scene
from ..writable import staged_file
from .data import SyntheticPairs

PRECISIONS = ("fp32", "fp16", "int8")
CALIBRATION_RATIO_RANGE = (MIN_RATIO, MAX_RATIO)  # the models' range
CALIBRATION_PATCH = 512  # raw pixels: packed 256 x 256, deep enough for every level of the U-Net


def variant_name(name: str, precision: str) -> str:
    """``lite`` + ``int8`` -> ``lite-int8``; fp32 keeps the bare name (as in ``seeisp.models.MODELS``)."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose from {', '.join(PRECISIONS)}")
    return name if precision == "fp32" else f"{name}-{precision}"


def variant_filename(name: str, precision: str) -> str:
    return f"seeisp-{variant_name(name, precision)}.onnx"


def seeisp_metadata(model: onnx.ModelProto) -> dict[str, str]:
    return {p.key: p.value for p in model.metadata_props if p.key.startswith("seeisp.")}


def set_metadata(model: onnx.ModelProto, values: dict[str, str]) -> None:
    """Replace the given ``metadata_props`` keys, keeping the others."""
    kept = [(p.key, p.value) for p in model.metadata_props if p.key not in values]
    del model.metadata_props[:]
    for key, value in [*kept, *values.items()]:
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value


def _variant_metadata(source: dict[str, str], precision: str) -> dict[str, str]:
    base = source.get("seeisp.name", "model")
    if source.get("seeisp.precision", "fp32") != "fp32":
        raise ValueError(f"the source model {base!r} must be fp32, not {source['seeisp.precision']}")
    return {**source, "seeisp.name": variant_name(base, precision), "seeisp.precision": precision}


def _save_atomically(model: onnx.ModelProto, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    with staged_file(out) as tmp:
        onnx.save(model, str(tmp))
    return out


def load_fp32(path: str | os.PathLike[str]) -> onnx.ModelProto:
    """An fp32 model with float32 initializers, whether or not its weights are stored in fp16.

    Undoes ``store_weights_fp16``: each fp16 initializer that a Cast turns into float32 becomes a
    float32 initializer again. The variant makers need this: the quantiser only quantises weights
    that are initializers, and the fp16 converter would otherwise see Casts where weights should be.
    """
    from onnx import TensorProto, numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    halves = {init.name: init for init in graph.initializer if init.data_type == TensorProto.FLOAT16}
    restored, nodes, used = [], [], set()
    for node in graph.node:
        to_float = next((a.i == TensorProto.FLOAT for a in node.attribute if a.name == "to"), False)
        if node.op_type == "Cast" and to_float and node.input[0] in halves:
            weight = numpy_helper.to_array(halves[node.input[0]]).astype(np.float32)
            restored.append(numpy_helper.from_array(weight, node.output[0]))
            used.add(node.input[0])
        else:
            nodes.append(node)
    if not restored:
        return model
    kept = [init for init in graph.initializer if init.name not in used]
    del graph.initializer[:]
    graph.initializer.extend([*kept, *restored])
    del graph.node[:]
    graph.node.extend(nodes)
    metadata = {p.key: p.value for p in model.metadata_props if p.key != "seeisp.weight_storage"}
    del model.metadata_props[:]
    set_metadata(model, metadata)
    return model


def convert_fp16(fp32_path: str | os.PathLike[str], out: str | os.PathLike[str]) -> Path:
    """fp16 weights and activations, float32 input ``raw`` and output ``rgb`` (Cast nodes at the ends)."""
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = load_fp32(fp32_path)
    metadata = _variant_metadata(seeisp_metadata(model), "fp16")
    half = convert_float_to_float16(model, keep_io_types=True)
    set_metadata(half, metadata)
    return _save_atomically(half, Path(out))


def store_weights_fp16(fp32_path: str | os.PathLike[str], out: str | os.PathLike[str]) -> Path:
    """The fp32 model with its weights stored in fp16: half the file, the same fp32 arithmetic.

    Each float32 weight ``w`` becomes an fp16 initializer ``w.fp16`` and a Cast back to float32
    named ``w``, which ONNX Runtime folds when it loads the model. Outputs move by the fp16
    rounding of the weights (a few 1e-4 on the shipped models), far below the int8 variant's.
    """
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(fp32_path))
    graph = model.graph
    casts, kept = [], []
    for init in graph.initializer:
        if init.data_type != TensorProto.FLOAT:
            kept.append(init)
            continue
        half = numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), f"{init.name}.fp16")
        kept.append(half)
        casts.append(helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT))
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = [*casts, *graph.node]
    del graph.node[:]
    graph.node.extend(nodes)
    set_metadata(model, {"seeisp.weight_storage": "fp16"})
    return _save_atomically(model, Path(out))


class PackedRawReader(CalibrationDataReader):
    """Feeds ready-made (1, 4, h, w) network inputs to ONNX Runtime's calibrator.

    ``set_range`` lets the calibrator take them a few at a time (``CalibStridedMinMax``): it keeps
    every activation of the samples it holds, which for all samples at once would take gigabytes.
    """

    def __init__(self, inputs: Sequence[np.ndarray], input_name: str = "raw"):
        self.inputs = list(inputs)
        self.input_name = input_name
        self.position, self.end = 0, len(self.inputs)

    def __len__(self) -> int:
        return len(self.inputs)

    def set_range(self, start_index: int, end_index: int) -> None:
        self.position, self.end = start_index, min(end_index, len(self.inputs))

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self.position >= self.end:
            return None
        self.position += 1
        return {self.input_name: self.inputs[self.position - 1]}


def calibration_pictures(folders: Sequence[str | os.PathLike[str]], count: int, min_side: int) -> list[np.ndarray]:
    """Up to ``count`` pictures of at least ``min_side`` px from the folders, taken across the whole
    sorted list (a golden-ratio stride), so that every folder contributes."""
    paths = list_images(folders)
    order = np.argsort((np.arange(len(paths)) * 0.6180339887) % 1.0, kind="stable")
    pictures: list[np.ndarray] = []
    for index in order:
        if len(pictures) == count:
            break
        picture = load_srgb(paths[index])
        if min(picture.shape[:2]) >= min_side:
            pictures.append(picture)
    return pictures


def builtin_pictures(size: int = CALIBRATION_PATCH) -> list[np.ndarray]:
    """The demo scene and smooth random colour waves, as uint16 sRGB: no files needed."""
    rng = np.random.default_rng(0)
    pictures = [draw_scene(max(size, 768), max(size, 1152))]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    for _ in range(4):
        waves = np.zeros((size, size, 3), np.float32)
        for _ in range(6):
            fy, fx = rng.uniform(-4, 4, 2)
            wave = np.sin(2 * np.pi * (fy * yy + fx * xx) + rng.uniform(0, 2 * np.pi))
            waves += wave[..., None] * rng.uniform(0, 0.15, 3).astype(np.float32)
        pictures.append(0.5 + waves + rng.normal(0, 0.02, waves.shape).astype(np.float32))
    return [quantize(p, 16) for p in pictures]


def calibration_inputs(
    count: int,
    pictures: Sequence[np.ndarray],
    profiles: Sequence[SensorProfile] = (),
    patch: int = CALIBRATION_PATCH,
    seed: int = 0,
    noise_plane: bool = False,
) -> list[np.ndarray]:
    """``count`` simulated dark raws, packed and amplified, at ratios log-spaced over 1..300.

    Pictures are uint8/uint16 sRGB (as ``seeisp.sim.pictures.load_srgb`` gives them) of at least
    ``patch`` pixels a side; noise comes from the calibrated ``profiles`` or the virtual sensor.
    ``noise_plane`` adds each raw's noise plane (``seeisp.training.noise_input``), for a network that reads one.
    """
    if count < 1:
        raise ValueError("calibration needs at least one sample")
    usable = [p for p in pictures if min(p.shape[:2]) >= patch]
    if not usable:
        raise ValueError(f"no calibration picture is at least {patch} px on its shorter side")
    pairs = SyntheticPairs(list(usable), profiles, patch=patch)
    rng = np.random.default_rng(seed)
    ratios = np.geomspace(*CALIBRATION_RATIO_RANGE, num=count)
    from .noise_input import sample_with_noise_plane  # torch: only here, the rest of this module needs none

    inputs = []
    for ratio in ratios:
        packed, *_, noise = pairs.sample(rng, ratio=float(ratio), with_noise=True)  # the noise vector draws nothing
        inputs.append((sample_with_noise_plane(packed, noise) if noise_plane else packed)[None])
    return inputs


def float_nodes(model: onnx.ModelProto) -> list[str]:
    """The nodes ``quantize_int8`` keeps in float: the network's full-resolution level, i.e. everything
    reachable from the input without passing a MaxPool (the first encoder level, the input skip, the
    last decoder level, the head and the pixel shuffle)."""
    graph = model.graph
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    keep: list[str] = []
    pending = [graph.input[0].name]
    while pending:
        for node in consumers.get(pending.pop(), []):
            if node.op_type != "MaxPool" and node.name not in keep:
                keep.append(node.name)
                pending += list(node.output)
    return keep


@contextlib.contextmanager
def _quiet_quantizer() -> Iterator[None]:
    """ONNX Runtime's calibrators print progress and log advice on every call; keep the console for ours."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        root.setLevel(level)


def quantize_int8(
    fp32_path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    inputs: Sequence[np.ndarray],
    method: CalibrationMethod = CalibrationMethod.Percentile,
    full_resolution_in_float: bool = True,
    keep_float: Sequence[str] = (),
) -> Path:
    """Static QDQ int8: per-channel int8 weights, uint8 activations calibrated on ``inputs``.

    With ``full_resolution_in_float`` the network's full-resolution level (``float_nodes``: about a
    fifth of its arithmetic) stays in float. It reads the linear raw and writes linear RGB, and its
    activations carry the finest detail: in 8 bits, all of that is coarse in the shadows that the
    tone curve later stretches. ``keep_float`` names more nodes to leave in float. Percentile calibration
    (99.999 %) ignores the rare activation peaks that MinMax spends the 8-bit range on.
    """
    model = load_fp32(fp32_path)
    metadata = _variant_metadata(seeisp_metadata(model), "int8")
    input_name = model.graph.input[0].name
    excluded = [*(float_nodes(model) if full_resolution_in_float else []), *keep_float]
    with tempfile.TemporaryDirectory(prefix="seeisp-quant-") as tmp, _quiet_quantizer():
        source, quantized = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        onnx.save(model, str(source))
        quantize_static(
            str(source),
            str(quantized),
            PackedRawReader(inputs, input_name),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=excluded,
            calibrate_method=method,
            extra_options={"CalibStridedMinMax": 1},
        )
        result = onnx.load(str(quantized))
    set_metadata(result, metadata)
    return _save_atomically(result, Path(out))
