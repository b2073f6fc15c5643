"""Blown areas render white, never magenta: whichever channels clipped in the sensor, and with the ratio 3x too high."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seeisp.enhance import enhance_file
from seeisp.render import clip_highlights
from seeisp.sim.noise import VIRTUAL_SENSOR
from seeisp.sim.synthesis import write_dark_shot

from conftest import TEST_CAMERA

SHOT_RATIO = 100  # the raw is this dark; it is enhanced at three times that
HEIGHT, WIDTH, SIDE, TOP = 160, 384, 56, 52
# Camera RGB of each light, as a multiple of the well-exposed white: which of R, G, B the sensor clips (the
# raw is 1/SHOT_RATIO of it), the rest clipped by the amplification only.
LIGHTS = {
    "all clipped in the sensor": (300.0, 300.0, 300.0),
    "green and blue clipped in the sensor": (50.0, 200.0, 150.0),
    "green clipped in the sensor": (50.0, 150.0, 60.0),
    "none clipped in the sensor": (0.45, 0.9, 0.6),
}


def boxes() -> dict[str, tuple[slice, slice]]:
    return {name: (slice(TOP, TOP + SIDE), slice(16 + i * 92, 16 + i * 92 + SIDE)) for i, name in enumerate(LIGHTS)}


def write_lights_shot(path: Path) -> Path:
    """Lights on a dim neutral wall with vertical stripes, shot SHOT_RATIO times too dark with sensor noise."""
    neutral = 1 / TEST_CAMERA.white_balance  # camera RGB of a grey
    stripes = 1 + 0.5 * np.sin(np.arange(WIDTH) / 5.0)
    scene = (0.06 * neutral * stripes[:, None])[None].repeat(HEIGHT, axis=0).astype(np.float32)
    for name, (rows, cols) in boxes().items():
        scene[rows, cols] = LIGHTS[name]
    rng = np.random.default_rng(0)
    noise = VIRTUAL_SENSOR.sample(rng, k=3.0)
    return write_dark_shot(path, scene, TEST_CAMERA, SHOT_RATIO, noise, rng)


@pytest.fixture(scope="module")
def overexposed(tmp_path_factory: pytest.TempPathFactory, model_file: Path) -> np.ndarray:
    path = write_lights_shot(tmp_path_factory.mktemp("lights") / "lights.dng")
    return np.round(enhance_file(path, ratio=3 * SHOT_RATIO, model=str(model_file)).image * 255)


@pytest.mark.parametrize("light", list(LIGHTS))
def test_a_blown_light_is_white_whichever_channels_clipped(overexposed: np.ndarray, light: str) -> None:
    rows, cols = boxes()[light]
    inside = overexposed[rows, cols][3:-3, 3:-3].reshape(-1, 3)  # its edge blends with the wall
    spread = inside.max(axis=1) - inside.min(axis=1)
    assert spread.max() <= 6, f"{light}: {inside.mean(axis=0)}"
    assert inside.min() >= 240


def test_the_wall_between_the_lights_keeps_its_colour(overexposed: np.ndarray) -> None:
    wall = overexposed[TOP + 12 : TOP + SIDE - 12, 16 + SIDE + 8 : 16 + 92 - 8].reshape(-1, 3).mean(axis=0)
    red, green, blue = wall
    assert green >= min(red, blue), wall  # not the magenta of camera-RGB white that the network spread around


def test_clip_highlights_changes_nothing_below_white_and_flattens_what_renders_white() -> None:
    gains = np.array([2.0, 1.0, 1.5], np.float32)
    rng = np.random.default_rng(0)
    mosaic = rng.uniform(0.0, 0.004, (64, 64)).astype(np.float32)  # x100: below every colour's white
    mosaic[:32] = 0.02  # x100: 2, above every colour's white
    out = clip_highlights(mosaic, gains, 100)
    np.testing.assert_array_equal(out[40:], mosaic[40:])
    assert out[0:28:2, 0::2].max() == pytest.approx(0.5 / 100)  # red: white at 1 / its gain
    assert out[0:28:2, 1::2].max() == pytest.approx(1 / 100)
    assert out[1:28:2, 1::2].max() == pytest.approx(1 / 1.5 / 100)
