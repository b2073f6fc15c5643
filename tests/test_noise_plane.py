"""A noise-aware network end to end: trained with ``noise_plane=true`` from a plain model, exported with the plane in
its contract, and fed the plane of the raw's own noise estimate by every inference path."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import onnx
import pytest

torch = pytest.importorskip("torch")

import test_training  # noqa: E402

from seeisp.dng import write_dng  # noqa: E402
from seeisp.enhance import denoise, enhance_file, network_mosaic  # noqa: E402
from seeisp.ensemble import network_planes, single_pass  # noqa: E402
from seeisp.noise_level import blind_noise_level  # noqa: E402
from seeisp.noise_level import noise_plane as numpy_noise_plane  # noqa: E402
from seeisp.raw import read_raw  # noqa: E402
from seeisp.render import clip_highlights  # noqa: E402
from seeisp.session import ModelSession  # noqa: E402
from seeisp.training.config import TrainConfig  # noqa: E402
from seeisp.training.export import export_onnx, export_variants  # noqa: E402
from seeisp.training.model import SIDUNet  # noqa: E402
from seeisp.training.noise_input import FIRST_WEIGHT  # noqa: E402
from seeisp.training.train import initial_model, load_weights, train  # noqa: E402

picture_dirs = test_training.picture_dirs  # the same tiny training pictures (a fixture)
tiny_config = test_training.tiny_config


@pytest.fixture(scope="module")
def plain_and_noisy(picture_dirs: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A plain tiny model trained a few steps, and a noise-aware one fine-tuned from its ONNX file."""
    root = tmp_path_factory.mktemp("noise-plane")
    before = torch.get_num_threads()
    plain = root / "seeisp-tiny.onnx"
    train(tiny_config(picture_dirs, root / "plain", onnx_out=str(plain), steps=2, val_every=2))
    noisy = root / "seeisp-tiny-noise.onnx"
    config = tiny_config(
        picture_dirs, root / "noisy", init_from=str(plain), noise_plane=True, onnx_out=str(noisy), lr=1e-2, steps=3
    )
    train(dataclasses.replace(config, val_every=3))
    torch.set_num_threads(before)
    return plain, noisy


def test_the_config_key_gives_the_network_a_fifth_input_plane() -> None:
    assert TrainConfig().model_config.in_channels == 4
    assert TrainConfig.load(None, ["noise_plane=true"]).model_config.in_channels == 5
    with pytest.raises(ValueError, match="noise_plane"):
        TrainConfig(noise_plane=True, sid_root="/somewhere")


def test_a_plain_model_grown_by_the_plane_starts_as_it_was(plain_and_noisy: tuple[Path, Path]) -> None:
    """``init_from`` a 4-plane ONNX file: the plane's weights start at zero, so any plane gives the plain output."""
    plain, _ = plain_and_noisy
    grown = SIDUNet(dataclasses.replace(TrainConfig(width=4).model_config, in_channels=5))
    load_weights(grown, plain)
    packed = np.random.default_rng(0).uniform(-0.1, 0.8, (4, 32, 48)).astype(np.float32)
    with torch.no_grad():
        plane = torch.rand(1, 1, 32, 48)
        out = grown(torch.cat([torch.from_numpy(packed)[None], plane], dim=1))[0].numpy()
    expected = ModelSession(plain).session.run(["rgb"], {"raw": packed[None]})[0][0]
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_from_scratch_the_noise_aware_network_starts_from_the_plain_ones_weights() -> None:
    """Same seed, same start: the plain and the noise-aware network differ only by what the plane teaches."""
    config = TrainConfig(width=4).model_config
    torch.manual_seed(3)
    plain = initial_model(config)
    after_plain = torch.rand(3)
    torch.manual_seed(3)
    noisy = initial_model(dataclasses.replace(config, in_channels=5))
    assert torch.equal(torch.rand(3), after_plain)  # and training draws on from the same random state
    x = torch.rand(1, 4, 32, 48)
    with torch.no_grad():
        np.testing.assert_array_equal(plain(x).numpy(), noisy(torch.cat([x, torch.rand(1, 1, 32, 48)], 1)).numpy())
    first = noisy.state_dict()[FIRST_WEIGHT]
    assert first.shape[1] == 5 and not first[:, 4].any()


