"""White balance choices: as shot, daylight, and auto (grey edge on the denoised picture)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rawpy
from PIL import Image

from seeisp.cli import main
from seeisp.raw import read_raw
from seeisp.white_balance import WhiteBalance, balance_gains, grey_edge

from conftest import write_cast_dng, write_dark_dng

CAST = np.array([2.0, 1.0, 0.5], np.float32)  # what a warm light does to a grey scene in camera RGB
NO_GAINS = np.ones(3, np.float32)


def grey_scene(rng: np.random.Generator, shape: tuple[int, int] = (96, 128)) -> np.ndarray:
    """Grey surfaces of many brightnesses under the cast (camera RGB, below clipping)."""
    return (rng.uniform(0.02, 0.45, shape)[..., None] * CAST).astype(np.float32)


def test_grey_edge_takes_the_cast_off_a_grey_scene() -> None:
    scene = grey_scene(np.random.default_rng(0))
    gains = grey_edge(scene, fallback=NO_GAINS)
    np.testing.assert_allclose(gains, [1.0, 2.0, 4.0], rtol=1e-3)  # smallest 1, as LibRaw applies gains
    balanced = scene * gains
    np.testing.assert_allclose(balanced[..., 0], balanced[..., 2], rtol=1e-3)


def test_clipped_highlights_and_the_darkest_pixels_do_not_pull_it() -> None:
    rng = np.random.default_rng(1)
    scene = grey_scene(rng)
    scene[:20, :20] = [1.0, 0.3, 0.2]  # a clipped red lamp
    dark_green_noise = np.abs(rng.normal(0, 0.004, (30, scene.shape[1], 3))) + np.array([0.0, 0.004, 0.0])
    scene[-30:, :] = dark_green_noise
    np.testing.assert_allclose(grey_edge(scene, fallback=NO_GAINS), [1.0, 2.0, 4.0], rtol=0.02)


def test_grey_edge_falls_back_when_nothing_is_usable() -> None:
    fallback = np.array([2.0, 1.0, 1.5], np.float32)
    assert grey_edge(np.ones((64, 64, 3), np.float32), fallback=fallback) is fallback  # all clipped


def test_camera_and_daylight_gains_are_the_raws(tmp_path: Path) -> None:
    path = write_dark_dng(tmp_path / "night.dng")
    raw = read_raw(path)
    with rawpy.imread(str(path)) as libraw:
        daylight = np.asarray(libraw.daylight_whitebalance[:3], np.float64)
    picture = np.zeros((2, 2, 3), np.float32)
    np.testing.assert_allclose(balance_gains(WhiteBalance.DAYLIGHT, raw, picture), daylight / daylight.min())
    assert balance_gains(WhiteBalance.CAMERA, raw, picture) is raw.white_balance
    np.testing.assert_allclose(raw.white_balance, [1 / 0.55, 1.0, 1 / 0.7], rtol=1e-3)  # as-shot neutral 0.55, 1, 0.7


@pytest.mark.parametrize("choice", ["camera", "auto"])
def test_enhance_renders_with_the_chosen_white_balance(tmp_path: Path, model_file: Path, choice: str) -> None:
    dng = write_cast_dng(tmp_path / "night.dng")  # a grey scene that the as-shot balance turns magenta
    out = tmp_path / f"{choice}.png"
    args = ["enhance", str(dng), "-o", str(out), "--ratio", "40", "--wb", choice, "--model", str(model_file), "-q"]
    assert main(args) == 0
    with Image.open(out) as picture:
        means = np.asarray(picture, np.float64).reshape(-1, 3).mean(axis=0)
        description = picture.getexif()[0x010E]
    red_over_green = means[0] / means[1]
    # As shot the grey comes out with R/G 2.9-3.0; auto takes most of that off but not all (measured 1.09 with
    # full and 1.22 with the shipped lite; the lites before it gave 1.24 and 1.26). Grey edge does not get this
    # soft, blob-only scene exactly right: the network draws its red edges 5-15 % weaker than its green ones,
    # which the fixture's colour matrix (camera = XYZ) doubles in sRGB. How close auto gets on real pictures
    # is measured by benchmarks/white_balance.py (about 2.3 degrees median on Kodak), not here.
    if choice == "auto":
        assert abs(red_over_green - 1) < 0.35 and description.endswith(", auto white balance")
    else:
        assert red_over_green > 2 and "white balance" not in description


def test_the_cli_refuses_an_unknown_white_balance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["enhance", str(tmp_path / "x.dng"), "--wb", "tungsten"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'tungsten'" in capsys.readouterr().err


def test_libraw_renders_with_given_gains_as_with_its_own(tmp_path: Path) -> None:
    from seeisp.eval.baseline import libraw_render

    path = write_dark_dng(tmp_path / "night.dng")
    camera = libraw_render(path, 20.0)
    np.testing.assert_allclose(libraw_render(path, 20.0, white_balance=read_raw(path).white_balance), camera, atol=2e-3)
    neutral = libraw_render(path, 20.0, white_balance=NO_GAINS).reshape(-1, 3).mean(axis=0)
    assert abs(neutral[0] / neutral[1] - 1) < 0.03 < camera.reshape(-1, 3).mean(axis=0)[0] / camera.mean() - 1


@pytest.mark.parametrize(
    ("choice", "parsed"), [(None, "camera"), ("", "camera"), ("auto", "auto"), ("daylight", "daylight")]
)
def test_white_balance_by_name(choice: str | None, parsed: str) -> None:
    assert WhiteBalance.parse(choice) is WhiteBalance(parsed)


def test_an_unknown_white_balance_is_an_option_error_naming_the_choices(tmp_path: Path, model_file: Path) -> None:
    from seeisp.enhance import enhance_file
    from seeisp.errors import InvalidOptionError

    with pytest.raises(
        InvalidOptionError, match=r"^white balance must be one of camera, daylight, auto, got 'tungsten'$"
    ):
        enhance_file(write_dark_dng(tmp_path / "dark.dng"), model=model_file, ratio=100, white_balance="tungsten")


def test_auto_keeps_a_neutral_scene_as_the_camera_balanced_it(tmp_path: Path, model_file: Path) -> None:
    from seeisp.enhance import enhance_file
    from seeisp.eval.demo import write_demo_raw
    from seeisp.sim.scene import chart_patch_centres

    demo = write_demo_raw(tmp_path)
    y, x = chart_patch_centres()[18]  # the white patch
    patches = {
        choice: enhance_file(demo.raw_path, ratio=demo.ratio, model=str(model_file), white_balance=choice).image[
            y - 8 : y + 8, x - 8 : x + 8
        ]
        for choice in ("camera", "auto")
    }
    camera, auto = (patch.reshape(-1, 3).mean(axis=0) for patch in patches.values())
    np.testing.assert_allclose(auto, camera, rtol=0.02)


SODIUM = np.array([1.0, 0.55, 0.18])  # a sodium lamp's light against daylight's, per R, G, B after the camera's gains


def test_auto_takes_most_of_a_sodium_lamps_cast_off(tmp_path: Path, model_file: Path) -> None:
    from seeisp.enhance import enhance_file

    from conftest import TEST_CAMERA, scene_camera_rgb, write_scene_dng

    grey = scene_camera_rgb().mean(axis=-1, keepdims=True) / TEST_CAMERA.white_balance  # grey under daylight
    lit = (grey * SODIUM * 1.5).astype(np.float32)
    dng = write_scene_dng(tmp_path / "street.dng", lit, ratio=20)
    colour = {}
    for choice in ("camera", "auto"):
        means = enhance_file(dng, ratio=20, model=str(model_file), white_balance=choice).image.reshape(-1, 3).mean(0)
        colour[choice] = means / means.mean()
    cast = {choice: float(np.abs(c - 1).max()) for choice, c in colour.items()}
    assert cast["camera"] > 0.3  # a strong orange as shot
    assert cast["auto"] < cast["camera"] / 3, colour
