"""The expected noise of every input pixel as a fifth input plane, so the network knows how noisy its input is.

A network that sees only the amplified packed raw cannot tell, at a high gain and ratio, a few electrons of
signal from a clean shadow. ``noise_plane`` gives it the standard deviation of the noise each packed pixel
carries, in the input's own unit (normalised raw times ratio), from the shot-noise gain and the read noise:
known exactly in training (the noise vectors of ``seeisp.training.data``), estimated blindly from the raw at
inference (``seeisp.noise_level.estimate_noise_level``, which measures the same quantities: row noise and the
black-level bias are left out of both, the estimate does not see them). ``with_zero_inputs`` lets 4-plane
weights load into a 5-plane network, the new plane at zero weight: it computes exactly what the 4-plane weights
did until training teaches it to use the plane.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..noise_level import SMOOTHING
from .data import NOISE_FIELDS


def tukey_lambda_std(lam: torch.Tensor) -> torch.Tensor:
    """Standard deviation of the standard Tukey-lambda distribution (shape ``lam`` > -1/2); pi/sqrt(3) at 0."""
    lam = lam.double()
    small = lam.abs() < 1e-3
    safe = torch.where(small, torch.ones_like(lam), lam)
    log_beta = 2 * torch.lgamma(safe + 1) - torch.lgamma(2 * safe + 2)
    variance = 2 / safe**2 * (1 / (1 + 2 * safe) - torch.exp(log_beta))
    return torch.sqrt(torch.where(small, torch.full_like(lam, math.pi**2 / 3), variance)).float()


def level_from_vectors(vectors: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(B, len(NOISE_FIELDS)) noise vectors -> (gain, read sigma, ratio), each (B,), gain and read sigma on the
    normalised 0..1 raw scale as ``estimate_noise_level`` gives them for ``RawImage.mosaic``."""
    col = {name: vectors[:, i].float() for i, name in enumerate(NOISE_FIELDS)}
    span = col["white"] - col["black"]
    shape_std = torch.where(col["gaussian"] > 0.5, torch.ones_like(span), tukey_lambda_std(col["read_lambda"]))
    read_dn = torch.sqrt((col["read_scale"] * shape_std) ** 2 + 1 / 12)  # quantisation to whole DN adds 1/12 DN^2
    return col["k"] / span, read_dn / span, col["ratio"]


def noise_plane(
    packed: torch.Tensor, gain: torch.Tensor, read_sigma: torch.Tensor, ratio: torch.Tensor
) -> torch.Tensor:
    """(B, 4, h, w) amplified packed input -> (B, 1, h, w): the expected noise of its pixels, in input units.

    ``gain`` and ``read_sigma`` (B,) are on the normalised raw scale; each pixel's signal is the mean of its
    colour plane over a small box of the noisy input, floored at zero, averaged over the four planes.
    ``seeisp.noise_level.noise_plane`` is the numpy twin inference uses.
    """
    per_sample = [t.reshape(-1, 1, 1, 1).to(packed) for t in (gain, read_sigma, ratio)]
    gain, read_sigma, ratio = per_sample
    signal = F.avg_pool2d(packed, SMOOTHING, stride=1, padding=SMOOTHING // 2, count_include_pad=False)
    variance = gain * signal.clamp_min(0) / ratio + read_sigma**2
    return (torch.sqrt(variance) * ratio).mean(dim=1, keepdim=True)


def with_noise_plane(packed: torch.Tensor, vectors: torch.Tensor) -> torch.Tensor:
    """Training input with its noise plane: (B, 4, h, w) and the batch's noise vectors -> (B, 5, h, w)."""
    return torch.cat([packed, noise_plane(packed, *level_from_vectors(vectors))], dim=1)


def sample_with_noise_plane(packed: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """One (4, h, w) numpy input and its noise vector (``NOISE_FIELDS``) -> (5, h, w) with its noise plane."""
    return with_noise_plane(torch.from_numpy(packed)[None], torch.from_numpy(vector)[None])[0].numpy()


def with_zero_inputs(state: dict[str, torch.Tensor], in_channels: int) -> dict[str, torch.Tensor]:
    """``state`` with the first convolution taking ``in_channels`` input planes, those it lacked at zero weight."""
    first = state[FIRST_WEIGHT]
    missing = in_channels - first.shape[1]
    if missing <= 0:
        return state
    return {**state, FIRST_WEIGHT: torch.cat([first, first.new_zeros(first.shape[0], missing, *first.shape[2:])], 1)}


FIRST_WEIGHT = "down.0.0.weight"  # the convolution that reads the input planes
