"""The noise-level input plane: its value is the noise the input carries, and a grown network learns to use it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from seeisp.sim.noise import NoiseParams, read_noise_std, tukey_lambda  # noqa: E402
from seeisp.sim.scene import draw_scene  # noqa: E402
from seeisp.training.data import NOISE_FIELDS, SyntheticPairs  # noqa: E402
from seeisp.training.device_noise import noisy_input, step_generator  # noqa: E402
from seeisp.training.model import SIDUNet, UNetConfig  # noqa: E402
from seeisp.training.noise_input import (  # noqa: E402
    level_from_vectors,
    noise_plane,
    tukey_lambda_std,
    with_noise_plane,
    with_zero_inputs,
)
from seeisp.training.train import load_weights, tone_l1  # noqa: E402

LITE = Path(__file__).resolve().parents[1] / "weights" / "seeisp-lite.onnx"


def vectors(count: int, **values: float) -> torch.Tensor:
    """Noise vectors (``NOISE_FIELDS``) of a Gaussian-read sensor without row noise or bias, overridable."""
    fields = {"k": 2.0, "read_scale": 4.0, "gaussian": 1.0, "black": 512.0, "white": 16383.0, "ratio": 100.0}
    fields.update(values)
    row = [fields.get(name, 0.0) for name in NOISE_FIELDS]
    return torch.tensor([row] * count, dtype=torch.float32)


@pytest.mark.parametrize("lam", [-0.1, 0.0, 0.14])
def test_tukey_lambda_std_matches_samples(lam):
    samples = tukey_lambda(np.random.default_rng(0), lam, (400_000,))
    assert tukey_lambda_std(torch.tensor([lam]))[0].item() == pytest.approx(samples.std(), rel=0.02)
    params = NoiseParams(k=1.0, read_scale=3.0, read_lambda=lam, row_sigma=0.0)
    assert read_noise_std(params) == pytest.approx(3 * samples.std(), rel=0.02)


@pytest.mark.parametrize(
    ("level", "ratio", "read"), [(0.02, 100.0, {}), (0.3, 300.0, {}), (0.1, 50.0, {"gaussian": 0, "read_lambda": 0.14})]
)
def test_noise_plane_is_the_noise_of_the_input(level, ratio, read):
    """On a flat grey the plane equals the spread of the simulated input around its mean, in input units."""
    noise = vectors(1, ratio=ratio, **read)
    clean = torch.full((1, 256, 256), level)
    packed = noisy_input(clean, noise, step_generator("cpu", 0))
    plane = noise_plane(packed, *level_from_vectors(noise))
    measured = packed.std().item()
    assert plane.mean().item() == pytest.approx(measured, rel=0.05)
    assert plane.shape == (1, 1, 128, 128)


def test_grown_network_starts_as_the_original():
    torch.manual_seed(0)
    model = SIDUNet(UNetConfig(width=8, depth=3))
    grown = SIDUNet(UNetConfig(width=8, depth=3, in_channels=5))
    grown.load_state_dict(with_zero_inputs(model.state_dict(), 5))
    packed = torch.randn(2, 4, 16, 16) * 0.3
    with torch.no_grad():
        plane = torch.rand(2, 1, 16, 16)
        torch.testing.assert_close(grown(torch.cat([packed, plane], dim=1)), model(packed))


@pytest.mark.skipif(not LITE.is_file(), reason="needs the shipped lite weights")
def test_a_few_steps_with_the_noise_plane_reduce_the_loss():
    """From the shipped lite weights, grown by the zero-weight plane, Adam steps on one batch lower its loss
    and move the new plane's weights off zero."""
    torch.manual_seed(0)
    grown = SIDUNet(UNetConfig(width=16, extra_convs=3, in_channels=5))
    load_weights(grown, LITE)  # as training with noise_plane=true and init_from the lite does
    picture = (draw_scene(256, 256) * 255).round().astype(np.uint8)
    pairs = SyntheticPairs([picture], [], patch=64, ratio_range=(100.0, 300.0))
    clean, target, wb, _, noise = (torch.from_numpy(a) for a in pairs.clean_batch(seed=0, step=0, size=4))
    inputs = with_noise_plane(noisy_input(clean, noise, step_generator("cpu", 0)), noise)
    optimizer = torch.optim.Adam(grown.parameters(), lr=1e-5)

    def loss() -> torch.Tensor:
        return tone_l1(grown(inputs), target, wb)

    with torch.no_grad():
        before = loss().item()
    for _ in range(5):
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()
    with torch.no_grad():
        after = loss().item()
    assert after < before
    assert grown.down[0][0].weight[:, 4].abs().max().item() > 0


def test_numpy_noise_plane_matches_the_training_one():
    """Inference (numpy, seeisp.noise_level) and training (torch) give the network the same plane."""
    from seeisp.noise_level import NoiseLevel
    from seeisp.noise_level import noise_plane as numpy_noise_plane

    packed = np.random.default_rng(0).normal(0.2, 0.3, (4, 12, 17)).astype(np.float32)
    level = NoiseLevel(gain=2e-4, read_sigma=3e-4)
    expected = noise_plane(
        torch.from_numpy(packed)[None], torch.tensor([2e-4]), torch.tensor([3e-4]), torch.tensor([150.0])
    )
    np.testing.assert_allclose(numpy_noise_plane(packed, level, 150.0), expected[0].numpy(), rtol=1e-5)
