"""benchmarks/leave_one_sensor_out.py's split: a held-out camera's noise never reaches training.

The profiles are written here; the held-out camera's gain range lies far above the others', so a single shot drawn
from it, or from a virtual sensor built around it (gain 0.5x to 2x its range), shows in the gains training draws.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from seeisp.training import train as train_module  # noqa: E402
from seeisp.training.data import sample_noise  # noqa: E402
from seeisp.training.train import training_sensors  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
HELD_OUT_GAINS = (1000.0, 2000.0)  # the other cameras' gains are 0.1 to 6 (virtual sensors: 0.05 to 12)


@pytest.fixture(scope="module")
def script():
    sys.path.insert(0, str(REPO / "benchmarks"))  # the script imports its neighbour options.py
    try:
        spec = importlib.util.spec_from_file_location(
            "leave_one_sensor_out", REPO / "benchmarks/leave_one_sensor_out.py"
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop("leave_one_sensor_out", None)
        sys.path.remove(str(REPO / "benchmarks"))


def write_profiles(folder: Path, cameras: list[str], held_out: str) -> Path:
    """ELD-style profile files, the held-out camera's at ``HELD_OUT_GAINS``; NikonD850 with a second ISO range."""
    folder.mkdir()
    scale = {"slope": 0.5, "bias": 0.6, "sigma": 0.1}
    ranges = {"G_scale": scale, "g_scale": scale, "R_scale": scale}
    for camera in cameras:
        k_min, k_max = HELD_OUT_GAINS if camera == held_out else (0.1, 6.0)
        profile = {"Kmin": k_min, "Kmax": k_max, "G_shape": [0.0, 0.1], "Profile-1": ranges}
        if camera == "NikonD850":
            profile["Profile-2"] = ranges
        (folder / f"{camera}.json").write_text(json.dumps(profile))
    return folder


def held_out_config(script, tmp_path: Path, held_out: str):
    profiles = write_profiles(tmp_path / "profiles", script.CAMERAS, held_out)
    cameras = script.training_cameras(script.CAMERAS)[script.held_out_run(held_out)]
    budget = script.Budget(config=str(REPO / "configs/lite.toml"))
    return script.run_config(budget, cameras, str(profiles), tmp_path / "run")


@pytest.mark.parametrize("held_out", ["SonyA7S2", "NikonD850", "CanonEOS700D", "CanonEOS70D"])
def test_a_held_out_camera_is_in_no_training_sample(script, tmp_path: Path, held_out: str) -> None:
    config = held_out_config(script, tmp_path, held_out)
    sensors = training_sensors(config)
    names = [sensor.name for sensor in sensors]
    assert held_out not in config.train_cameras and held_out not in names
    assert f"{held_out}-2" not in names  # nor its second ISO range
    assert len(set(names) - {"NikonD850-2"}) == 3
    rng = np.random.default_rng(0)
    gains = [sample_noise(rng, sensors, virtual_share=0.5).k for _ in range(2000)]
    assert max(gains) < HELD_OUT_GAINS[0] / 2  # neither the camera nor a virtual sensor drawn around it


def test_the_run_with_all_cameras_trains_on_each_range(script, tmp_path: Path) -> None:
    profiles = write_profiles(tmp_path / "profiles", script.CAMERAS, held_out="SonyA7S2")
    cameras = script.training_cameras(script.CAMERAS)[script.ALL]
    config = script.run_config(script.Budget(config=str(REPO / "configs/lite.toml")), cameras, str(profiles), tmp_path)
    assert sorted(sensor.name for sensor in training_sensors(config)) == sorted([*script.CAMERAS, "NikonD850-2"])
    gains = [sample_noise(np.random.default_rng(i), training_sensors(config), 0.0).k for i in range(400)]
    assert max(gains) >= HELD_OUT_GAINS[0]  # the marked camera does come up when it is not held out


class _PairsMade(Exception):
    pass


def test_training_draws_its_noise_from_the_split(script, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``train`` hands the synthetic pairs exactly the split's sensors (the pairs also build the virtual ones)."""
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    iio.imwrite(pictures / "a.png", np.zeros((160, 160, 3), np.uint8))
    config = dataclasses.replace(held_out_config(script, tmp_path, "CanonEOS70D"), train_dirs=[str(pictures)])
    given = []

    def pairs(images, profiles, **_options):
        given.extend(profile.name for profile in profiles)
        raise _PairsMade

    monkeypatch.setattr(train_module, "SyntheticPairs", pairs)
    threads = torch.get_num_threads()  # the run sets its own (threads=1)
    try:
        with pytest.raises(_PairsMade):
            train_module.train(config)
    finally:
        torch.set_num_threads(threads)
    assert sorted(given) == sorted(["SonyA7S2", "NikonD850", "NikonD850-2", "CanonEOS700D"])


def test_an_unknown_training_camera_is_named(script, tmp_path: Path) -> None:
    profiles = write_profiles(tmp_path / "profiles", script.CAMERAS, held_out="SonyA7S2")
    budget = script.Budget(config=str(REPO / "configs/lite.toml"))
    config = script.run_config(budget, ["SonyA7S2", "PentaxK1"], str(profiles), tmp_path / "run")
    with pytest.raises(ValueError, match="train_cameras: unknown camera 'PentaxK1'"):
        training_sensors(config)