def test_the_exported_model_says_it_reads_the_plane(plain_and_noisy: tuple[Path, Path]) -> None:
    plain, noisy = plain_and_noisy
    model = onnx.load(str(noisy))
    metadata = {p.key: p.value for p in model.metadata_props}
    assert metadata["seeisp.noise_plane"] == "1" and "channel 5" in metadata["seeisp.input"]
    assert json.loads(metadata["seeisp.training"])["noise_plane"] is True
    assert model.graph.input[0].name == "raw_and_noise"
    assert model.graph.input[0].type.tensor_type.shape.dim[1].dim_value == 5
    session, old = ModelSession(noisy), ModelSession(plain)
    assert (session.noise_plane, session.in_channels) == (True, 5)
    assert (old.noise_plane, old.in_channels) == (False, 4)


def write_noisy_dng(folder: Path, name: str = "dark.dng", cfa: str = "GRBG", size: tuple[int, int] = (96, 128)) -> Path:
    """A dark, noisy Bayer DNG: smooth picture, shot noise of gain 4 DN per electron and read noise of 3 DN."""
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0 : size[0], 0 : size[1]]
    signal = 60 + 40 * np.sin(xx / 11.0) * np.cos(yy / 7.0) + 30 * (xx / size[1])
    noisy = 512 + 4 * rng.poisson(signal / 4) + rng.normal(0, 3, signal.shape)
    mosaic = np.clip(np.round(noisy), 0, 16383).astype(np.uint16)
    matrix = np.array([[0.9020, -0.2890, -0.0715], [-0.4535, 1.2436, 0.2348], [-0.0934, 0.1919, 0.7086]])
    return write_dng(
        folder / name, mosaic, cfa=cfa, black_level=512, white_level=16383, xyz_to_camera=matrix,
        as_shot_neutral=(0.5, 1.0, 0.7),
    )  # fmt: skip


