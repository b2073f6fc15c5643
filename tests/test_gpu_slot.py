"""The GPU slot's bundle: crops of every picture within a size budget, unpacked to what was packed."""

from __future__ import annotations

import dataclasses
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from seeisp.eval.metrics import psnr
from seeisp.sim.pictures import load_srgb
from seeisp.training.gpu_slot import MANIFEST, PackSettings, as_uint8, pack_bundle, unpack_bundle


def write_pictures(folder: Path, count: int, shape: tuple[int, int], seed: int) -> list[Path]:
    """Smooth random pictures (noise would not compress, nor look like a photograph) as PNG files."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        coarse = rng.integers(0, 256, (shape[0] // 8 + 1, shape[1] // 8 + 1, 3)).astype(np.uint8)
        picture = np.asarray(Image.fromarray(coarse).resize(shape[::-1], Image.BILINEAR))
        paths.append(folder / f"picture{i}.png")
        Image.fromarray(picture).save(paths[-1])
    return paths


@pytest.fixture
def pictures(tmp_path: Path) -> dict[str, Path]:
    write_pictures(tmp_path / "train" / "a", 3, (80, 96), seed=1)
    write_pictures(tmp_path / "train" / "b", 2, (64, 120), seed=2)
    write_pictures(tmp_path / "train" / "c", 1, (40, 40), seed=3)
    write_pictures(tmp_path / "val", 2, (70, 90), seed=4)
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "Sensor.json").write_text('{"Kmin": 1}')
    return {"train": tmp_path / "train", "val": tmp_path / "val", "profiles": profiles}


def test_lossless_bundle_round_trips(pictures, tmp_path):
    bundle = tmp_path / "slot" / "pictures.zip"
    settings = PackSettings(crop=48, budget_mib=0.2, quality=0, seed=3)
    manifest = pack_bundle(bundle, [pictures["train"]], pictures["val"], pictures["profiles"], settings)
    parts = unpack_bundle(bundle, tmp_path / "unpacked")

    assert manifest["pictures"] == 5  # the 40 px picture is smaller than a crop
    assert len(manifest["train"]) >= 10  # more than the first round, which holds every picture
    sources = {str(Path(e["source"]).relative_to(pictures["train"])) for e in manifest["train"][:5]}
    assert sources == {"a/picture0.png", "a/picture1.png", "a/picture2.png", "b/picture0.png", "b/picture1.png"}
    for entry in manifest["train"]:
        y, x = entry["corner"]
        source = load_srgb(entry["source"])[y : y + 48, x : x + 48]
        np.testing.assert_array_equal(load_srgb(parts["train"].parent / entry["name"]), source)
    for name in manifest["val"]:  # the centre crops validation scores, of the short side here
        original = load_srgb(pictures["val"] / name)
        unpacked = load_srgb(parts["val"] / f"{Path(name).stem}.webp")
        np.testing.assert_array_equal(unpacked, original[:, 10:80])
    assert (parts["profiles"] / "Sensor.json").read_text() == '{"Kmin": 1}'
    assert json.loads((tmp_path / "unpacked" / MANIFEST).read_text()) == manifest


def test_bundle_fits_its_budget_and_jpeg_stays_close(pictures, tmp_path):
    bundle = tmp_path / "pictures.zip"
    settings = PackSettings(crop=48, budget_mib=0.05, quality=95)
    manifest = pack_bundle(bundle, [pictures["train"]], None, None, settings)
    assert bundle.stat().st_size <= 0.05 * 2**20
    bigger = pack_bundle(tmp_path / "bigger.zip", [pictures["train"]], None, None, PackSettings(48, 0.1, 95))
    assert len(bigger["train"]) > len(manifest["train"])
    parts = unpack_bundle(bundle, tmp_path / "unpacked")
    for entry in manifest["train"]:
        y, x = entry["corner"]
        source = load_srgb(entry["source"])[y : y + 48, x : x + 48]
        assert psnr(load_srgb(parts["train"].parent / entry["name"]) / 255.0, source / 255.0) > 40
    with zipfile.ZipFile(bundle) as archive:
        assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())


def test_unpacking_empties_the_folder_first(pictures, tmp_path):
    bundle = tmp_path / "pictures.zip"
    pack_bundle(bundle, [pictures["train"]], None, None, PackSettings(crop=48, budget_mib=0.01))
    stale = tmp_path / "unpacked" / "train" / "stale.png"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    unpack_bundle(bundle, tmp_path / "unpacked")
    assert not stale.exists()


def test_sixteen_bit_and_grey_pictures_become_uint8_rgb():
    grey16 = np.full((4, 4), 65535, np.uint16)
    rgb = as_uint8(grey16)
    assert rgb.dtype == np.uint8 and rgb.shape == (4, 4, 3) and rgb.max() == 255


def test_no_picture_large_enough_is_an_error(pictures, tmp_path):
    with pytest.raises(ValueError, match="no training picture of at least 512 px"):
        pack_bundle(tmp_path / "x.zip", [pictures["train"]], None, None, PackSettings(crop=512))


def test_slot_config_fine_tunes_gently_and_takes_overrides(tmp_path):
    pytest.importorskip("torch")
    from seeisp.training.gpu_slot import SlotRun, slot_config

    parts = {part: tmp_path / part for part in ("train", "val", "profiles")}
    run = SlotRun("full", tmp_path / "b.zip", tmp_path / "out", tmp_path / "work", "weights/seeisp-full.onnx", 6.5)
    on_gpu = slot_config(run, parts, cuda=True, cpus=16)
    assert (on_gpu.width, on_gpu.lr, on_gpu.max_minutes, on_gpu.init_from) == (32, 3e-5, 6.5, run.init)
    assert on_gpu.noise_on_device and on_gpu.workers == 14 and on_gpu.onnx_out == ""
    assert on_gpu.train_dirs == [str(parts["train"])] and on_gpu.out_dir == str(tmp_path / "work" / "run")
    lite = dataclasses.replace(run, model="lite", overrides=("steps=7", "lr=2e-5"))
    on_cpu = slot_config(lite, parts, cuda=False, cpus=2)
    assert (on_cpu.width, on_cpu.steps, on_cpu.lr, on_cpu.noise_on_device, on_cpu.workers) == (16, 7, 2e-5, False, 0)
