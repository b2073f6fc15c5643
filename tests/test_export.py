"""Export to ONNX (fp32, fp16, int8), the metadata contract, ``seeisp export`` and the standalone edge runner."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import onnx
import pytest

from seeisp.cli import main
from seeisp.dng import write_dng
from seeisp.enhance import denoise
from seeisp.pack import INPUT_RANGE
from seeisp.raw import read_raw
from seeisp.render import render
from seeisp.session import CONTEXT_BORDER, ModelSession

from conftest import write_onnx

REPO = Path(__file__).resolve().parents[1]
EDGE_INFER = REPO / "examples" / "edge_infer.py"

# What every shipped ONNX file must say about itself (docs/DEPLOYMENT.md).
METADATA_CONTRACT = (
    "seeisp.name",
    "seeisp.width",
    "seeisp.model_config",
    "seeisp.cfa",
    "seeisp.channel_order",
    "seeisp.normalisation",
    "seeisp.input_range",
    "seeisp.input",
    "seeisp.output",
    "seeisp.pad_multiple",
    "seeisp.ratio_range",
    "seeisp.precision",
    "seeisp.training",
)


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised width-4 SID U-Net saved the way ``seeisp train`` saves its best model."""
    torch = pytest.importorskip("torch")
    from seeisp.training.model import SIDUNet, UNetConfig

    torch.manual_seed(0)
    model = SIDUNet(UNetConfig(width=4))
    path = tmp_path_factory.mktemp("checkpoint") / "best.pt"
    config = {"name": "tiny", "steps": 0, "train_dirs": [], "profiles_dir": "/nonexistent"}
    torch.save({"model": model.state_dict(), "model_config": model.config.to_dict(), "config": config}, path)
    return path


@pytest.fixture(scope="module")
def tiny_fp32(tiny_checkpoint: Path) -> Path:
    from seeisp.training.export import export_onnx

    return export_onnx(tiny_checkpoint, tiny_checkpoint.parent / "seeisp-tiny.onnx")


@pytest.fixture(scope="module")
def tiny_torch(tiny_checkpoint: Path):
    from seeisp.training.export import load_checkpoint

    return load_checkpoint(tiny_checkpoint)[0]


