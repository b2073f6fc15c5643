"""The training loop on a tiny network and tiny generated pictures: learning, exact resume, config, export."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from seeisp.errors import SeeispError  # noqa: E402
from seeisp.session import ModelSession  # noqa: E402
from seeisp.sim.synthesis import random_camera  # noqa: E402
from seeisp.training import train as train_module  # noqa: E402
from seeisp.training.config import TrainConfig  # noqa: E402
from seeisp.training.data import SyntheticPairs, load_images  # noqa: E402
from seeisp.training.model import SIDUNet, UNetConfig  # noqa: E402
from seeisp.training.sid import CACHE_VERSION  # noqa: E402
from seeisp.training.train import TrainResult, tone_l1, train  # noqa: E402


def smooth_picture(rng: np.random.Generator, size: int = 64) -> np.ndarray:
    """Random colour blobs upsampled to ``size`` plus one hard edge: texture a denoiser must keep."""
    coarse = rng.uniform(0.05, 0.95, size=(4, 4, 3))
    picture = np.kron(coarse, np.ones((size // 4, size // 4, 1)))
    picture[:, size // 2 :] *= rng.uniform(0.4, 1.0)
    return (picture * 255).astype(np.uint8)


@pytest.fixture(scope="module")
def picture_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("pictures")
    rng = np.random.default_rng(0)
    for folder, count in (("train", 4), ("val", 2)):
        (root / folder).mkdir()
        for i in range(count):
            iio.imwrite(root / folder / f"{i}.png", smooth_picture(rng))
    return root / "train", root / "val"


@pytest.fixture
def one_thread():
    """One torch thread: bit-exact repeatability, and room for whatever else runs on the machine."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def tiny_config(picture_dirs: tuple[Path, Path], out: Path, **changes) -> TrainConfig:
    train_dir, val_dir = picture_dirs
    config = TrainConfig(
        name="tiny",
        width=4,
        train_dirs=[str(train_dir)],
        val_dir=str(val_dir),
        profiles_dir=str(out / "no-profiles"),  # absent: the built-in virtual sensor
        out_dir=str(out / "run"),
        steps=6,
        batch_size=2,
        patch=32,
        val_every=6,
        val_images=2,
        val_ratios=[100.0],
        val_crop=64,
        checkpoint_every=3,
        threads=1,
    )
    return dataclasses.replace(config, **changes)


@pytest.mark.parametrize("noise_on_device", [False, True])
def test_a_fixed_batch_is_learned(picture_dirs: tuple[Path, Path], one_thread: None, noise_on_device: bool) -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    pairs = SyntheticPairs(load_images([picture_dirs[0]], 32), profiles=[], patch=32)
    if noise_on_device:
        from seeisp.training.device_noise import noisy_input, step_generator

        clean, y, wb, _, noise = (torch.from_numpy(a) for a in pairs.clean_batch(0, 0, 2))
        x = noisy_input(clean, noise, step_generator("cpu", 0, 0, 0))
    else:
        x, y, wb, _ = (torch.from_numpy(a) for a in pairs.batch(0, 0, 2))
    model = SIDUNet(UNetConfig(width=4))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(80):
        loss = tone_l1(model(x), y, wb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:10]), (losses[:10], losses[-10:])


def test_tone_l1_is_zero_only_for_the_target() -> None:
    target = torch.rand(1, 3, 8, 8)
    wb = torch.tensor([[2.0, 1.0, 1.5]])
    assert tone_l1(target, target, wb).item() == 0.0
    assert tone_l1(target * 0.5, target, wb).item() > 0.05
    assert tone_l1(target - 1.0, target, wb).item() > 0.5  # below zero still costs (the linear term)


