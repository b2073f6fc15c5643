"""The blind noise estimate recovers the gain and read noise of synthetic raws made with seeisp.sim's noise model."""

from __future__ import annotations

import numpy as np
import pytest

from seeisp.noise_level import NoiseLevel, estimate_noise_level
from seeisp.render import bt709_decode
from seeisp.sim.noise import NoiseParams, simulate_dark_raw
from seeisp.sim.scene import draw_scene
from seeisp.sim.synthesis import mosaic_rggb


def dark_raw(clean: np.ndarray, k: float, read: float, ratio: float, row: float = 0.0, seed: int = 0) -> np.ndarray:
    """A simulated raw (Poisson shot noise times k, Gaussian read noise) as DN above black, float32."""
    params = NoiseParams(k=k, read_scale=read, read_lambda=None, row_sigma=row)
    raw = simulate_dark_raw(clean, ratio, params, np.random.default_rng(seed))
    return raw.astype(np.float32) - params.black


@pytest.fixture(scope="module")
def scene_mosaic() -> np.ndarray:
    """The test chart (text, bars, a star, gradients, colour patches) as a clean RGGB mosaic in [0, 1]."""
    return mosaic_rggb(bt709_decode(draw_scene(512, 768)))


@pytest.mark.parametrize(
    ("k", "read", "ratio", "row"),
    [(1.0, 10.0, 30, 0.0), (2.0, 6.0, 10, 1.0), (4.0, 3.0, 300, 0.0), (0.5, 3.0, 100, 2.0)],
)
def test_recovers_gain_and_read_noise_of_a_detailed_scene(scene_mosaic, k, read, ratio, row):
    level = estimate_noise_level(dark_raw(scene_mosaic, k, read, ratio, row), saturation=16383 - 512)
    assert level.gain == pytest.approx(k, rel=0.15)
    assert level.read_sigma == pytest.approx(read, rel=0.15)


def test_recovers_a_high_gain_on_a_smooth_picture():
    ramp = np.tile(np.linspace(0, 1, 768, dtype=np.float32), (512, 1))
    level = estimate_noise_level(dark_raw(ramp, k=8.0, read=4.0, ratio=100))
    assert level.gain == pytest.approx(8.0, rel=0.15)
    assert level.read_sigma == pytest.approx(4.0, rel=0.15)


def test_unit_follows_the_mosaic():
    """On the 0..1 scale of RawImage.mosaic, gain and read noise come out divided by (white - black)."""
    ramp = np.tile(np.linspace(0, 1, 768, dtype=np.float32), (512, 1))
    span = 16383 - 512
    level = estimate_noise_level(dark_raw(ramp, k=2.0, read=5.0, ratio=20) / span)
    assert level.gain == pytest.approx(2.0 / span, rel=0.15)
    assert level.read_sigma == pytest.approx(5.0 / span, rel=0.15)


def test_clipped_blocks_are_left_out():
    """Blocks at the white level carry no noise; with ``saturation`` they do not drag the fit."""
    ramp = np.tile(np.linspace(0, 2, 768, dtype=np.float32), (512, 1))  # half the picture beyond white
    raw = np.minimum(dark_raw(ramp, k=2.0, read=5.0, ratio=1.5), 16383 - 512)
    level = estimate_noise_level(raw, saturation=16383 - 512)
    assert level.gain == pytest.approx(2.0, rel=0.15)


def test_too_small_a_raw_is_refused():
    with pytest.raises(ValueError, match="too few blocks"):
        estimate_noise_level(np.zeros((8, 8), np.float32))


def test_variance_follows_the_model_and_treats_below_black_as_black():
    level = NoiseLevel(gain=2.0, read_sigma=3.0)
    np.testing.assert_allclose(np.sqrt(level.variance(np.array([-5.0, 0.0, 8.0]))), [3.0, 3.0, 5.0])
