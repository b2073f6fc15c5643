"""The built-in scene, the demo raw, run_demo and `seeisp demo`."""

from __future__ import annotations

import re
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import rawpy

from seeisp.cli import main
from seeisp.eval.demo import COMPARISON_NAME, DEMO_RAW_NAME, run_demo, write_demo_raw
from seeisp.eval.metrics import psnr
from seeisp.models import available_models
from seeisp.raw import CFA, read_raw
from seeisp.render import bt709_decode
from seeisp.sim.scene import COLOR_CHECKER_SRGB8, STAR_SPOKES, chart_patch_centres, draw_scene, regions
from seeisp.sim.synthesis import mosaic

from conftest import write_dark_dng

needs_model = pytest.mark.skipif(not available_models(), reason="no seeisp model in weights/")


@pytest.fixture(scope="module")
def scene() -> np.ndarray:
    return draw_scene()


@pytest.fixture(scope="module")
def demo_raw(tmp_path_factory: pytest.TempPathFactory):
    return write_demo_raw(tmp_path_factory.mktemp("demo"))


def test_scene_is_deterministic_srgb(scene: np.ndarray) -> None:
    assert scene.shape == (768, 1152, 3)
    assert scene.dtype == np.float32
    assert scene.min() >= 0 and scene.max() <= 1
    assert np.array_equal(scene, draw_scene())
    assert draw_scene(480, 640).shape == (480, 640, 3)


def test_chart_patches_have_the_published_colour_checker_values(scene: np.ndarray) -> None:
    centres = chart_patch_centres()
    assert len(centres) == 24
    for (y, x), expected in zip(centres, COLOR_CHECKER_SRGB8, strict=True):
        patch = scene[y - 10 : y + 10, x - 10 : x + 10] * 255
        np.testing.assert_allclose(patch, np.broadcast_to(expected, patch.shape), atol=1e-3)
    # Spot checks against the published chart: dark skin, red, white.
    np.testing.assert_allclose(scene[centres[0]] * 255, [115, 82, 68], atol=1e-3)
    np.testing.assert_allclose(scene[centres[14]] * 255, [175, 54, 60], atol=1e-3)
    np.testing.assert_allclose(scene[centres[18]] * 255, [243, 243, 242], atol=1e-3)