@pytest.mark.parametrize(("noise_on_device", "ema"), [(False, 0.0), (True, 0.0), (False, 0.9)])
def test_resume_is_exact(
    picture_dirs: tuple[Path, Path], tmp_path: Path, monkeypatch, one_thread: None, noise_on_device: bool, ema: float
) -> None:
    straight = tiny_config(picture_dirs, tmp_path / "straight", noise_on_device=noise_on_device, ema=ema)
    train(straight)

    interrupted = tiny_config(picture_dirs, tmp_path / "interrupted", noise_on_device=noise_on_device, ema=ema)
    save = train_module.save_checkpoint

    def save_then_stop(path, *args):
        save(path, *args)
        step = args[2]
        if step == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "save_checkpoint", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        train(interrupted)
    assert torch.load(Path(interrupted.out_dir) / "last.pt", weights_only=False)["step"] == 3
    monkeypatch.undo()
    train(interrupted)

    a = torch.load(Path(straight.out_dir) / "last.pt", weights_only=False)
    b = torch.load(Path(interrupted.out_dir) / "last.pt", weights_only=False)
    assert a["step"] == b["step"] == 6
    for name, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][name]), name
    if ema:
        for name, tensor in a["ema"].items():
            assert torch.equal(tensor, b["ema"][name]), name
    torch.manual_seed(straight.seed)  # as train() does before building the model
    initial = SIDUNet(UNetConfig(width=4)).state_dict()
    assert any(not torch.equal(t, initial[n]) for n, t in a["model"].items())  # it did train


def test_checkpoint_carries_its_config_and_best_model_is_exported(
    picture_dirs: tuple[Path, Path], tmp_path: Path, one_thread: None
) -> None:
    onnx_out = tmp_path / "weights" / "seeisp-tiny.onnx"
    config = tiny_config(picture_dirs, tmp_path, onnx_out=str(onnx_out))
    best = train(config).best

    state = torch.load(Path(config.out_dir) / "last.pt", weights_only=False)
    assert state["config"] == dataclasses.asdict(config)
    assert state["model_config"]["width"] == 4
    assert np.isfinite(state["best_psnr"])
    best_state = torch.load(best, weights_only=False)
    assert best_state["config"]["name"] == "tiny" and best_state["step"] == 6

    log = (Path(config.out_dir) / "log.csv").read_text().splitlines()
    assert log[0] == "step,loss,lr,val_psnr,seconds"
    assert log[-1].startswith("6,") and float(log[-1].split(",")[3]) > 0

    from seeisp.session import ModelSession

    session = ModelSession(onnx_out)
    assert session.name == "tiny"
    assert session.config["width"] == 4
    out = session.run(np.zeros((4, 16, 24), np.float32))
    assert out.shape == (3, 32, 48) and np.isfinite(out).all()


def test_config_file_plus_overrides(tmp_path: Path) -> None:
    toml = tmp_path / "tiny.toml"
    toml.write_text('name = "tiny"\nwidth = 8\nsteps = 100\ntrain_dirs = ["a"]\n')
    config = TrainConfig.load(str(toml), ["steps=5", "lr=1e-3", "out_dir=runs/x", "val_ratios=[50, 100]", "width=4"])
    assert (config.name, config.width, config.steps, config.lr) == ("tiny", 4, 5, 1e-3)
    assert config.out_dir == "runs/x" and config.val_ratios == [50, 100] and config.train_dirs == ["a"]
    assert TrainConfig.load(None, []) == TrainConfig()
    # Checkpoints carry asdict(config); one from before a key existed still makes a config, with that key's default.
    carried = dataclasses.asdict(config)
    assert TrainConfig(**carried) == config
    del carried["context_border"]
    assert TrainConfig(**carried).context_border == 0


def test_a_config_made_in_code_refuses_a_bad_value_in_one_line() -> None:
    """TrainConfig(...) and dataclasses.replace check their values as the CLI does."""
    with pytest.raises(ValueError) as raised:
        dataclasses.replace(TrainConfig(), val_crop=3)
    assert str(raised.value) == "val_crop must be a positive even number of raw pixels, not 3"
    with pytest.raises(ValueError, match=r"^steps: expected an integer, not True$"):
        TrainConfig(steps=True)
    with pytest.raises(TypeError, match="stepz"):
        TrainConfig(stepz=5)
    with pytest.raises(ValueError, match=r"^name: expected a string, not 16$"):
        TrainConfig(16)  # by position: the first field, name


