"""Noise drawn in torch on the training device (noise_on_device): the same law as the numpy path, seeded."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from seeisp.pack import amplify, pack  # noqa: E402
from seeisp.sim.noise import NoiseParams, normalise, simulate_dark_raw  # noqa: E402
from seeisp.training import data as data_module  # noqa: E402
from seeisp.training.data import NOISE_FIELDS, SyntheticPairs, noise_vector  # noqa: E402
from seeisp.training.device_noise import NoiseBatch, noisy_input, step_generator  # noqa: E402
from seeisp.training.device_noise import simulate_dark_raw as torch_dark_raw  # noqa: E402

BLACK, WHITE = 512, 16383
SPAN = WHITE - BLACK


def params(k: float, read: float, lam: float | None = None, row: float = 0.0, bias=(0.0, 0.0, 0.0, 0.0)) -> NoiseParams:
    return NoiseParams(k=k, read_scale=read, read_lambda=lam, row_sigma=row, black_bias=bias, black=BLACK, white=WHITE)


def vectors(noises: list[NoiseParams], ratio: float = 100.0, clip_black: bool = False) -> torch.Tensor:
    return torch.from_numpy(np.stack([noise_vector(n, ratio, clip_black) for n in noises]))


def torch_flat_raws(signal_dn: list[float], noises: list[NoiseParams], ratio: float = 100.0, size: int = 512):
    """One flat field per noise: raw DN (float64 numpy, (B, size, size)) whose mean should be black + signal."""
    clean = torch.tensor([s * ratio / SPAN for s in signal_dn], dtype=torch.float32)[:, None, None]
    clean = clean.expand(len(noises), size, size).contiguous()
    batch = NoiseBatch.from_vectors(vectors(noises, ratio))
    return torch_dark_raw(clean, batch, step_generator("cpu", 0)).double().numpy()


def tukey_variance(lam: float) -> float:
    if lam == 0:
        return math.pi**2 / 3  # the logistic distribution
    return 2 / lam**2 * (1 / (1 + 2 * lam) - math.gamma(lam + 1) ** 2 / math.gamma(2 * lam + 2))


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_flat_field_variance_is_shot_plus_gaussian_read_plus_quantisation() -> None:
    cases = [(k, s) for k in (0.5, 2.0, 6.0) for s in (30.0, 300.0, 3000.0)]  # one sample of the batch each
    read = 3.0
    raws = torch_flat_raws([s for _, s in cases], [params(k, read) for k, _ in cases])
    for (k, signal), raw in zip(cases, raws, strict=True):
        expected = k * signal + read**2 + 1 / 12
        assert raw.var() == pytest.approx(expected, rel=0.05), (k, signal)
        assert raw.mean() - BLACK == pytest.approx(signal, abs=0.05 * math.sqrt(expected)), (k, signal)


@pytest.mark.parametrize("signal_dn", [0.0, 200.0])
def test_flat_field_variance_with_tukey_read_and_row_noise(signal_dn: float) -> None:
    lams, k, read, row = (-0.1, 0.0, 0.14), 1.5, 2.0, 1.0
    raws = torch_flat_raws([signal_dn] * len(lams), [params(k, read, lam, row) for lam in lams])
    for lam, raw in zip(lams, raws, strict=True):
        expected = k * signal_dn + read**2 * tukey_variance(lam) + row**2 + 1 / 12
        assert raw.var() == pytest.approx(expected, rel=0.05), lam
        assert raw.mean() - BLACK == pytest.approx(signal_dn, abs=0.05 * math.sqrt(expected)), lam


def test_row_noise_is_one_offset_per_row_and_bias_lands_on_its_cell() -> None:
    rows, biased = torch_flat_raws([0.0, 0.0], [params(1.0, read=1.0, row=5.0), params(1.0, 1.0, bias=BIAS)], size=1024)
    row_means = rows.mean(axis=1)
    assert row_means.var() == pytest.approx(25.0, rel=0.15)  # 1024 rows: the estimate's spread is ~4%
    assert (rows - row_means[:, None]).var() == pytest.approx(1.0 + 1 / 12, rel=0.05)
    cells = [biased[i::2, j::2].mean() - BLACK for i in (0, 1) for j in (0, 1)]
    np.testing.assert_allclose(cells, BIAS, atol=0.05)


BIAS = (3.0, -2.0, 0.0, 7.0)  # R G1 G2 B


def numpy_input(clean: np.ndarray, ratio: float, noise: NoiseParams, clip_black: bool, seed: int) -> np.ndarray:
    """What ``SyntheticPairs.sample`` does from the clean mosaic onward."""
    mosaic = normalise(simulate_dark_raw(clean, ratio, noise, np.random.default_rng(seed)), noise)
    if clip_black:
        mosaic = np.maximum(mosaic, 0.0)
    return amplify(pack(mosaic), ratio)


def site_mosaic(levels: tuple[float, float, float, float], size: int = 512) -> np.ndarray:
    """A mosaic flat on each CFA site: R, G1, G2, B levels in [0, 1]."""
    return np.kron(np.ones((size // 2, size // 2)), np.reshape(levels, (2, 2))).astype(np.float32)


AGREEMENT_CASES = {
    # levels of R G1 G2 B, ratio, noise, clip at black
    "gaussian": ((0.3, 0.05, 0.5, 0.0), 50.0, params(2.0, 4.0, None, 1.5, (1.0, -1.0, 0.5, 2.0)), False),
    "tukey-clip-black": ((0.0, 0.002, 0.02, 0.2), 200.0, params(0.8, 2.5, -0.05, 0.8, (0.0, 0.5, 0.5, -1.5)), True),
    "tukey-near-white": ((0.97, 0.995, 0.6, 1.3), 1.0, params(4.0, 3.0, 0.1, 0.5), False),
    "logistic-unclipped-dark": ((0.0, 0.0, 0.01, 0.003), 300.0, params(1.0, 2.0, 0.0, 0.5), False),
}


@pytest.mark.parametrize("case", AGREEMENT_CASES)
def test_torch_and_numpy_inputs_agree_in_distribution(case: str) -> None:
    levels, ratio, noise, clip_black = AGREEMENT_CASES[case]
    clean = site_mosaic(levels)
    expected = numpy_input(clean, ratio, noise, clip_black, seed=0)
    got = noisy_input(torch.from_numpy(clean)[None], vectors([noise], ratio, clip_black), step_generator("cpu", 0))[
        0
    ].numpy()
    assert got.shape == expected.shape == (4, 256, 256) and got.dtype == np.float32
    # Standard error of the difference of two channel means: pixel noise plus one row offset per row.
    row_var = (noise.row_sigma * ratio / SPAN) ** 2
    for channel, (a, b) in enumerate(zip(got, expected, strict=True)):
        error = math.sqrt(2 * (b.var() / b.size + row_var / b.shape[0]))
        assert a.mean() == pytest.approx(b.mean(), abs=4 * error + 1e-6), channel
        assert a.var() == pytest.approx(b.var(), rel=0.05, abs=1e-10), channel
        for edge in (-1.0, 0.0, 1.0):  # clipped at the input range, at black, at white
            assert np.mean(a == edge) == pytest.approx(np.mean(b == edge), abs=0.01), (channel, edge)
        assert (a.min() < 0) == (b.min() < 0), channel


def test_clipping_at_black_and_white_is_exercised() -> None:
    """The agreement cases above do reach both clips (else they would prove little)."""
    levels, ratio, noise, _ = AGREEMENT_CASES["tukey-clip-black"]
    clipped = noisy_input(
        torch.from_numpy(site_mosaic(levels))[None], vectors([noise], ratio, True), step_generator("cpu", 1)
    )
    unclipped = noisy_input(
        torch.from_numpy(site_mosaic(levels))[None], vectors([noise], ratio, False), step_generator("cpu", 1)
    )
    assert clipped.min() == 0.0 and (clipped[0, 0] == 0).float().mean() > 0.4  # R at zero signal: half clip
    assert unclipped.min() < -0.05
    torch.testing.assert_close(clipped, unclipped.clamp_min(0))  # same draws, clipped or not

    levels, ratio, noise, _ = AGREEMENT_CASES["tukey-near-white"]
    raw = torch_dark_raw(
        torch.from_numpy(site_mosaic(levels))[None],
        NoiseBatch.from_vectors(vectors([noise], ratio)),
        step_generator("cpu", 1),
    )
    assert raw.max() == WHITE and (raw[0, 1::2, 1::2] == WHITE).all()  # B at 1.3: all clipped to white
    assert 0.05 < (raw[0, 0::2, 1::2] == WHITE).float().mean() < 0.95  # G1 near white: some clip


def test_same_seed_same_noise_other_seed_other_noise() -> None:
    clean = torch.from_numpy(np.random.default_rng(5).uniform(0, 1, (3, 64, 64)).astype(np.float32))
    noises = vectors([params(1.0, 2.0, 0.1, 1.0), params(3.0, 1.0, None, 0.5), params(0.5, 4.0, 0.0)])

    def run(*keys: int) -> torch.Tensor:
        return noisy_input(clean, noises, step_generator("cpu", *keys))

    a, b = run(0, 0, 7), run(0, 0, 7)
    assert torch.equal(a, b)
    for other in ((0, 0, 8), (0, 1, 7), (1, 0, 7)):  # step, rank and seed each change the noise
        assert not torch.equal(a, run(*other)), other


def test_noise_vectors_must_have_the_right_shape() -> None:
    with pytest.raises(ValueError, match=f"must be \\(B, {len(NOISE_FIELDS)}\\)"):
        NoiseBatch.from_vectors(torch.zeros(2, len(NOISE_FIELDS) - 1))


@pytest.fixture
def pairs() -> SyntheticPairs:
    rng = np.random.default_rng(3)
    images = [rng.integers(0, 256, (96, 80, 3), dtype=np.uint8), rng.integers(0, 65536, (70, 90, 3), dtype=np.uint16)]
    return SyntheticPairs(images, profiles=[], patch=32, pattern_share=0.5)


def test_clean_samples_share_the_draws_of_full_samples(pairs: SyntheticPairs, monkeypatch) -> None:
    """Up to the noise both kinds of sample make the same crop, camera, ratio and noise parameters."""
    seen: list[tuple[np.ndarray, float, NoiseParams]] = []
    original = data_module.dark_raw_pair

    def spy(camera_rgb, ratio, noise, rng):
        seen.append((camera_rgb, ratio, noise))
        return original(camera_rgb, ratio, noise, rng)

    monkeypatch.setattr(data_module, "dark_raw_pair", spy)
    for seed in range(12):  # with pattern_share 0.5, both patterns and photographs
        _, target, wb, matrix = pairs.sample(np.random.default_rng(seed))
        mosaic, clean_target, clean_wb, clean_matrix, vector = pairs.clean_sample(np.random.default_rng(seed))
        camera_rgb, ratio, noise = seen[-1]
        np.testing.assert_array_equal(clean_target, target)
        np.testing.assert_array_equal(clean_wb, wb)
        np.testing.assert_array_equal(clean_matrix, matrix)
        np.testing.assert_array_equal(mosaic[0::2, 0::2], camera_rgb[0::2, 0::2, 0])  # RGGB
        np.testing.assert_array_equal(mosaic[1::2, 1::2], camera_rgb[1::2, 1::2, 2])
        np.testing.assert_array_equal(mosaic[0::2, 1::2], camera_rgb[0::2, 1::2, 1])
        expected = noise_vector(noise, ratio, clip_black=bool(vector[NOISE_FIELDS.index("clip_black")]))
        np.testing.assert_array_equal(vector, expected)


def test_clean_batches_are_seeded_and_carry_every_kind_of_noise(pairs: SyntheticPairs) -> None:
    mosaic, target, wb, matrix, noise = pairs.clean_batch(0, 4, 64)
    assert mosaic.shape == (64, 32, 32) and target.shape == (64, 3, 32, 32) and wb.shape == (64, 3)
    assert matrix.shape == (64, 3, 3)
    assert noise.shape == (64, len(NOISE_FIELDS)) and noise.dtype == np.float32
    for a, b in zip(pairs.clean_batch(0, 4, 64), (mosaic, target, wb, matrix, noise), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(pairs.clean_batch(0, 5, 64)[0], mosaic)
    column = {name: noise[:, i] for i, name in enumerate(NOISE_FIELDS)}
    assert 0 < column["gaussian"].mean() < 1 and 0 < column["clip_black"].mean() < 1
    assert ((column["ratio"] >= 1) & (column["ratio"] <= 300)).all()
    x = noisy_input(torch.from_numpy(mosaic), torch.from_numpy(noise), step_generator("cpu", 0, 0, 4))
    assert x.shape == (64, 4, 16, 16) and torch.isfinite(x).all() and x.abs().max() <= 1.0