def test_scene_has_gradients_star_text_and_line_pairs(scene: np.ndarray) -> None:
    boxes = regions()

    top, left, bottom, right = boxes["grey"]
    ramp = scene[(top + bottom) // 2, left:right]
    assert np.all(np.diff(ramp[:, 0]) > 0) and ramp[0, 0] < 0.01 and ramp[-1, 0] > 0.99
    assert np.allclose(ramp[:, 0], ramp[:, 2])  # grey

    top, left, bottom, right = boxes["hue"]
    hues = scene[top + 1, left:right]
    assert {int(np.argmax(c)) for c in hues} == {0, 1, 2}  # red, green and blue each dominate somewhere
    assert np.abs(np.diff(hues, axis=0)).max() < 0.05  # smooth

    top, left, bottom, right = boxes["star"]
    cy, cx, radius = (top + bottom) / 2, (left + right) / 2, min(bottom - top, right - left) / 2
    angles = np.linspace(0, 2 * np.pi, 4000, endpoint=False)
    ring = scene[(cy + 0.8 * radius * np.sin(angles)).astype(int), (cx + 0.8 * radius * np.cos(angles)).astype(int), 1]
    light = ring > 0.5
    assert np.count_nonzero(light != np.roll(light, 1)) == 2 * STAR_SPOKES

    top, left, bottom, right = boxes["text"]
    card = scene[top:bottom, left:right, 1]
    assert 0.005 < np.mean(card < 0.5) < 0.3  # there is ink, on a light card

    top, left, bottom, right = boxes["lines"]
    finest = scene[top + (bottom - top) // 4, left : left + (right - left) // 5, 1]
    bars = finest[(finest < 0.1) | (finest > 0.9)] > 0.5
    assert np.count_nonzero(bars[1:] != bars[:-1]) > 40  # one-pixel bars alternate


def test_demo_raw_is_the_same_file_every_run(tmp_path: Path, demo_raw) -> None:
    again = write_demo_raw(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [DEMO_RAW_NAME]  # and no temporary file left behind
    assert again.raw_path.read_bytes() == demo_raw.raw_path.read_bytes()
    assert np.array_equal(again.reference, demo_raw.reference)


def test_libraw_reads_the_demo_raw_as_a_dark_bayer_raw(demo_raw) -> None:
    with rawpy.imread(str(demo_raw.raw_path)) as raw:
        assert raw.raw_type == rawpy.RawType.Flat
        assert raw.raw_pattern.shape == (2, 2)
        assert raw.raw_image_visible.shape == (768, 1152)
        assert raw.white_level == 16383
        assert list(raw.black_level_per_channel) == [512] * 4
    image = read_raw(demo_raw.raw_path)
    assert image.cfa == CFA.RGGB
    assert image.shot.camera == "seeisp Demo"
    assert image.shot.exposure_time == pytest.approx(10.0 / demo_raw.ratio, rel=1e-3)
    # 1/ratio of the light: amplified back, the raw's level is that of the clean scene's camera RGB,
    # got here by undoing the render of the reference (tone curve, colour matrix, white balance).
    clean_camera_rgb = bt709_decode(demo_raw.reference) @ np.linalg.inv(image.camera_to_srgb).T / image.white_balance
    clean_level = mosaic(clean_camera_rgb, "RGGB").mean()
    assert image.mosaic.mean() < 0.01
    assert image.mosaic.mean() * demo_raw.ratio == pytest.approx(clean_level, rel=0.03)


def test_reference_is_the_clean_scene(scene: np.ndarray, demo_raw) -> None:
    # Unprocessing then rendering with the metadata LibRaw reads back gives the scene again.
    assert psnr(demo_raw.reference, scene) > 40


def test_ratio_sets_how_dark_the_raw_is(tmp_path: Path, demo_raw) -> None:
    brighter = write_demo_raw(tmp_path, ratio=50)
    level = read_raw(brighter.raw_path).mosaic.mean() / read_raw(demo_raw.raw_path).mosaic.mean()
    assert level == pytest.approx(2.0, rel=0.02)


@needs_model
def test_run_demo_beats_naive_brightening(tmp_path: Path) -> None:
    report = run_demo(tmp_path)
    assert report.raw_path == tmp_path / DEMO_RAW_NAME
    assert report.enhanced.shape == report.naive.shape == report.reference.shape == (768, 1152, 3)
    # A loose bound: the shipped default (full) model measures far more; the product target (+6 dB)
    # is tracked in weights/MODEL_CARD.md, not in a unit test.
    assert report.seeisp_psnr >= report.naive_psnr + 1.5, (report.naive_psnr, report.seeisp_psnr)
    comparison = iio.imread(report.comparison_path)
    assert comparison.shape == (768, 3 * 1152 + 2 * 8, 3)
    # The middle panel is seeisp's output (apart from its caption in the top-left corner).
    middle = comparison[100:, 1152 + 8 : 2 * 1152 + 8]
    assert np.abs(middle.astype(int) - np.round(report.enhanced[100:] * 255)).max() <= 1


@needs_model
def test_demo_with_the_ensemble_scores_better_and_says_so(tmp_path: Path) -> None:
    single = run_demo(tmp_path / "one", model="lite")
    best = run_demo(tmp_path / "x8", model="lite", passes=8)
    assert best.model == f"{single.model} x8"
    assert best.naive_psnr == single.naive_psnr  # the same raw
    assert best.seeisp_psnr > single.seeisp_psnr, (single.seeisp_psnr, best.seeisp_psnr)


@needs_model
def test_cli_prints_the_psnr_table_and_writes_the_comparison(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "demo-out"
    assert main(["demo", "-o", str(out), "--model", "lite", "--ratio", "100"]) == 0
    printed = capsys.readouterr().out
    naive = re.search(r"^naive brightening\s+PSNR\s+(\d+\.\d\d) dB$", printed, re.M)
    ours = re.search(r"^seeisp \(lite\)\s+PSNR\s+(\d+\.\d\d) dB$", printed, re.M)
    gain = re.search(r"^gain\s+([+-]\d+\.\d\d) dB$", printed, re.M)
    assert naive and ours and gain, printed
    assert float(gain[1]) == pytest.approx(float(ours[1]) - float(naive[1]), abs=0.011)
    assert str(out / COMPARISON_NAME) in printed
    assert iio.imread(out / COMPARISON_NAME).shape[0] == 768
    assert (out / DEMO_RAW_NAME).is_file()


@needs_model
def test_cli_reruns_into_its_folder_replacing_only_its_own_files(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "demo-out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["demo", "-o", str(out), "--model", "lite", "--ratio", "100"]) == 0
    before = {name: (out / name).read_bytes() for name in (DEMO_RAW_NAME, COMPARISON_NAME)}
    assert main(["demo", "-o", str(out), "--model", "lite", "--ratio", "50", "--passes", "2"]) == 0
    assert "seeisp (lite x2)" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == sorted([DEMO_RAW_NAME, COMPARISON_NAME, "notes.txt"])
    assert all((out / name).read_bytes() != data for name, data in before.items())
    assert (out / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("name", [DEMO_RAW_NAME, COMPARISON_NAME])
def test_cli_leaves_a_file_alone_that_is_not_the_demos(
    tmp_path: Path, capsys: pytest.CaptureFixture, name: str
) -> None:
    out = tmp_path / "demo-out"
    out.mkdir()
    if name == DEMO_RAW_NAME:  # a raw of someone else's camera, by the demo raw's name
        write_dark_dng(out / name)
    else:  # a folder where the comparison goes
        (out / name).mkdir()
    before = (out / name).read_bytes() if name == DEMO_RAW_NAME else None
    assert main(["demo", "-o", str(out), "--model", "no-such-model"]) == 2  # refused before the model is looked up
    err = capsys.readouterr().err.strip()
    assert err == f"seeisp: error: {out / name}: not a file of an earlier demo, left alone; give another folder with -o"
    assert [p.name for p in out.iterdir()] == [name]
    if before is not None:
        assert (out / name).read_bytes() == before


@pytest.mark.parametrize("ratio", ["0", "1000", "nan"])
def test_cli_rejects_a_bad_ratio_before_writing_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture, ratio: str
) -> None:
    out = tmp_path / "demo-out"
    assert main(["demo", "-o", str(out), "--ratio", ratio]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("seeisp: error: ratio must be between 1 and 300") and "\n" not in err
    assert "auto" not in err  # the demo makes its own exposure: there is nothing to estimate
    assert not out.exists()


def test_cli_refuses_an_output_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    code = main(["demo", "-o", str(target)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err == f"seeisp: error: {target}: exists and is not a folder"
    assert target.read_text() == "keep me"


def test_cli_names_an_unknown_model(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["demo", "-o", str(tmp_path / "out"), "--model", "no-such-model"]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown model 'no-such-model'" in err and "\n" not in err
    assert not (tmp_path / "out").exists()