def test_noise_on_device_draws_its_own_noise_and_refuses_sid_pairs(
    picture_dirs: tuple[Path, Path], tmp_path: Path, monkeypatch, one_thread: None
) -> None:
    seen: list[torch.Tensor] = []
    noisy_input = train_module.noisy_input

    def spy(clean, noise, generator):
        seen.append(clean)
        return noisy_input(clean, noise, generator)

    monkeypatch.setattr(train_module, "noisy_input", spy)
    train(tiny_config(picture_dirs, tmp_path / "off", steps=2, val_every=2))
    assert seen == []
    train(tiny_config(picture_dirs, tmp_path / "on", steps=2, val_every=2, noise_on_device=True))
    assert [tuple(c.shape) for c in seen] == [(2, 32, 32)] * 2  # clean mosaics, one batch a step

    with pytest.raises(ValueError, match="noise_on_device=true does not mix with sid_root"):
        TrainConfig.load(None, ["noise_on_device=true", "sid_root=/data/SID"])
    assert TrainConfig.load(None, ["noise_on_device=true"]).noise_on_device


def test_config_rejects_unknown_keys(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown config key 'stepz'"):
        TrainConfig.load(None, ["stepz=5"])
    toml = tmp_path / "bad.toml"
    toml.write_text("widht = 8\n")
    with pytest.raises(ValueError, match="widht"):
        TrainConfig.load(str(toml), [])


def test_shipped_configs_load() -> None:
    configs = Path(__file__).resolve().parents[1] / "configs"
    for name in ("lite", "full"):
        config = TrainConfig.load(str(configs / f"{name}.toml"), [])
        assert config.name == name
        assert config.onnx_out == f"weights/seeisp-{name}.onnx"
        shipped = ModelSession(configs.parent / config.onnx_out).config  # the config must describe the weights
        assert (shipped["width"], shipped.get("extra_convs", 0)) == (config.width, config.extra_convs)


def test_training_mixes_in_sid_pairs(picture_dirs: tuple[Path, Path], tmp_path: Path, one_thread: None) -> None:
    from seeisp.dng import write_dng

    rng = np.random.default_rng(0)
    scene = rng.integers(600, 12000, size=(64, 64)).astype(np.uint16)
    for name, dn in (("short/00001_00_0.1s.ARW", (scene - 512) // 100 + 512), ("long/00001_00_10s.ARW", scene)):
        path = tmp_path / "SID" / "Sony" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_dng(path, dn.astype(np.uint16), black_level=512, white_level=16383)
    (tmp_path / "list.txt").write_text("./Sony/short/00001_00_0.1s.ARW ./Sony/long/00001_00_10s.ARW ISO200 F8\n")

    sid = {"sid_root": str(tmp_path / "SID"), "sid_list": str(tmp_path / "list.txt"), "sid_share": 1.0}
    config = tiny_config(picture_dirs, tmp_path, steps=2, val_every=2, **sid, sid_cache=str(tmp_path / "cache"))
    train(config)
    assert (Path(config.out_dir) / "log.csv").read_text().splitlines()[-1].startswith("2,")
    assert (tmp_path / "cache" / f"long-v{CACHE_VERSION}" / "00001_00_10s.npy").is_file()  # the real pair was read

    with pytest.raises(SeeispError, match="none of its 1 pairs"):
        train(tiny_config(picture_dirs, tmp_path / "other", **{**sid, "sid_root": str(tmp_path / "empty")}))


def test_worker_processes_make_the_same_batches(
    picture_dirs: tuple[Path, Path], tmp_path: Path, one_thread: None
) -> None:
    in_loop = tiny_config(picture_dirs, tmp_path / "in-loop", steps=3, val_every=3)
    in_workers = tiny_config(picture_dirs, tmp_path / "workers", steps=3, val_every=3, workers=2)
    train(in_loop)
    train(in_workers)
    a = torch.load(Path(in_loop.out_dir) / "last.pt", weights_only=False)["model"]
    b = torch.load(Path(in_workers.out_dir) / "last.pt", weights_only=False)["model"]
    for name, tensor in a.items():
        assert torch.equal(tensor, b[name]), name


def test_a_wall_time_budget_stops_with_a_checkpoint_that_resumes(
    picture_dirs: tuple[Path, Path], tmp_path: Path, one_thread: None
) -> None:
    config = tiny_config(picture_dirs, tmp_path, max_minutes=1e-9)
    last = Path(config.out_dir) / "last.pt"
    # Stopped at the first checkpoint step after the budget ran out, before the only validation (step 6).
    assert train(config) == TrainResult(best=None, last=last, step=3, stopped_early=True)
    assert torch.load(last, weights_only=False)["step"] == 3
    finished = train(dataclasses.replace(config, max_minutes=0.0))
    assert finished == TrainResult(best=last.with_name("best.pt"), last=last, step=6, stopped_early=False)
    assert torch.load(last, weights_only=False)["step"] == 6


def test_training_can_start_from_a_shipped_onnx_model(
    picture_dirs: tuple[Path, Path], tmp_path: Path, one_thread: None
) -> None:
    onnx_out = tmp_path / "seeisp-tiny.onnx"
    first = tiny_config(picture_dirs, tmp_path / "first", onnx_out=str(onnx_out))
    best = torch.load(train(first).best, weights_only=False)["model"]

    model = SIDUNet(UNetConfig(width=4))
    train_module.load_weights(model, onnx_out)
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, best[name]), name

    wider = SIDUNet(UNetConfig(width=8))
    with pytest.raises(ValueError, match="do not fit a width-8 network"):
        train_module.load_weights(wider, onnx_out)

    second = tiny_config(picture_dirs, tmp_path / "second", init_from=str(onnx_out), steps=3, val_every=3)
    train(second)  # starts from the exported weights and trains on
    assert torch.load(Path(second.out_dir) / "last.pt", weights_only=False)["step"] == 3


def test_a_network_grown_with_extra_convs_starts_as_the_one_it_grew_from(
    picture_dirs: tuple[Path, Path], tmp_path: Path, one_thread: None
) -> None:
    onnx_out = tmp_path / "seeisp-tiny.onnx"
    train(tiny_config(picture_dirs, tmp_path / "first", onnx_out=str(onnx_out)))
    small, grown = SIDUNet(UNetConfig(width=4)), SIDUNet(UNetConfig(width=4, extra_convs=1))
    train_module.load_weights(small, onnx_out)
    train_module.load_weights(grown, onnx_out)
    assert sum(p.numel() for p in grown.parameters()) > sum(p.numel() for p in small.parameters())
    x = torch.rand(1, 4, 32, 32) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(grown(x), small(x), rtol=0, atol=0)

    # The grown network trains on: its new convolutions leave zero, and the change is exported.
    grown_out = tmp_path / "seeisp-grown.onnx"
    second = tiny_config(
        picture_dirs, tmp_path / "second", init_from=str(onnx_out), extra_convs=1, onnx_out=str(grown_out), lr=1e-2
    )
    state = torch.load(train(second).best, weights_only=False)
    assert state["model_config"]["extra_convs"] == 1
    assert state["model"]["down.0.4.conv.weight"].abs().max() > 0
    reloaded = SIDUNet(UNetConfig(width=4, extra_convs=1))
    train_module.load_weights(reloaded, grown_out)
    assert torch.equal(reloaded.state_dict()["down.0.4.conv.weight"], state["model"]["down.0.4.conv.weight"])

    # Shrinking is refused: the weights of the residual convolutions would be dropped.
    with pytest.raises(ValueError, match="do not fit"):
        train_module.load_weights(SIDUNet(UNetConfig(width=4)), grown_out)


def test_cli_rejects_a_missing_weights_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from seeisp.cli import main

    code = main(["train", f"init_from={tmp_path / 'none.onnx'}", f"out_dir={tmp_path / 'run'}"])
    assert code != 0
    err = capsys.readouterr().err
    assert "none.onnx: no such file" in err and "Traceback" not in err


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_decode_table_matches_decoding_each_pixel(dtype: type) -> None:
    from seeisp.render import bt709_decode
    from seeisp.sim.pictures import to_unit
    from seeisp.training.data import decode_table

    codes = np.random.default_rng(0).integers(0, np.iinfo(dtype).max + 1, size=(64, 64, 3)).astype(dtype)
    np.testing.assert_array_equal(decode_table(np.dtype(dtype))[codes], bt709_decode(to_unit(codes)))


def test_ema_weights_are_the_ones_validated_and_exported(
    picture_dirs: tuple[Path, Path], tmp_path: Path, one_thread: None
) -> None:
    config = tiny_config(picture_dirs, tmp_path, ema=0.5)  # validated once, at the last step
    best = torch.load(train(config).best, weights_only=False)
    last = torch.load(Path(config.out_dir) / "last.pt", weights_only=False)
    assert int(last["ema"]["n_averaged"]) == config.steps
    averaged = {k.removeprefix("module."): v for k, v in last["ema"].items() if k.startswith("module.")}
    assert averaged.keys() == last["model"].keys()
    assert any(not torch.equal(averaged[k], last["model"][k]) for k in averaged)  # an average, not the last step
    assert best["step"] == config.steps
    for name, tensor in best["model"].items():
        assert torch.equal(tensor, averaged[name]), name
    with pytest.raises(ValueError, match="ema must be in"):
        TrainConfig(ema=1.0)


def test_context_border_mirrors_each_crop_as_inference_does(
    picture_dirs: tuple[Path, Path], tmp_path: Path, one_thread: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from seeisp.training.model import SIDUNet

    inputs, outputs = [], []
    forward = SIDUNet.forward

    def recording(self, inp):
        inputs.append(inp.detach().clone())
        return forward(self, inp)

    scored = train_module.tone_l1

    def loss(output, target, wb):
        outputs.append((tuple(output.shape), tuple(target.shape)))
        return scored(output, target, wb)

    monkeypatch.setattr(SIDUNet, "forward", recording)
    monkeypatch.setattr(train_module, "tone_l1", loss)
    train(tiny_config(picture_dirs, tmp_path, context_border=8, steps=2, val_every=100, checkpoint_every=2))
    shapes = [tuple(x.shape) for x in inputs]
    assert shapes[:2] == [(2, 4, 32, 32)] * 2  # two steps: 16-pixel packed crops with 8 mirrored all round
    assert set(shapes[2:]) == {(1, 4, 48, 48)}  # then validation's 32-pixel crops, mirrored as at inference too
    x = inputs[0]
    torch.testing.assert_close(x[..., :8, :], x[..., 9:17, :].flip(-2))  # mirrored about the crop's first row
    torch.testing.assert_close(x[..., :, -8:], x[..., :, -17:-9].flip(-1))
    assert outputs == [((2, 3, 32, 32), (2, 3, 32, 32))] * 2  # the loss sees the crop's own output, all of it
    with pytest.raises(ValueError, match="context_border must be >= 0 and bring the 16-pixel packed crop"):
        TrainConfig(patch=32, context_border=4)


def write_profile(folder: Path, name: str, gain: tuple[float, float]) -> None:
    """A noise profile in the ELD calibration format, with the fields ``SensorProfile.from_json`` reads."""
    read = {"bias": -1.0, "sigma": 0.05, "slope": 0.8}
    folder.mkdir(exist_ok=True)
    scales = dict.fromkeys(("G_scale", "g_scale", "R_scale"), read)
    profile = {"Kmin": gain[0], "Kmax": gain[1], "G_shape": [0.1, 0.0], "Profile-1": scales}
    (folder / f"{name}.json").write_text(json.dumps(profile))


def test_validation_covers_each_named_sensor_and_keeps_the_first_ones_crops(
    picture_dirs: tuple[Path, Path], tmp_path: Path
) -> None:
    profiles = tmp_path / "profiles"
    write_profile(profiles, "Quiet", (0.5, 1.0))
    write_profile(profiles, "Loud", (20.0, 40.0))  # 40 times the DN per electron: far more shot noise
    config = tiny_config(picture_dirs, tmp_path, profiles_dir=str(profiles), val_ratios=[100.0, 300.0])
    quiet = train_module.validation_set(dataclasses.replace(config, val_cameras=["Quiet"]))
    both = train_module.validation_set(dataclasses.replace(config, val_cameras=["Quiet", "Loud"]))

    assert len(quiet) == 4 and len(both) == 8  # 2 pictures x 2 ratios, per sensor
    # The first sensor's crops are drawn from the seeds validation always had, so old scores stay comparable.
    first_camera = random_camera(np.random.default_rng([1234, 0, 100]))
    np.testing.assert_array_equal(quiet[0][2], first_camera.white_balance)
    for alone, first in zip(quiet, both[:4], strict=True):
        for a, b in zip(alone, first, strict=True):
            np.testing.assert_array_equal(a, b)

    def roughness(samples: list) -> float:  # pixel-to-pixel change of the dark inputs: mostly their noise
        return float(np.mean([np.abs(np.diff(packed, axis=-1)).mean() for packed, *_ in samples]))

    assert roughness(both[4:]) > 2 * roughness(quiet)


def test_an_unknown_validation_sensor_is_a_one_line_error(picture_dirs: tuple[Path, Path], tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    write_profile(profiles, "Quiet", (0.5, 1.0))
    config = tiny_config(picture_dirs, tmp_path, profiles_dir=str(profiles), val_cameras=["Quiet", "Nope"])
    with pytest.raises(SeeispError, match=r"unknown camera 'Nope'; profiles in .*: Quiet, virtual"):
        train_module.validation_set(config)


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    """The CLI's error: one line on stderr, after 'seeisp: error:', with no traceback; returns that line."""
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("seeisp: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def no_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Makes reaching the training loop a test failure: a bad setting must be refused before any data is loaded."""

    def refuse(config: TrainConfig) -> TrainResult:
        raise AssertionError(f"the training loop started with {config}")

    monkeypatch.setattr(train_module, "train", refuse)


def test_a_bare_value_for_a_list_field_is_a_one_element_list(tmp_path: Path) -> None:
    folder = tmp_path / "my pictures"
    config = TrainConfig.load(None, [f"train_dirs={folder}", "val_cameras=SonyA7S2", "val_ratios=100"])
    assert config.train_dirs == [str(folder)]  # not one entry per character, "/" among them
    assert config.val_cameras == ["SonyA7S2"] and config.val_ratios == [100.0]
    assert TrainConfig.load(None, ["val_cameras="]).val_cameras == []  # nothing after "=" empties a list
    toml = tmp_path / "one.toml"
    toml.write_text('train_dirs = "data/train"\n')
    assert TrainConfig.load(str(toml), []).train_dirs == ["data/train"]
    # Text fields take what was typed, even where it reads as a number.
    assert TrainConfig.load(None, ["name=2024", "out_dir=runs/x"]).name == "2024"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("steps=abc", "steps: expected an integer, not 'abc'"),
        ("steps=1.5", "steps: expected an integer, not 1.5"),
        ("batch_size=true", "batch_size: expected an integer, not True"),
        ("lr=fast", "lr: expected a number, not 'fast'"),
        ("lr=nan", "lr: expected a number, not nan"),
        ("amp=1", "amp: expected true or false, not 1"),
        ('val_ratios=[100, "x"]', "val_ratios: expected a list of numbers (or a single one), not [100, 'x']"),
        ("val_ratios=[1, 2", "val_ratios: '[1, 2' is not a TOML list"),
        ("train_dirs=[1]", "train_dirs: expected a list of strings (or a single one), not [1]"),
        ("name=[1]", "name: expected a string, not [1]"),
        ("steps", "'steps' is not KEY=VALUE"),
    ],
)
def test_cli_refuses_a_value_of_the_wrong_type_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_training: None, override: str, message: str
) -> None:
    from seeisp.cli import main

    assert main(["train", override, f"out_dir={tmp_path / 'run'}"]) == 2
    assert message in one_line_error(capsys)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("steps=0", "steps must be >= 1, not 0"),
        ("batch_size=0", "batch_size must be >= 1, not 0"),
        ("patch=0", "patch must be a positive even number"),
        ("patch=257", "patch must be a positive even number"),
        ("val_crop=-2", "val_crop must be a positive even number"),
        ("lr=0", "lr must be > 0"),
        ("lr=-1e-4", "lr must be > 0"),
        ("min_lr=-1e-6", "min_lr must be >= 0"),
        ("virtual_share=-0.1", "virtual_share must be in [0, 1]"),
        ("pattern_share=1.5", "pattern_share must be in [0, 1]"),
        ("sid_share=2", "sid_share must be in [0, 1]"),
        ("val_every=0", "val_every must be >= 1"),
        ("checkpoint_every=0", "checkpoint_every must be >= 1"),
        ("val_images=-1", "val_images must be >= 0"),
        ("val_ratios=[100, 0]", "val_ratios must all be > 0, not 0.0"),
        ("width=0", "width must be >= 1"),
        ("seed=-1", "seed must be >= 0"),
        ("workers=-1", "workers must be >= 0"),
        ("max_minutes=-5", "max_minutes must be >= 0"),
    ],
)
def test_cli_refuses_impossible_numbers_before_loading_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_training: None, override: str, message: str
) -> None:
    from seeisp.cli import main

    assert main(["train", override, f"out_dir={tmp_path / 'run'}"]) == 2
    assert message in one_line_error(capsys)
    assert not (tmp_path / "run").exists()


