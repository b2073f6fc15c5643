"""Synthetic low-light training pairs made on the fly from clean sRGB pictures.

Each sample: a random crop of a clean picture (or, for a share of them, a procedural picture from
``seeisp.sim.patterns``), flipped/transposed (before mosaicking, so the
CFA stays RGGB), unprocessed with a random camera, darkened by a random ratio, given the
noise of a random calibrated or virtual sensor, packed and amplified. Samples are a pure
function of (seed, step, index), so a resumed run sees exactly the data it would have seen.

``clean_batch`` stops before the noise and hands over its parameters instead, for
``seeisp.training.device_noise`` to add the noise on the training device (``noise_on_device``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..pack import amplify, pack
from ..ratio import MAX_RATIO, MIN_RATIO
from ..render import bt709_decode
from ..sim.noise import VIRTUAL_SENSOR, LogLinear, NoiseParams, SensorProfile, normalise
from ..sim.patterns import draw_pattern
from ..sim.pictures import list_images, load_srgb, to_unit
from ..sim.synthesis import Camera, dark_raw_pair, linear_srgb_to_camera, mosaic_rggb, random_camera, sample_ratio


@functools.cache
def decode_table(dtype: np.dtype) -> np.ndarray:
    """Linear value of every code of an integer picture type: ``bt709_decode(to_unit(code))``.

    Looking codes up gives the same floats as decoding each pixel, at a fifth of the cost.
    """
    codes = np.arange(np.iinfo(dtype).max + 1, dtype=dtype)
    return bt709_decode(to_unit(codes))


def virtual_sensor(rng: np.random.Generator, base: SensorProfile) -> SensorProfile:
    """A sensor beyond the calibrated ones: wider gain range and perturbed noise levels."""
    jitter = lambda ll: LogLinear(ll.slope, ll.bias + rng.normal(0, 0.3), ll.sigma)  # noqa: E731
    return SensorProfile(
        name="virtual",
        k_min=base.k_min * 0.5,
        k_max=base.k_max * 2.0,
        tukey_scale=jitter(base.tukey_scale),
        tukey_shapes=(float(rng.uniform(-0.15, 0.15)),),
        gauss_scale=jitter(base.gauss_scale),
        row_scale=jitter(base.row_scale),
        color_bias=base.color_bias,
    )


def sample_noise(rng: np.random.Generator, profiles: Sequence[SensorProfile], virtual_share: float) -> NoiseParams:
    base = profiles[int(rng.integers(len(profiles)))] if profiles else VIRTUAL_SENSOR
    profile = virtual_sensor(rng, base) if rng.random() < virtual_share else base
    return profile.sample(rng, gaussian=rng.random() < 0.2)


# The noise of one sample as numbers, in this order (``SyntheticPairs.clean_sample``): read_lambda is
# 0 and gaussian 1 for Gaussian read noise; black_bias_* are the bias of the 2x2 sites R G1 G2 B;
# clip_black 1 where the camera clips at black.
NOISE_FIELDS = (
    "k",
    "read_scale",
    "read_lambda",
    "gaussian",
    "row_sigma",
    "black_bias_r",
    "black_bias_g1",
    "black_bias_g2",
    "black_bias_b",
    "black",
    "white",
    "ratio",
    "clip_black",
)


def noise_vector(noise: NoiseParams, ratio: float, clip_black: bool) -> np.ndarray:
    """``NoiseParams`` plus ratio and clip flag -> a float32 vector laid out as ``NOISE_FIELDS``."""
    gaussian = noise.read_lambda is None
    values = (
        noise.k,
        noise.read_scale,
        0.0 if gaussian else noise.read_lambda,
        gaussian,
        noise.row_sigma,
        *noise.black_bias,
        noise.black,
        noise.white,
        ratio,
        clip_black,
    )
    return np.array(values, np.float32)


def _colour(camera: Camera) -> tuple[np.ndarray, np.ndarray]:
    """What rendering needs of a camera: white balance (3,) and camera->sRGB matrix (3, 3), float32."""
    return camera.white_balance.astype(np.float32), camera.camera_to_srgb.astype(np.float32)


def _stack(samples: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    return tuple(np.stack(parts) for parts in zip(*samples, strict=True))


@dataclass
class SyntheticPairs:
    """Batches of (amplified packed raw, clean camera RGB, white balance, camera->sRGB matrix)."""

    images: list[np.ndarray]
    profiles: Sequence[SensorProfile]
    patch: int = 256  # raw pixels (the packed input is half this)
    virtual_share: float = 0.3
    black_clip_share: float = 0.2
    ratio_range: tuple[float, float] = (MIN_RATIO, MAX_RATIO)
    pattern_share: float = 0.0  # share of samples drawn by seeisp.sim.patterns instead of cut from a picture

    def _before_noise(
        self, rng: np.random.Generator, ratio: float | None
    ) -> tuple[np.ndarray, Camera, float, NoiseParams]:
        """The draws both kinds of sample share: (clean camera RGB (H, W, 3), camera, ratio, noise)."""
        p = self.patch
        if self.pattern_share and rng.random() < self.pattern_share:
            crop = draw_pattern(rng, p)
        else:
            srgb = self.images[int(rng.integers(len(self.images)))]
            h, w = srgb.shape[:2]
            y, x = int(rng.integers(0, h - p + 1)), int(rng.integers(0, w - p + 1))
            crop = srgb[y : y + p, x : x + p]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        if rng.random() < 0.5:
            crop = crop[::-1]
        if rng.random() < 0.5:
            crop = crop.transpose(1, 0, 2)
        camera = random_camera(rng, virtual=rng.random() < self.virtual_share)
        clean = linear_srgb_to_camera(decode_table(crop.dtype)[crop], camera)
        ratio = sample_ratio(rng, *self.ratio_range) if ratio is None else ratio
        noise = sample_noise(rng, self.profiles, self.virtual_share)
        return clean, camera, ratio, noise

    def sample(
        self, rng: np.random.Generator, ratio: float | None = None, with_noise: bool = False
    ) -> tuple[np.ndarray, ...]:
        """(amplified packed noisy raw (4, p/2, p/2), target (3, p, p), white balance (3,), camera->sRGB (3, 3)).

        The white balance and matrix are the camera's, for a loss on the picture as ``seeisp.render`` shows it.
        ``with_noise`` adds the noise vector of the sample (``NOISE_FIELDS``) without changing any draw.
        """
        clean, camera, ratio, noise = self._before_noise(rng, ratio)
        raw, target = dark_raw_pair(clean, ratio, noise, rng)
        mosaic = normalise(raw, noise)
        clip_black = rng.random() < self.black_clip_share
        if clip_black:  # cameras that clip at black before writing the raw
            mosaic = np.maximum(mosaic, 0.0)
        packed = amplify(pack(mosaic), ratio)
        drawn = (noise_vector(noise, ratio, clip_black),) if with_noise else ()
        return packed, target.transpose(2, 0, 1), *_colour(camera), *drawn

    def clean_sample(self, rng: np.random.Generator, ratio: float | None = None) -> tuple[np.ndarray, ...]:
        """``sample`` without the noise: (clean RGGB mosaic (p, p), target, white balance, matrix, noise vector).

        The noise vector (``NOISE_FIELDS``) holds what ``seeisp.training.device_noise.noisy_input``
        needs to turn the mosaic into the input ``sample`` would have made, in distribution.
        """
        clean, camera, ratio, noise = self._before_noise(rng, ratio)
        clip_black = bool(rng.random() < self.black_clip_share)
        return mosaic_rggb(clean), clean.transpose(2, 0, 1), *_colour(camera), noise_vector(noise, ratio, clip_black)

    def batch(self, seed: int, step: int, size: int, with_noise: bool = False) -> tuple[np.ndarray, ...]:
        rng = np.random.default_rng([seed, step])
        return _stack([self.sample(rng, with_noise=with_noise) for _ in range(size)])

    def clean_batch(self, seed: int, step: int, size: int) -> tuple[np.ndarray, ...]:
        """``size`` stacked ``clean_sample``s; a pure function of (seed, step), as ``batch`` is."""
        rng = np.random.default_rng([seed, step])
        return _stack([self.clean_sample(rng) for _ in range(size)])


def load_images(folders: Sequence[str | Path], min_side: int) -> list[np.ndarray]:
    images = [load_srgb(p) for p in list_images(folders)]
    return [im for im in images if min(im.shape[:2]) >= min_side]
