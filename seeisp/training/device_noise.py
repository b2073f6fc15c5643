"""Sensor noise for synthetic training pairs, drawn in torch on the training device.

Why: ``SyntheticPairs.sample`` makes a whole sample in numpy, and most of its cost is drawing
the noise of every pixel (Poisson shot noise, Tukey-lambda read noise). On a GPU machine the
worker processes doing that could not keep the GPU busy. With ``TrainConfig.noise_on_device``
the workers make only the clean part of each sample (``SyntheticPairs.clean_batch``: crop, camera,
ratio, noise parameters) and ``noisy_input`` here does the rest, batched, on the device the network
trains on.

``noisy_input`` repeats, step by step, what the numpy path does from the clean mosaic onward:
``seeisp.sim.noise.simulate_dark_raw`` (shot noise in electrons with gain k, Tukey-lambda or
Gaussian read noise, one offset per sensor row, a bias per 2x2 site, rounding to whole DN with
the black level added, clipping to [0, white]), ``normalise``, the clip at black of a share of
the samples, ``seeisp.pack.pack`` and ``seeisp.pack.amplify``. The distributions are the same;
the numbers are not, as the random streams differ. Given a generator from ``step_generator``
the result is a pure function of its seeds, so a resumed run draws the same noise again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..pack import INPUT_RANGE
from .data import NOISE_FIELDS

# The numpy path draws Tukey-lambda read noise from uniform p in this open interval.
_P_MIN = 1e-6


@dataclass(frozen=True)
class NoiseBatch:
    """The noise parameters of B samples as tensors shaped (B, 1, 1), ready to broadcast over (B, H, W)."""

    k: torch.Tensor  # system gain, DN per electron
    read_scale: torch.Tensor
    read_lambda: torch.Tensor  # Tukey-lambda shape (unused where gaussian)
    gaussian: torch.Tensor  # bool: Gaussian read noise instead of Tukey-lambda
    row_sigma: torch.Tensor
    black_bias: torch.Tensor  # (B, 2, 2): the 2x2 cell R G1 / G2 B
    black: torch.Tensor
    white: torch.Tensor
    ratio: torch.Tensor
    clip_black: torch.Tensor  # bool: clip at black, as some cameras do before writing the raw

    @classmethod
    def from_vectors(cls, vectors: torch.Tensor) -> NoiseBatch:
        """(B, len(NOISE_FIELDS)) rows of ``seeisp.training.data.noise_vector`` -> a ``NoiseBatch``."""
        if vectors.ndim != 2 or vectors.shape[1] != len(NOISE_FIELDS):
            raise ValueError(f"noise vectors must be (B, {len(NOISE_FIELDS)}), not {tuple(vectors.shape)}")
        col = {name: vectors[:, i, None, None] for i, name in enumerate(NOISE_FIELDS)}
        bias = vectors[:, [NOISE_FIELDS.index(f"black_bias_{c}") for c in ("r", "g1", "g2", "b")]]
        return cls(
            k=col["k"],
            read_scale=col["read_scale"],
            read_lambda=col["read_lambda"],
            gaussian=col["gaussian"] > 0.5,
            row_sigma=col["row_sigma"],
            black_bias=bias.reshape(-1, 2, 2),
            black=col["black"],
            white=col["white"],
            ratio=col["ratio"],
            clip_black=col["clip_black"] > 0.5,
        )


def step_generator(device: torch.device | str, *keys: int) -> torch.Generator:
    """A generator on ``device`` seeded from integer keys, e.g. (seed, rank, step)."""
    seed = int(np.random.SeedSequence(list(keys)).generate_state(1, np.uint64)[0])
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    return generator


def tukey_lambda(p: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    """Tukey-lambda quantiles of p: (p**lam - (1-p)**lam) / lam, the logistic where lam is ~0.

    Written with expm1 and log1p so that float32 keeps its precision for small shapes.
    """
    small = lam.abs() < 1e-6
    safe = torch.where(small, torch.ones_like(lam), lam)
    log_p, log_q = torch.log(p), torch.log1p(-p)
    shaped = (torch.expm1(safe * log_p) - torch.expm1(safe * log_q)) / safe
    return torch.where(small, log_p - log_q, shaped)


def simulate_dark_raw(clean_mosaic: torch.Tensor, noise: NoiseBatch, generator: torch.Generator) -> torch.Tensor:
    """(B, H, W) clean RGGB mosaics in [0, 1] -> raws in whole DN (float32): ``seeisp.sim.noise.simulate_dark_raw``."""
    b, h, w = clean_mosaic.shape
    like = {"device": clean_mosaic.device, "dtype": torch.float32, "generator": generator}
    span = noise.white - noise.black
    electrons = clean_mosaic.float().clamp_min(0) * (span / noise.ratio / noise.k)
    signal = torch.poisson(electrons, generator=generator) * noise.k
    # Both read-noise kinds are drawn for every pixel and one is kept per sample: no branching
    # on the data (nor a device sync), at the cost of one extra draw that the GPU barely notices.
    p = torch.rand((b, h, w), **like).clamp_(_P_MIN, 1 - _P_MIN)
    gauss = torch.randn((b, h, w), **like)
    signal += torch.where(noise.gaussian, gauss, tukey_lambda(p, noise.read_lambda)) * noise.read_scale
    signal += torch.randn((b, h, 1), **like) * noise.row_sigma
    signal += noise.black_bias.repeat(1, h // 2 + 1, w // 2 + 1)[:, :h, :w]
    return torch.clamp(torch.round(signal + noise.black), torch.zeros_like(noise.white), noise.white)


def pack(mosaic: torch.Tensor) -> torch.Tensor:
    """(B, H, W) RGGB mosaics -> (B, 4, H/2, W/2) channels R, G1, G2, B, as ``seeisp.pack.pack``."""
    return torch.stack(
        [mosaic[:, 0::2, 0::2], mosaic[:, 0::2, 1::2], mosaic[:, 1::2, 0::2], mosaic[:, 1::2, 1::2]], dim=1
    )


def noisy_input(clean_mosaic: torch.Tensor, vectors: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Clean mosaics (B, H, W) and their noise vectors (B, len(NOISE_FIELDS)) -> the network input.

    The (B, 4, H/2, W/2) amplified packed dark raws that ``SyntheticPairs.sample`` would make from
    the same clean mosaics and noise parameters, in distribution.
    """
    noise = NoiseBatch.from_vectors(vectors.to(clean_mosaic.device, torch.float32))
    raw = simulate_dark_raw(clean_mosaic, noise, generator)
    mosaic = (raw - noise.black) / (noise.white - noise.black)  # seeisp.sim.noise.normalise
    mosaic = torch.where(noise.clip_black, mosaic.clamp_min(0), mosaic)
    ratio = noise.ratio[:, :, :, None]  # (B, 1, 1, 1) over the packed channels
    return torch.clamp(pack(mosaic) * ratio, *INPUT_RANGE)