def test_cli_config_file_mistakes_name_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_training: None
) -> None:
    from seeisp.cli import main

    missing = tmp_path / "missing.toml"
    assert main(["train", "--config", str(missing)]) == 2
    assert one_line_error(capsys) == f"seeisp: error: {missing}: no such config file"

    bad = tmp_path / "bad.toml"
    bad.write_text("steps 5\n")
    assert main(["train", "--config", str(bad)]) == 2
    line = one_line_error(capsys)
    assert line.startswith(f"seeisp: error: {bad}: not valid TOML (") and "line 1" in line

    assert main(["train", "--config", str(tmp_path)]) == 2
    assert one_line_error(capsys).startswith(f"seeisp: error: {tmp_path}: cannot read the config file")

    unknown = tmp_path / "unknown.toml"
    unknown.write_text("steps = 5\nstepz = 6\n")
    assert main(["train", "--config", str(unknown)]) == 2
    assert one_line_error(capsys).startswith(f"seeisp: error: {unknown}: unknown config key 'stepz'")
    assert main(["train", "stepz=6"]) == 2
    assert one_line_error(capsys).startswith("seeisp: error: unknown config key 'stepz'")

    typed = tmp_path / "typed.toml"
    typed.write_text('steps = "many"\n')
    assert main(["train", "--config", str(typed)]) == 2
    assert one_line_error(capsys) == f"seeisp: error: {typed}: steps: expected an integer, not 'many'"
    assert (
        TrainConfig.load(str(typed), ["steps=5"]).steps == 5
    )  # an override replaces the file's value, mistake and all

    ranged = tmp_path / "ranged.toml"
    ranged.write_text("patch = 33\n")
    assert main(["train", "--config", str(ranged)]) == 2
    assert (
        one_line_error(capsys) == f"seeisp: error: {ranged}: patch must be a positive even number of raw pixels, not 33"
    )


