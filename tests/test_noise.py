"""The physics-based noise model: variance law, Tukey-lambda read noise, row noise, bias, clipping, seeds."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from seeisp.sim.noise import VIRTUAL_SENSOR, NoiseParams, load_profiles, normalise, simulate_dark_raw, tukey_lambda

PROFILES = Path(__file__).resolve().parents[2] / "shared" / "data" / "noise_profiles"
BLACK, WHITE = 512, 16383
SPAN = WHITE - BLACK


def gaussian_params(k: float, read: float, row: float = 0.0) -> NoiseParams:
    return NoiseParams(k=k, read_scale=read, read_lambda=None, row_sigma=row, black=BLACK, white=WHITE)


def flat_dark_raw(signal_dn: float, ratio: float, params: NoiseParams, seed: int = 0, size: int = 512) -> np.ndarray:
    """A flat field whose dark frame should hold ``signal_dn`` DN above black."""
    clean = np.full((size, size), signal_dn * ratio / SPAN, np.float32)
    return simulate_dark_raw(clean, ratio, params, np.random.default_rng(seed)).astype(np.float64)


@pytest.mark.parametrize("k", [0.5, 2.0, 6.0])
@pytest.mark.parametrize("signal_dn", [30.0, 300.0, 3000.0])
def test_flat_field_variance_is_shot_plus_read_plus_quantisation(k: float, signal_dn: float) -> None:
    read = 3.0
    raw = flat_dark_raw(signal_dn, ratio=100.0, params=gaussian_params(k, read))
    expected = k * signal_dn + read**2 + 1 / 12
    assert raw.var() == pytest.approx(expected, rel=0.05)
    assert raw.mean() - BLACK == pytest.approx(signal_dn, abs=0.05 * math.sqrt(expected))


def test_zero_signal_leaves_read_noise_and_quantisation() -> None:
    raw = flat_dark_raw(0.0, ratio=100.0, params=gaussian_params(1.0, 4.0))
    assert raw.var() == pytest.approx(16 + 1 / 12, rel=0.05)
    assert raw.mean() == pytest.approx(BLACK, abs=0.05)


def tukey_quantile(p: float, lam: float) -> float:
    return math.log(p / (1 - p)) if lam == 0 else (p**lam - (1 - p) ** lam) / lam


def tukey_variance(lam: float) -> float:
    if lam == 0:
        return math.pi**2 / 3  # the logistic distribution
    return 2 / lam**2 * (1 / (1 + 2 * lam) - math.gamma(lam + 1) ** 2 / math.gamma(2 * lam + 2))


@pytest.mark.parametrize("lam", [-0.1, 0.0, 0.14])
def test_tukey_lambda_sampler_matches_its_distribution(lam: float) -> None:
    samples = tukey_lambda(np.random.default_rng(0), lam, (400_000,))
    assert samples.mean() == pytest.approx(0.0, abs=0.02)
    for p in (0.05, 0.25, 0.5, 0.9, 0.99):
        assert np.quantile(samples, p) == pytest.approx(
            tukey_quantile(p, lam), abs=0.03 * (1 + abs(tukey_quantile(p, lam)))
        )
    assert samples.var() == pytest.approx(tukey_variance(lam), rel=0.03)


def test_tukey_read_noise_scales_with_read_scale() -> None:
    params = NoiseParams(k=1.0, read_scale=2.0, read_lambda=0.0, row_sigma=0.0, black=BLACK, white=WHITE)
    raw = flat_dark_raw(0.0, ratio=1.0, params=params)
    assert raw.var() == pytest.approx(4 * math.pi**2 / 3 + 1 / 12, rel=0.05)


def test_row_noise_is_one_offset_per_row() -> None:
    raw = flat_dark_raw(0.0, ratio=1.0, params=gaussian_params(1.0, read=1.0, row=5.0), size=1024)
    row_means = raw.mean(axis=1)
    assert row_means.var() == pytest.approx(25.0, rel=0.15)  # 1024 rows: the estimate's spread is ~4%
    within_rows = (raw - row_means[:, None]).var()
    assert within_rows == pytest.approx(1.0 + 1 / 12, rel=0.05)


def test_black_bias_lands_on_its_cell() -> None:
    params = NoiseParams(
        k=1.0, read_scale=1.0, read_lambda=None, row_sigma=0.0, black_bias=(3.0, -2.0, 0.0, 7.0), black=BLACK
    )
    raw = flat_dark_raw(0.0, ratio=1.0, params=params) - BLACK
    cells = [raw[0::2, 0::2].mean(), raw[0::2, 1::2].mean(), raw[1::2, 0::2].mean(), raw[1::2, 1::2].mean()]
    np.testing.assert_allclose(cells, [3.0, -2.0, 0.0, 7.0], atol=0.05)


def test_bright_signal_clips_at_white_and_output_is_uint16() -> None:
    clean = np.full((64, 64), 1.2, np.float32)
    raw = simulate_dark_raw(clean, 1.0, gaussian_params(2.0, 3.0), np.random.default_rng(0))
    assert raw.dtype == np.uint16
    assert raw.max() == WHITE
    assert (raw == WHITE).mean() > 0.99
    assert normalise(raw, gaussian_params(2.0, 3.0)).max() == 1.0


def test_normalise_maps_black_to_zero_and_white_to_one() -> None:
    params = gaussian_params(1.0, 1.0)
    values = normalise(np.array([BLACK, WHITE, BLACK - 10], np.uint16), params)
    np.testing.assert_allclose(values, [0, 1, -10 / SPAN], rtol=1e-6)


def test_same_seed_same_noise_other_seed_other_noise() -> None:
    clean = np.random.default_rng(5).uniform(0, 1, (64, 64)).astype(np.float32)
    rng_a, rng_b, rng_c = (np.random.default_rng(s) for s in (1, 1, 2))
    a = simulate_dark_raw(clean, 100.0, VIRTUAL_SENSOR.sample(rng_a), rng_a)
    b = simulate_dark_raw(clean, 100.0, VIRTUAL_SENSOR.sample(rng_b), rng_b)
    c = simulate_dark_raw(clean, 100.0, VIRTUAL_SENSOR.sample(rng_c), rng_c)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_profile_sample_spans_the_gain_range_log_uniformly() -> None:
    rng = np.random.default_rng(0)
    ks = np.array([VIRTUAL_SENSOR.sample(rng).k for _ in range(4000)])
    assert ks.min() >= VIRTUAL_SENSOR.k_min and ks.max() <= VIRTUAL_SENSOR.k_max
    middle = math.exp((math.log(VIRTUAL_SENSOR.k_min) + math.log(VIRTUAL_SENSOR.k_max)) / 2)
    assert np.mean(ks < middle) == pytest.approx(0.5, abs=0.03)  # log-uniform: half below the geometric middle
    assert VIRTUAL_SENSOR.sample(rng, k=2.5).k == 2.5
    assert VIRTUAL_SENSOR.sample(rng, gaussian=True).read_lambda is None


def test_calibrated_profiles_load() -> None:
    if not PROFILES.is_dir():
        pytest.skip("../shared/data/noise_profiles is not present")
    profiles = load_profiles(PROFILES)
    assert {"SonyA7S2", "NikonD850", "NikonD850-2", "CanonEOS700D", "CanonEOS70D"} <= set(profiles)
    rng = np.random.default_rng(0)
    for name, profile in profiles.items():
        assert 0 < profile.k_min < profile.k_max, name
        params = profile.sample(rng)
        assert profile.k_min <= params.k <= profile.k_max, name
        assert params.read_lambda in profile.tukey_shapes, name
        assert 0 < params.read_scale < 100 and 0 <= params.row_sigma < 100, name
        assert len(params.black_bias) == 4, name