def test_inference_feeds_the_plane_of_the_raws_own_noise_estimate(
    plain_and_noisy: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, noisy = plain_and_noisy
    raw = read_raw(write_noisy_dng(tmp_path))
    session = ModelSession(noisy)
    seen = []
    run = session.run
    monkeypatch.setattr(session, "run", lambda packed: seen.append(packed) or run(packed))
    denoise(raw, session, 100.0)
    _, mosaic = network_mosaic(raw)
    level = blind_noise_level(mosaic)
    assert level.gain > 0
    (packed,) = seen
    assert packed.shape == (5, 48, 64)
    np.testing.assert_allclose(packed[4:], numpy_noise_plane(packed[:4], level, 100.0), rtol=1e-6)


@pytest.fixture(scope="module")
def grown_at_zero(plain_and_noisy: tuple[Path, Path]) -> Path:
    """The plain model grown by the plane and not trained on: it must give the plain model's output everywhere."""
    plain, _ = plain_and_noisy
    model = SIDUNet(dataclasses.replace(TrainConfig(width=4).model_config, in_channels=5))
    load_weights(model, plain)
    checkpoint = plain.parent / "grown.pt"
    state = {"model": model.state_dict(), "model_config": model.config.to_dict(), "config": {"name": "grown"}}
    torch.save(state, checkpoint)
    return export_onnx(checkpoint, plain.parent / "seeisp-grown.onnx")


@pytest.mark.parametrize("options", [{"tile": 64, "overlap": 16}, {"passes": 2}, {"xtrans": True}])
def test_every_inference_path_feeds_the_plane(
    plain_and_noisy: tuple[Path, Path], grown_at_zero: Path, tmp_path: Path, options: dict
) -> None:
    """Tiles, orientations and X-Trans raws run a model with a plane; at zero weight it gives the plain output."""
    from test_xtrans import write_xtrans_dng

    plain, _ = plain_and_noisy
    options = dict(options)
    if options.pop("xtrans", False):
        dng = write_xtrans_dng(tmp_path / "x.dng", np.random.default_rng(0).uniform(0.1, 0.9, (120, 180, 3)))
    else:
        dng = write_noisy_dng(tmp_path, size=(192, 256))
    grown = enhance_file(dng, model=grown_at_zero, ratio=100, **options).camera_rgb
    np.testing.assert_allclose(grown, enhance_file(dng, model=plain, ratio=100, **options).camera_rgb, atol=1e-5)


def test_each_tile_gets_its_slice_of_the_frames_plane(
    plain_and_noisy: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, noisy = plain_and_noisy
    raw = read_raw(write_noisy_dng(tmp_path, size=(192, 256)))
    session = ModelSession(noisy)
    seen = []
    run = session.run
    monkeypatch.setattr(session, "run", lambda packed: seen.append(packed) or run(packed))
    denoise(raw, session, 100.0, tile=64, overlap=16)
    _, mosaic = network_mosaic(raw)
    clipped = clip_highlights(mosaic, raw.white_balance, 100.0)
    whole = network_planes(clipped, 100.0, noise=blind_noise_level(mosaic))
    first = seen[0]  # the top-left tile
    assert len(seen) > 1 and first.shape[1:] != whole.shape[1:]
    np.testing.assert_allclose(first, whole[:, : first.shape[1], : first.shape[2]], rtol=1e-6)


def test_a_session_gets_a_noise_level_exactly_when_it_reads_one(plain_and_noisy: tuple[Path, Path]) -> None:
    plain, noisy = plain_and_noisy
    mosaic = np.full((64, 64), 0.01, np.float32)
    level = blind_noise_level(np.random.default_rng(0).normal(0.01, 0.002, (64, 64)))
    with pytest.raises(ValueError, match="needs the raw's noise level"):
        single_pass(mosaic, ModelSession(noisy), 100.0)
    with pytest.raises(ValueError, match="reads no noise level"):
        single_pass(mosaic, ModelSession(plain), 100.0, noise=level)
    assert network_planes(mosaic, 100.0).shape == (4, 32, 32)
    assert network_planes(mosaic, 100.0, noise=level).shape == (5, 32, 32)


def test_int8_calibration_feeds_the_plane(plain_and_noisy: tuple[Path, Path], tmp_path: Path) -> None:
    _, noisy = plain_and_noisy
    paths = export_variants(noisy, tmp_path, precisions=("int8",))
    session = ModelSession(paths["int8"])
    assert session.noise_plane and session.metadata["seeisp.precision"] == "int8"
    packed = np.random.default_rng(1).uniform(0, 0.5, (5, 32, 32)).astype(np.float32)
    np.testing.assert_allclose(session.run(packed), ModelSession(noisy).run(packed), atol=0.05)


def test_a_checkpoint_with_the_plane_exports_it(plain_and_noisy: tuple[Path, Path], tmp_path: Path) -> None:
    _, noisy = plain_and_noisy
    best = Path(str(noisy)).parent / "noisy" / "run" / "best.pt"
    assert export_onnx(best, tmp_path / "again.onnx")
    assert ModelSession(tmp_path / "again.onnx").in_channels == 5


def test_edge_infer_feeds_the_plane_from_the_frames_noise_level(
    plain_and_noisy: tuple[Path, Path], tmp_path: Path
) -> None:
    """Given the noise level seeisp estimates, the numpy-only runner computes the same plane and output."""
    from test_export import run_edge_infer, write_frame

    _, noisy = plain_and_noisy
    dng, mosaic, frame = write_frame(tmp_path, "GRBG", 64, 96)
    raw = read_raw(dng)
    level = blind_noise_level(network_mosaic(raw, hot_pixels=False)[1])
    described = json.loads(frame.read_text())
    frame.write_text(json.dumps({**described, "noise_gain": level.gain, "noise_read_sigma": level.read_sigma}))
    out = tmp_path / "rgb.npy"
    result = run_edge_infer(str(noisy), str(mosaic), str(frame), "--ratio", "60", "-o", str(out))
    assert result.returncode == 0, result.stderr
    expected = denoise(raw, ModelSession(noisy), 60.0, hot_pixels=False)
    np.testing.assert_allclose(np.load(out), expected, atol=1e-4)

    frame.write_text(json.dumps(described))
    result = run_edge_infer(str(noisy), str(mosaic), str(frame), "--ratio", "60", "-o", str(out))
    assert result.returncode == 2 and "give noise_gain" in result.stderr and "Traceback" not in result.stderr