def test_cli_without_training_pictures_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from seeisp.cli import main

    small, absent = tmp_path / "small", tmp_path / "absent"
    small.mkdir()
    iio.imwrite(small / "16px.png", smooth_picture(np.random.default_rng(0), size=16))  # smaller than a patch
    argv = ["train", f'train_dirs=["{small}", "{absent}"]', "width=4", "patch=32", f"profiles_dir={absent}"]
    assert main([*argv, f"out_dir={tmp_path / 'run'}"]) == 2
    expected = f"train_dirs: no training pictures of at least 32 px in {small}, {absent} (no such folder)"
    assert one_line_error(capsys) == f"seeisp: error: {expected}"


def test_cli_names_no_best_checkpoint_that_was_not_written(
    picture_dirs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], one_thread: None
) -> None:
    """With nothing to validate on, no score ever beats the last: the CLI must not name a best.pt it never wrote."""
    from seeisp.cli import main

    train_dir, _ = picture_dirs
    no_val = tmp_path / "no-val"
    no_val.mkdir()
    run = tmp_path / "run"
    settings = ["width=4", "steps=1", "batch_size=1", "patch=32", "val_every=1", "checkpoint_every=1", "threads=1"]
    argv = ["train", f"train_dirs={train_dir}", f"val_dir={no_val}", f"profiles_dir={tmp_path / 'none'}", *settings]
    assert main([*argv, f"out_dir={run}"]) == 2
    captured = capsys.readouterr()
    assert "best checkpoint:" not in captured.out
    lines = captured.err.strip().splitlines()
    assert lines[-1].startswith("seeisp: error: no best checkpoint was written") and str(run / "last.pt") in lines[-1]
    assert "Traceback" not in captured.err
    assert (run / "last.pt").is_file() and not (run / "best.pt").exists()


