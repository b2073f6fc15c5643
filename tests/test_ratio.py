"""The ratio: auto (learned, keeping night scenes dark; and the metering rule it replaced), --ev, clamping."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seeisp.enhance import enhance_raw
from seeisp.errors import InvalidOptionError, InvalidRatioError
from seeisp.ratio import (
    MAX_RATIO,
    MIN_RATIO,
    TARGET_LEVEL,
    choose_exposure,
    colour_block_means,
    estimate_ratio,
    exposure_level,
    metered_estimate,
    parse_ev,
    parse_ratio,
)
from seeisp.raw import CFA, read_raw

from conftest import write_dark_dng

TEST_LEVEL_OF_A_DAY_PICTURE = 0.19  # a well-exposed picture's mean level


def dark_frame(ratio: float, shape: tuple[int, int] = (512, 768), noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """A normalised mosaic whose well-exposed version has mean TARGET_LEVEL: a left-to-right ramp, /ratio."""
    rng = np.random.default_rng(seed)
    ramp = np.broadcast_to(np.linspace(0.5, 1.5, shape[1], dtype=np.float32), shape) * TARGET_LEVEL
    return (ramp / ratio + rng.normal(0.0, noise, shape)).astype(np.float32)


def test_the_metering_rule_gives_a_frame_without_light_sources_the_plain_mean_estimate() -> None:
    frame = dark_frame(100)
    assert exposure_level(frame) == pytest.approx(float(np.mean(frame, dtype=np.float64)), rel=1e-6)
    assert metered_estimate(frame) == pytest.approx(100, rel=1e-3)


def test_a_lamp_in_the_frame_does_not_set_the_metering_rules_exposure() -> None:
    frame = dark_frame(100)
    yy, xx = np.mgrid[: frame.shape[0], : frame.shape[1]]
    lamp = (yy - 100) ** 2 + (xx - 600) ** 2 <= 45**2  # 1.6 % of the frame, clipped at white
    frame[lamp] = 1.0
    plain_mean_estimate = TARGET_LEVEL / float(np.mean(frame))
    assert plain_mean_estimate < 15  # the lamp holds most of the frame's light
    assert metered_estimate(frame) == pytest.approx(100, rel=0.1)


def test_noise_at_ratio_300_barely_moves_the_estimate() -> None:
    clean = estimate_ratio(dark_frame(300))
    noisy = estimate_ratio(dark_frame(300, noise=3e-3))  # five times the mean signal, per pixel
    assert noisy == pytest.approx(clean, rel=0.05)


@pytest.mark.parametrize("level", [0.0, -1e-3])
def test_a_frame_at_or_below_black_gets_the_largest_ratio(level: float) -> None:
    assert estimate_ratio(np.full((64, 64), level, np.float32)) == MAX_RATIO


def test_a_frame_that_already_renders_white_gets_the_smallest_ratio() -> None:
    camera_gains = np.array([2.2, 1.0, 1.7])  # red and blue at 0.6 render beyond white
    assert estimate_ratio(np.full((64, 64), 0.6, np.float32), CFA.RGGB, camera_gains) == MIN_RATIO


def test_colour_block_means_reads_each_colour_of_the_filter_with_its_gain() -> None:
    frame = np.zeros((32, 32), np.float32)
    frame[0::2, 0::2] = 0.25  # the top-left site of every cell
    gains = np.array([2.0, 1.0, 4.0])
    assert colour_block_means(frame, CFA.RGGB, gains)[:, 0] == pytest.approx([0.5, 0.0, 0.0])
    assert colour_block_means(frame, CFA.GRBG, gains)[:, 0] == pytest.approx([0.0, 0.125, 0.0])
    assert colour_block_means(frame, CFA.BGGR, gains)[:, 0] == pytest.approx([0.0, 0.0, 1.0])
    assert colour_block_means(frame, CFA.RGGB).shape == (3, 4)  # 16 x 16 blocks


def test_highlights_are_read_in_the_colours_the_raw_renders() -> None:
    """The same mosaic, its red sites twice as bright: with the camera's red gain its highlights reach white
    sooner, so it is given a lower ratio than read without gains."""
    frame = dark_frame(30)
    frame[0::2, 0::2] *= 2
    with_gains = estimate_ratio(frame, CFA.RGGB, np.array([2.0, 1.0, 1.5]))
    assert with_gains < estimate_ratio(frame) / 1.2


def test_a_frame_smaller_than_a_block_uses_its_pixels() -> None:
    frame = dark_frame(50, shape=(6, 10))
    assert metered_estimate(frame) == pytest.approx(50, rel=1e-3)
    assert MIN_RATIO < estimate_ratio(frame) < MAX_RATIO


@pytest.mark.parametrize("text", ["auto", " AUTO ", None])
def test_parse_ratio_auto(text: str | None) -> None:
    assert parse_ratio(text) is None


def test_parse_ratio_number() -> None:
    assert parse_ratio("100") == 100.0
    assert (parse_ratio(MIN_RATIO), parse_ratio(str(MAX_RATIO))) == (MIN_RATIO, MAX_RATIO)


@pytest.mark.parametrize("value", [0.99, 300.5, "1e9", "-1", "nan", "inf", "x", ""])
def test_parse_ratio_refuses_what_the_models_were_not_trained_for(value: str | float) -> None:
    with pytest.raises(InvalidRatioError, match=r"^ratio must be between 1 and 300 \(the models' range\) or 'auto'"):
        parse_ratio(value)


def test_the_library_checks_the_ratio_too(tmp_path: Path, lite_session) -> None:
    raw = read_raw(write_dark_dng(tmp_path / "dark.dng"))
    with pytest.raises(InvalidRatioError):
        enhance_raw(raw, model=lite_session, ratio=1000)


def test_ev_multiplies_a_given_ratio_by_two_per_stop() -> None:
    frame = dark_frame(100)
    assert choose_exposure(frame, 50.0, ev=1).ratio == pytest.approx(100)
    assert choose_exposure(frame, 50.0, ev=-0.5).ratio == pytest.approx(50 / 2**0.5)
    assert choose_exposure(frame, 50.0, ev=1).note == ""


def test_ev_applies_on_top_of_the_auto_ratio() -> None:
    frame = dark_frame(30)
    auto = choose_exposure(frame, None)
    assert 2 * MIN_RATIO < auto.ratio < MAX_RATIO / 2  # neither the estimate nor the compensation is clamped
    assert auto.auto and choose_exposure(frame, None, ev=-1).ratio == pytest.approx(auto.ratio / 2)


def test_ev_beyond_the_models_range_is_clamped_with_a_note() -> None:
    up = choose_exposure(dark_frame(100), 200.0, ev=2)
    assert up.ratio == MAX_RATIO and "clamped to 300" in up.note
    down = choose_exposure(dark_frame(100), 2.0, ev=-3)
    assert down.ratio == MIN_RATIO and "clamped to 1" in down.note


def test_a_nearly_black_frame_gets_the_largest_ratio_and_a_note() -> None:
    nearly_black = choose_exposure(dark_frame(5000), None)
    assert nearly_black.ratio == MAX_RATIO and "nearly black" in nearly_black.note
    assert "\n" not in nearly_black.note


@pytest.mark.parametrize("text", ["x", "nan", "inf"])
def test_parse_ev_refuses_what_is_not_a_finite_number(text: str) -> None:
    with pytest.raises(InvalidOptionError, match="ev must be a number of stops"):
        parse_ev(text)


def test_enhance_records_the_ev_and_the_ratio_it_gave(tmp_path: Path, lite_session) -> None:
    raw = read_raw(write_dark_dng(tmp_path / "dark.dng"))
    result = enhance_raw(raw, model=lite_session, ratio=40, ev=1)
    assert (result.ratio, result.ev, result.note) == (80, 1, "")
    assert "ratio 80, ev +1" in result.description


def night_street(ratio: float, seed: int = 0) -> tuple[np.ndarray, float]:
    """A normalised dark frame of a street at night, ``ratio`` times too dark, and its reference's mean level:
    a textured scene at a night level under pools of warm light, a dark sky, four lamps clipped in the sensor."""
    rng = np.random.default_rng(seed)
    h, w = 512, 768
    yy, xx = np.mgrid[0:h, 0:w]
    texture = np.clip(rng.lognormal(0, 0.6, (h // 16, w // 16)), 0, 5).repeat(16, 0).repeat(16, 1)
    lamps = [(250, 100), (260, 400), (240, 650), (120, 300)]
    pools = 0.1 + sum(np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / (2 * 120.0**2)) for y, x in lamps)
    scene = texture * pools
    scene[: h // 3] *= 0.03  # the sky
    scene *= 0.05 / scene.mean()
    frame = (scene / ratio).astype(np.float32)
    for y, x in lamps:
        frame[(yy - y) ** 2 + (xx - x) ** 2 <= 8**2] = 1.0
    return frame, float(np.clip(scene + (frame >= 1), 0, 1).mean())


@pytest.mark.parametrize("ratio", [30, 100, 300])
def test_a_night_street_stays_as_dark_as_a_night_exposure(ratio: float) -> None:
    frame, _ = night_street(ratio)
    level = float(np.clip(frame * estimate_ratio(frame), 0, 1).mean())
    assert 0.02 <= level <= 0.16  # the mean level of long exposures of night scenes
    assert metered_estimate(frame) > 2 * estimate_ratio(frame)  # the metering rule brightened it to day


def test_an_underexposed_ordinary_scene_is_brought_back_to_its_brightness() -> None:
    rng = np.random.default_rng(1)
    texture = np.clip(rng.lognormal(0, 0.6, (32, 48)), 0, 5).repeat(16, 0).repeat(16, 1)
    scene = TEST_LEVEL_OF_A_DAY_PICTURE * texture / texture.mean()
    for ratio in (10, 100):
        assert abs(np.log2(estimate_ratio((scene / ratio).astype(np.float32)) / ratio)) <= 2 / 3


def test_a_night_frame_mostly_below_black_is_estimated_not_taken_for_black() -> None:
    """Noise puts the sky and the unlit four fifths of a night frame below black: its lamps and lit parts still
    say how bright it is, so it gets the learned estimate rather than the nearly-black clamp."""
    frame, _ = night_street(100)
    unlit = frame < np.percentile(frame, 80)
    frame[unlit] = np.random.default_rng(0).normal(-2e-4, 1e-4, int(unlit.sum()))
    exposure = choose_exposure(frame, None)
    assert exposure.ratio < MAX_RATIO / 2 and exposure.note == ""