def torch_forward(model, packed: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        return model(torch.from_numpy(np.ascontiguousarray(packed, np.float32))).numpy()


def random_packed(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def test_onnx_matches_torch_through_the_padding_path(tiny_fp32: Path, tiny_torch) -> None:
    packed = random_packed((4, 37, 53))  # neither side a multiple of 16
    session = ModelSession(tiny_fp32)
    assert session.pad_multiple == 16
    out = session.run(packed)
    assert out.shape == (3, 74, 106) and out.dtype == np.float32
    b = CONTEXT_BORDER  # mirrored all round, then to 64 x 80 at the bottom and right: what run() feeds the network
    padded = np.pad(packed, ((0, 0), (b, 27 - b), (b, 27 - b)), mode="reflect")
    expected = torch_forward(tiny_torch, padded[None])[0][:, 2 * b : 2 * b + 74, 2 * b : 2 * b + 106]
    np.testing.assert_allclose(out, expected, atol=1e-4)


@pytest.mark.parametrize("shape", [(1, 4, 16, 16), (1, 4, 32, 80), (2, 4, 48, 32)])
def test_onnx_has_dynamic_batch_height_and_width(tiny_fp32: Path, tiny_torch, shape: tuple[int, ...]) -> None:
    session = ModelSession(tiny_fp32).session
    packed = random_packed(shape, seed=sum(shape))
    out = session.run(["rgb"], {"raw": packed})[0]
    assert out.shape == (shape[0], 3, 2 * shape[2], 2 * shape[3])
    np.testing.assert_allclose(out, torch_forward(tiny_torch, packed), atol=1e-4)


def test_training_validation_scores_what_inference_gives(tiny_fp32: Path, tiny_torch) -> None:
    """Validation picks the best checkpoint, so it must score the network as ``ModelSession`` runs it: with the
    mirrored context. Scored with the network's own zero padding instead, the crops' edges count against it."""
    import torch

    from seeisp.eval.metrics import psnr
    from seeisp.render import bt709_encode, camera_to_linear_srgb
    from seeisp.training.train import validate

    session = ModelSession(tiny_fp32)
    rng = np.random.default_rng(3)
    wb, matrix = np.array([2.0, 1.0, 1.5], np.float32), np.eye(3, dtype=np.float32)
    samples = []
    for seed in (1, 2):  # targets near what inference gives, so that any other way of running scores lower
        packed = random_packed((4, 48, 64), seed=seed)
        target = session.run(packed).transpose(1, 2, 0) + rng.normal(0, 0.001, (96, 128, 3)).astype(np.float32)
        samples.append((packed, target, wb, matrix))

    def score_of(run) -> float:
        scores = []
        for packed, target, _, _ in samples:
            out = run(packed).transpose(1, 2, 0)
            scores.append(psnr(*(bt709_encode(camera_to_linear_srgb(a, wb, matrix)) for a in (out, target))))
        return float(np.mean(scores))

    as_inference = score_of(session.run)
    zero_padded = score_of(lambda packed: torch_forward(tiny_torch, packed[None])[0])
    score = validate(tiny_torch, samples, torch.device("cpu"))
    assert score == pytest.approx(as_inference, abs=1e-3)
    assert as_inference > zero_padded + 3.0


def test_checkpoints_from_before_the_input_skip_export_without_it(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from seeisp.training.export import export_onnx
    from seeisp.training.model import SIDUNet, UNetConfig

    torch.manual_seed(1)
    model = SIDUNet(UNetConfig(width=4, input_skip=False)).eval()
    old_config = {k: v for k, v in model.config.to_dict().items() if k != "input_skip"}  # as saved back then
    torch.save({"model": model.state_dict(), "model_config": old_config, "config": {"name": "old"}}, tmp_path / "a.pt")
    packed = random_packed((1, 4, 32, 32), seed=5)
    out = ModelSession(export_onnx(tmp_path / "a.pt", tmp_path / "old.onnx")).session.run(["rgb"], {"raw": packed})[0]
    np.testing.assert_allclose(out, torch_forward(model, packed), atol=1e-4)


def test_export_stages_under_a_fresh_name_and_leaves_other_files_alone(tiny_checkpoint: Path, tmp_path: Path) -> None:
    from seeisp.training.export import export_onnx

    out = tmp_path / "model.onnx"
    users_file = tmp_path / "model.onnx.tmp"  # the name the export used to stage under
    users_file.write_bytes(b"the user's notes")
    previous = os.umask(0o022)
    try:
        export_onnx(tiny_checkpoint, out)
    finally:
        os.umask(previous)
    assert users_file.read_bytes() == b"the user's notes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx", "model.onnx.tmp"]
    assert out.stat().st_mode & 0o777 == 0o644  # as the umask allows, not a temporary file's private 0600


def test_fp32_metadata_contract(tiny_fp32: Path) -> None:
    metadata = ModelSession(tiny_fp32).metadata
    assert set(METADATA_CONTRACT) <= metadata.keys()
    assert metadata["seeisp.name"] == "tiny"
    assert metadata["seeisp.precision"] == "fp32"
    assert metadata["seeisp.cfa"] == "RGGB"
    assert metadata["seeisp.channel_order"] == "R,G1,G2,B"
    assert metadata["seeisp.pad_multiple"] == "16"
    assert metadata["seeisp.ratio_range"] == "1,300"
    assert tuple(float(v) for v in metadata["seeisp.input_range"].split(",")) == INPUT_RANGE
    assert json.loads(metadata["seeisp.model_config"])["width"] == 4
    assert json.loads(metadata["seeisp.training"])["steps"] == 0


def with_metadata(source: Path, target: Path, **entries: str) -> Path:
    """A copy of an ONNX file with some ``seeisp.*`` metadata entries replaced."""
    model = onnx.load(str(source))
    for prop in model.metadata_props:
        if prop.key in entries:
            prop.value = entries[prop.key]
    onnx.save(model, str(target))
    return target


def test_inference_clips_at_the_input_range_the_model_declares(tiny_fp32: Path, tmp_path: Path) -> None:
    from seeisp.ensemble import single_pass

    mosaic = np.random.default_rng(0).normal(0.0, 0.01, (64, 96)).astype(np.float32)  # noise around black
    kept = ModelSession(tiny_fp32)
    clipped = ModelSession(with_metadata(tiny_fp32, tmp_path / "clips-at-0.onnx", **{"seeisp.input_range": "0,1"}))
    assert kept.input_range == INPUT_RANGE and clipped.input_range == (0.0, 1.0)
    np.testing.assert_allclose(
        single_pass(mosaic, clipped, 100), single_pass(np.maximum(mosaic, 0), kept, 100), atol=1e-6
    )
    assert not np.allclose(single_pass(mosaic, clipped, 100), single_pass(mosaic, kept, 100), atol=1e-3)


def test_a_model_with_a_garbled_input_range_is_a_model_error(tiny_fp32: Path, tmp_path: Path) -> None:
    from seeisp.errors import ModelError

    garbled = with_metadata(tiny_fp32, tmp_path / "garbled.onnx", **{"seeisp.input_range": "minus one to one"})
    with pytest.raises(ModelError, match=r"seeisp\.input_range"):
        ModelSession(garbled)


def test_training_summary_names_the_starting_weights_of_a_fine_tune(tiny_checkpoint: Path) -> None:
    from seeisp.training.export import load_checkpoint, model_metadata

    model, state = load_checkpoint(tiny_checkpoint)
    assert "init_from" not in json.loads(model_metadata(model, state, "tiny")["seeisp.training"])
    changes = {"init_from": "weights/x.onnx", "pattern_share": 0.25, "ema": 0.999}
    tuned = {**state, "config": {**state.get("config", {}), **changes}}
    summary = json.loads(model_metadata(model, tuned, "tiny")["seeisp.training"])
    assert {k: summary[k] for k in changes} == changes


@pytest.fixture(scope="module")
def tiny_variants(tiny_fp32: Path) -> dict[str, Path]:
    from seeisp.training.quantize import builtin_pictures, calibration_inputs, convert_fp16, quantize_int8

    inputs = calibration_inputs(6, builtin_pictures(128), patch=128)
    return {
        "fp32": tiny_fp32,
        "fp16": convert_fp16(tiny_fp32, tiny_fp32.with_name("seeisp-tiny-fp16.onnx")),
        "int8": quantize_int8(tiny_fp32, tiny_fp32.with_name("seeisp-tiny-int8.onnx"), inputs),
    }


def test_calibration_inputs_cover_the_ratio_range() -> None:
    from seeisp.training.quantize import builtin_pictures, calibration_inputs

    inputs = calibration_inputs(5, builtin_pictures(64), patch=64)
    assert [x.shape for x in inputs] == [(1, 4, 32, 32)] * 5
    low, high = INPUT_RANGE
    assert all(x.dtype == np.float32 and x.min() >= low and x.max() <= high for x in inputs)
    # On a flat grey picture all pixel-to-pixel jitter is noise, which grows with the ratio (1 to 300).
    inputs = calibration_inputs(5, [np.full((64, 64, 3), 30000, np.uint16)], patch=64)
    jitter = [float(np.std(np.diff(x[0, 1], axis=-1))) for x in inputs]
    assert jitter[-1] > 5 * jitter[0]


def test_calibration_pictures_skip_small_ones_and_stop_at_count(tmp_path: Path) -> None:
    from seeisp.training.quantize import calibration_pictures

    for i, side in enumerate([40, 80, 90, 30, 100, 85]):
        iio.imwrite(tmp_path / f"{i}.png", np.full((side, side + 7, 3), 20 * i, np.uint8))
    assert sorted(p.shape[0] for p in calibration_pictures([tmp_path], 10, 80)) == [80, 85, 90, 100]
    assert len(calibration_pictures([tmp_path], 2, 80)) == 2
    assert calibration_pictures([tmp_path / "empty"], 4, 80) == []


@pytest.mark.parametrize("precision", ["fp16", "int8"])
def test_variants_keep_float_io_and_metadata(tiny_variants: dict[str, Path], precision: str) -> None:
    session = ModelSession(tiny_variants[precision])
    assert session.session.get_inputs()[0].type == "tensor(float)"
    assert session.session.get_outputs()[0].type == "tensor(float)"
    assert session.name == f"tiny-{precision}"
    assert session.metadata["seeisp.precision"] == precision
    fp32_metadata = ModelSession(tiny_variants["fp32"]).metadata
    for key in METADATA_CONTRACT:
        if key not in ("seeisp.name", "seeisp.precision"):
            assert session.metadata[key] == fp32_metadata[key], key


def test_variants_store_smaller_weights(tiny_variants: dict[str, Path]) -> None:
    fp16 = onnx.load(str(tiny_variants["fp16"]))
    int8 = onnx.load(str(tiny_variants["int8"]))
    assert {t.data_type for t in fp16.graph.initializer if len(t.dims) == 4} == {onnx.TensorProto.FLOAT16}
    assert {"QuantizeLinear", "DequantizeLinear"} <= {n.op_type for n in int8.graph.node}
    int8_weights = [t for t in int8.graph.initializer if t.data_type == onnx.TensorProto.INT8 and len(t.dims) == 4]
    assert len(int8_weights) >= 15  # all 3x3 convolutions but the first (kept in float on purpose)
    sizes = {k: p.stat().st_size for k, p in tiny_variants.items()}
    assert sizes["int8"] < sizes["fp16"] < sizes["fp32"]


def test_int8_keeps_the_full_resolution_level_in_float(tiny_variants: dict[str, Path]) -> None:
    graph = onnx.load(str(tiny_variants["int8"])).graph
    producer = {output: node for node in graph.node for output in node.output}

    def reads_int8(node: onnx.NodeProto) -> bool:
        return node.input[0] in producer and producer[node.input[0]].op_type == "DequantizeLinear"

    convs = [n for n in graph.node if n.op_type in ("Conv", "ConvTranspose")]
    float_weights = {n.input[1] for n in convs if not reads_int8(n)}  # named as in the torch state dict
    # The first encoder level, the input skip, the last decoder level and the head; nothing else.
    assert float_weights == {
        "down.0.0.weight",
        "down.0.2.weight",
        "skip",
        "up.3.0.weight",
        "up.3.2.weight",
        "head.weight",
    }
    assert len(convs) - len(float_weights) == 18  # 14 convolutions and 4 transposed ones in int8
    assert {n.op_type for n in graph.node if "raw" in n.input} == {"Conv"}  # the raw input is never quantised
    node = producer["rgb"]
    while node.op_type != "Conv":  # pixel shuffle, input skip: float from the head on
        assert node.op_type not in ("QuantizeLinear", "DequantizeLinear")
        node = producer[node.input[0]]


@pytest.mark.parametrize(("precision", "bound"), [("fp16", 1e-3), ("int8", 0.03)])
def test_variants_stay_close_to_fp32(tiny_variants: dict[str, Path], precision: str, bound: float) -> None:
    """Loose bounds, relative to the output's range (measured: fp16 1.3e-4, int8 2.2e-3 at most).
    fp16 rounds every weight and activation to 11 significant bits; int8 quantises 16 layers'
    activations to 256 levels each, calibrated on a handful of samples, and the errors of a random
    network compound through the U-Net. A broken conversion (wrong scale or zero point, wrong channel
    axis, a dropped layer) gives errors of the order of the range itself."""
    packed = random_packed((4, 40, 56), seed=3) * np.float32(0.6)
    reference = ModelSession(tiny_variants["fp32"]).run(packed)
    out = ModelSession(tiny_variants[precision]).run(packed)
    scale = float(reference.max() - reference.min())
    assert scale > 0
    assert float(np.abs(out - reference).max()) / scale < bound
    assert float(np.abs(out - reference).mean()) / scale < bound / 4


def test_export_cli_offers_exactly_the_precisions_export_makes() -> None:
    from seeisp.cli.export import PRECISIONS as CLI_PRECISIONS  # spelled out there: the CLI runs without torch
    from seeisp.training.quantize import PRECISIONS

    assert CLI_PRECISIONS == PRECISIONS


def test_export_cli_writes_every_variant(tiny_checkpoint: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "weights"
    assert main(["export", str(tiny_checkpoint), "-o", str(out), "--calibration-samples", "2"]) == 0
    files = sorted(p.name for p in out.iterdir())
    assert files == ["seeisp-tiny-fp16.onnx", "seeisp-tiny-int8.onnx", "seeisp-tiny.onnx"]
    for path in out.iterdir():
        assert ModelSession(path).run(random_packed((4, 16, 16))).shape == (3, 32, 32)
    assert "built-in scene" in capsys.readouterr().out


def test_export_cli_name_and_subset(tiny_checkpoint: Path, tmp_path: Path) -> None:
    assert main(["export", str(tiny_checkpoint), "-o", str(tmp_path), "--name", "lite", "--variants", "fp16"]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["seeisp-lite-fp16.onnx"]
    assert ModelSession(tmp_path / "seeisp-lite-fp16.onnx").name == "lite-fp16"


def test_export_cli_refuses_to_replace_models(tiny_checkpoint: Path, tmp_path: Path, capsys) -> None:
    existing = tmp_path / "seeisp-tiny.onnx"
    existing.write_bytes(b"the user's model")
    assert main(["export", str(tiny_checkpoint), "-o", str(tmp_path), "--variants", "fp32"]) == 2
    assert existing.read_bytes() == b"the user's model"
    assert f"{existing}: already exists; use --force to replace it" in capsys.readouterr().err
    assert main(["export", str(tiny_checkpoint), "-o", str(tmp_path), "--variants", "fp32", "--force"]) == 0
    assert ModelSession(existing).name == "tiny"


def test_export_cli_makes_the_fp16_and_int8_variants_of_an_fp32_model(
    tiny_fp32: Path, tiny_variants: dict[str, Path], tmp_path: Path, capsys
) -> None:
    out = tmp_path / "weights"
    assert main(["export", str(tiny_fp32), "-o", str(out), "--calibration-samples", "2"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["seeisp-tiny-fp16.onnx", "seeisp-tiny-int8.onnx"]
    fp16 = ModelSession(out / "seeisp-tiny-fp16.onnx")
    assert fp16.name == "tiny-fp16" and fp16.metadata["seeisp.precision"] == "fp16"
    packed = random_packed((4, 32, 48))
    np.testing.assert_array_equal(fp16.run(packed), ModelSession(tiny_variants["fp16"]).run(packed))  # as from .pt
    assert ModelSession(out / "seeisp-tiny-int8.onnx").metadata["seeisp.precision"] == "int8"
    capsys.readouterr()

    assert main(["export", str(tiny_fp32), "-o", str(tmp_path / "again"), "--variants", "fp32"]) == 2
    assert "already an fp32 model" in capsys.readouterr().err
    assert main(["export", str(out / "seeisp-tiny-int8.onnx"), "-o", str(tmp_path / "again")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("seeisp: error:") and "not an fp32 seeisp model" in err and "\n" not in err.strip()
    assert not (tmp_path / "again").exists()


def test_a_missing_fp16_model_says_how_to_make_it(tmp_path: Path, capfd, monkeypatch: pytest.MonkeyPatch) -> None:
    from seeisp import models

    weights = tmp_path / "weights"
    weights.mkdir()
    shutil.copyfile(REPO / "weights" / "seeisp-lite.onnx", weights / "seeisp-lite.onnx")
    monkeypatch.setattr(models, "weights_dirs", lambda: [weights])
    dng = tmp_path / "dark.dng"
    write_dng(dng, np.full((64, 64), 600, np.uint16), black_level=512, white_level=16383)
    assert main(["enhance", str(dng), "-o", str(tmp_path / "out.png"), "--model", "lite-fp16"]) == 2
    err = capfd.readouterr().err.strip()
    assert "\n" not in err and "model 'lite-fp16' is not installed" in err
    assert f"make it with: seeisp export {weights / 'seeisp-lite.onnx'} --variants fp16 -o {weights}" in err
    assert not (tmp_path / "out.png").exists()


@pytest.mark.parametrize("problem", ["a junk picture", "only small pictures"])
def test_export_cli_checks_calibration_pictures_before_writing_any_file(
    tiny_checkpoint: Path, tmp_path: Path, capsys, problem: str
) -> None:
    pictures, out = tmp_path / "pictures", tmp_path / "out"
    pictures.mkdir()
    iio.imwrite(pictures / "small.png", np.zeros((64, 64, 3), np.uint8))  # under the 512 px calibration patch
    if problem == "a junk picture":
        iio.imwrite(pictures / "big.png", np.zeros((600, 600, 3), np.uint8))
        (pictures / "zz-junk.png").write_text("not a picture")
    argv = ["export", str(tiny_checkpoint), "-o", str(out), "--calibration-images", str(pictures)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    expected = "zz-junk.png: not a picture" if problem == "a junk picture" else "no calibration picture of at least"
    assert err.startswith("seeisp: error: ") and expected in err and "\n" not in err
    assert not out.exists() or not any(out.iterdir())  # no model file, no temporary folder


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.pt"], "missing.pt: no such checkpoint file"),
        (["missing.onnx"], "missing.onnx: no such model file"),
        (["{not_a_checkpoint}"], "not a seeisp training checkpoint"),
        (["{checkpoint}", "--calibration-samples", "0"], "--calibration-samples must be at least 1"),
        (["{checkpoint}", "--name", "../evil"], "--name '../evil'"),
        (["{checkpoint}", "--calibration-images", "no-such-dir"], "no-such-dir: no such folder"),
    ],
)
def test_export_cli_bad_input(tiny_checkpoint: Path, tmp_path: Path, capsys, args: list[str], message: str) -> None:
    not_a_checkpoint = tmp_path / "notes.pt"
    not_a_checkpoint.write_text("not a checkpoint")
    args = [a.format(checkpoint=tiny_checkpoint, not_a_checkpoint=not_a_checkpoint) for a in args]
    assert main(["export", *args, "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("seeisp: error:") and "Traceback" not in err
    assert not (tmp_path / "out").exists()


# --- the standalone edge runner ---------------------------------------------------------------


@pytest.fixture(scope="module")
def edge_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the shipped lite model (training may replace weights/ while tests run)."""
    shipped = REPO / "weights" / "seeisp-lite.onnx"
    if not shipped.is_file():
        pytest.skip("weights/seeisp-lite.onnx is not present")
    return Path(shutil.copy(shipped, tmp_path_factory.mktemp("edge") / "model.onnx"))


def write_frame(folder: Path, cfa: str, height: int, width: int) -> tuple[Path, Path, Path]:
    """A dark noisy Bayer frame as the DNG seeisp reads and as the .npy + JSON a camera pipeline hands over."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:height, 0:width]
    signal = 40 + 30 * np.sin(xx / 9.0) * np.cos(yy / 13.0) + 25 * (xx / width)
    blacks = [512, 514, 510, 513]
    black_map = np.tile(np.reshape(blacks, (2, 2)), (height // 2 + 1, width // 2 + 1))[:height, :width]
    bayer = np.clip(np.round(black_map + signal + rng.normal(0, 6, signal.shape)), 0, 16383).astype(np.uint16)
    matrix = np.array([[0.9020, -0.2890, -0.0715], [-0.4535, 1.2436, 0.2348], [-0.0934, 0.1919, 0.7086]])
    dng = write_dng(
        folder / "frame.dng",
        bayer,
        cfa=cfa,
        black_level=blacks,
        white_level=16383,
        xyz_to_camera=matrix,
        as_shot_neutral=(0.5, 1.0, 0.7),
    )
    raw = read_raw(dng)
    np.save(folder / "frame.npy", bayer)
    frame = {
        "cfa": cfa,
        "black_level": blacks,
        "white_level": 16383,
        "white_balance": raw.white_balance.tolist(),
        "camera_to_srgb": raw.camera_to_srgb.tolist(),
    }
    (folder / "frame.json").write_text(json.dumps(frame))
    return dng, folder / "frame.npy", folder / "frame.json"


def run_edge_infer(*args: str) -> subprocess.CompletedProcess:
    """Run the script with ``seeisp`` made unimportable, to prove it needs only numpy and onnxruntime."""
    code = (
        "import runpy, sys; sys.modules['seeisp'] = None; "
        f"sys.argv = {[str(EDGE_INFER), *args]!r}; runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(("cfa", "height", "width"), [("GRBG", 96, 131), ("BGGR", 70, 64)])
def test_edge_infer_matches_seeisp_denoise(edge_model: Path, tmp_path: Path, cfa: str, height: int, width: int) -> None:
    dng, mosaic, frame = write_frame(tmp_path, cfa, height, width)
    out, png = tmp_path / "rgb.npy", tmp_path / "quick.png"
    result = run_edge_infer(
        str(edge_model), str(mosaic), str(frame), "--ratio", "60", "-o", str(out), "--png", str(png)
    )
    assert result.returncode == 0, result.stderr
    raw = read_raw(dng)
    expected = denoise(raw, ModelSession(edge_model), 60.0, hot_pixels=False)
    got = np.load(out)
    assert got.shape == expected.shape == (height, width, 3) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=1e-4)
    # The quick PNG follows the documented render steps, i.e. seeisp's LibRaw-exact render.
    reference = np.round(render(expected, raw) * 255)
    assert np.abs(iio.imread(png).astype(float) - reference).max() <= 1


def test_edge_infer_auto_ratio_is_seeisps_metering_rule(edge_model: Path, tmp_path: Path) -> None:
    from seeisp.ratio import MAX_RATIO, MIN_RATIO, metered_estimate

    dng, mosaic, frame = write_frame(tmp_path, "RGGB", 64, 64)
    out = tmp_path / "rgb.npy"
    assert run_edge_infer(str(edge_model), str(mosaic), str(frame), "-o", str(out)).returncode == 0
    raw = read_raw(dng)
    ratio = min(max(metered_estimate(raw.mosaic), MIN_RATIO), MAX_RATIO)
    expected = denoise(raw, ModelSession(edge_model), ratio, hot_pixels=False)
    np.testing.assert_allclose(np.load(out), expected, atol=1e-4)


def test_edge_infer_names_the_file_np_save_writes(edge_model: Path, tmp_path: Path) -> None:
    _, mosaic, frame = write_frame(tmp_path, "RGGB", 32, 32)
    result = run_edge_infer(str(edge_model), str(mosaic), str(frame), "--ratio", "60", "-o", str(tmp_path / "rgb"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{tmp_path / 'rgb.npy'}: 32x32 linear camera RGB")
    assert np.load(tmp_path / "rgb.npy").shape == (32, 32, 3)


def test_edge_infer_bad_input_is_one_line(edge_model: Path, tmp_path: Path) -> None:
    _, mosaic, frame = write_frame(tmp_path, "RGGB", 32, 32)
    good = json.loads(frame.read_text())

    def frame_file(name: str, content: object) -> str:
        (tmp_path / name).write_text(json.dumps(content))
        return str(tmp_path / name)

    archive = tmp_path / "two.npz"
    np.savez(archive, a=np.load(mosaic), b=np.load(mosaic))
    (tmp_path / "folder.npy").mkdir()
    model, npy, json_ = str(edge_model), str(mosaic), str(frame)
    out = str(tmp_path / "out.npy")
    cases = [
        ((model, npy, frame_file("bad.json", {"cfa": "RGBW"})), "cfa must be one of"),
        ((model, npy, json_, "--ratio", "-3"), "--ratio must be between 1 and 300 or 'auto'"),
        ((model, npy, json_, "--ratio", "1e6"), "--ratio must be between 1 and 300 or 'auto'"),
        ((json_, npy, json_), "not a loadable ONNX model"),
        ((str(write_onnx(tmp_path / "other.onnx", "raw out")), npy, json_), "not a seeisp network"),
        ((model, str(archive), json_), "expected a 2-D integer Bayer mosaic, got an archive"),
        ((model, npy, frame_file("list.json", [1, 2])), "expected a JSON object"),
        ((model, npy, frame_file("abc.json", {**good, "black_level": "abc"})), "black_level must be one number"),
        ((model, npy, frame_file("flat.json", {**good, "white_level": 512})), "white_level must be one number above"),
        ((model, npy, frame_file("wb.json", {**good, "white_balance": [1, 2]}), "--png", str(tmp_path / "x.png")),
         "--png needs white_balance, three positive"),
        ((model, npy, json_, "-o", str(tmp_path / "nodir" / "o.npy")), "does not exist"),
        ((model, npy, json_, "-o", str(tmp_path / "folder.npy")), "is a folder"),
    ]  # fmt: skip
    for args, message in cases:
        result = run_edge_infer(*args, *([] if "-o" in args else ["-o", out]))
        assert result.returncode == 2, args
        assert message in result.stderr and "Traceback" not in result.stderr, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out.npy").exists()
    assert not (tmp_path / "x.png").exists()


def test_fp16_storage_halves_the_file_and_keeps_fp32_arithmetic(tiny_checkpoint: Path, tmp_path: Path) -> None:
    import torch

    from seeisp.training.export import load_checkpoint
    from seeisp.training.model import SIDUNet, UNetConfig
    from seeisp.training.train import load_weights

    plain, compact = tmp_path / "plain", tmp_path / "compact"
    assert main(["export", str(tiny_checkpoint), "-o", str(plain), "--variants", "fp32"]) == 0
    assert main(["export", str(tiny_checkpoint), "-o", str(compact), "--variants", "fp32", "--fp16-storage"]) == 0
    plain, compact = plain / "seeisp-tiny.onnx", compact / "seeisp-tiny.onnx"
    assert compact.stat().st_size < 0.6 * plain.stat().st_size

    session = ModelSession(compact)
    assert session.metadata["seeisp.weight_storage"] == "fp16" and session.metadata["seeisp.precision"] == "fp32"
    assert session.input_type == np.float32
    x = random_packed((4, 48, 48))
    reference = ModelSession(plain).run(x)
    assert np.abs(session.run(x) - reference).max() < 1e-3 * max(1.0, float(np.abs(reference).max()))

    # Training can start from it: the weights come back as float32, rounded to fp16.
    model = SIDUNet(UNetConfig(width=4))
    load_weights(model, compact)
    original = load_checkpoint(tiny_checkpoint)[0].state_dict()
    for name, tensor in model.state_dict().items():
        assert tensor.dtype == torch.float32
        assert torch.equal(tensor, original[name].half().float()), name


def test_variants_made_from_an_fp16_stored_model_are_the_usual_ones(tiny_checkpoint: Path, tmp_path: Path) -> None:
    """fp16 and int8 variants of a model whose weights are stored in fp16 (as the shipped fp32 files are) get
    real fp16 and int8 weights: the Casts are folded back into float32 weights before converting."""
    from seeisp.training.quantize import builtin_pictures, calibration_inputs, convert_fp16, load_fp32, quantize_int8

    assert main(["export", str(tiny_checkpoint), "-o", str(tmp_path), "--variants", "fp32", "--fp16-storage"]) == 0
    compact = tmp_path / "seeisp-tiny.onnx"
    restored = load_fp32(compact)
    assert "Cast" not in {n.op_type for n in restored.graph.node}
    assert {t.data_type for t in restored.graph.initializer if len(t.dims) == 4} == {onnx.TensorProto.FLOAT}
    assert "seeisp.weight_storage" not in {p.key for p in restored.metadata_props}

    half = onnx.load(str(convert_fp16(compact, tmp_path / "fp16.onnx")))
    assert {t.data_type for t in half.graph.initializer if len(t.dims) == 4} == {onnx.TensorProto.FLOAT16}
    inputs = calibration_inputs(6, builtin_pictures(128), patch=128)
    int8 = onnx.load(str(quantize_int8(compact, tmp_path / "int8.onnx", inputs)))
    int8_weights = [t for t in int8.graph.initializer if t.data_type == onnx.TensorProto.INT8 and len(t.dims) == 4]
    assert len(int8_weights) >= 15
    x = random_packed((4, 40, 56), seed=3) * np.float32(0.6)
    reference = ModelSession(compact).run(x)
    scale = float(reference.max() - reference.min())
    assert float(np.abs(ModelSession(tmp_path / "int8.onnx").run(x) - reference).max()) / scale < 0.03