def test_cli_a_run_stopped_by_its_time_limit_before_validating_says_how_to_go_on(
    picture_dirs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], one_thread: None
) -> None:
    from seeisp.cli import main

    train_dir, val_dir = picture_dirs
    run = tmp_path / "run"
    settings = ["width=4", "steps=50", "batch_size=1", "patch=32", "val_every=40", "checkpoint_every=1", "threads=1"]
    argv = ["train", f"train_dirs={train_dir}", f"val_dir={val_dir}", f"profiles_dir={tmp_path / 'none'}", *settings]
    assert main([*argv, f"out_dir={run}", "max_minutes=1e-9"]) == 0  # out of time at the first step
    captured = capsys.readouterr()
    assert f"stopped before the first validation; run the same command again to resume from {run / 'last.pt'}" in (
        captured.out
    )
    assert "error" not in captured.err
    assert (run / "last.pt").is_file() and not (run / "best.pt").exists()


def test_an_error_in_a_batch_worker_is_reported_as_its_own_one_line() -> None:
    from torch._utils import ExceptionWrapper  # how DataLoader workers hand their exceptions back

    from seeisp.errors import RawReadError, one_line

    try:
        raise RawReadError("SID/Sony/short/00001_00_0.1s.ARW: not a raw image LibRaw can read")
    except RawReadError:
        wrapped = ExceptionWrapper(where="in DataLoader worker process 0")
    with pytest.raises(RawReadError) as raised:
        wrapped.reraise()
    assert "Original Traceback" in str(raised.value)
    assert one_line(raised.value) == "SID/Sony/short/00001_00_0.1s.ARW: not a raw image LibRaw can read"
    assert one_line(ValueError("steps: expected an integer, not 'x'")) == "steps: expected an integer, not 'x'"
