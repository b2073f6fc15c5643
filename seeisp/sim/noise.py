"""Physics-based low-light raw noise (Wei et al. 2020, "ELD"): shot, read, row and quantisation noise.

A ``SensorProfile`` describes a camera over its ISO range (the calibrated JSON files of ELD,
or a "virtual" camera); ``SensorProfile.sample`` draws the noise parameters of one shot;
``simulate_dark_raw`` turns a clean, well-exposed mosaic into the raw DN a sensor would
record with ``ratio`` times less light.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SeeispError


@dataclass(frozen=True)
class LogLinear:
    """log(scale) = slope * log(K) + bias + N(0, sigma)."""

    slope: float
    bias: float
    sigma: float

    def sample(self, log_k: float, rng: np.random.Generator) -> float:
        return float(np.exp(self.slope * log_k + self.bias + rng.normal(0.0, self.sigma)))


@dataclass(frozen=True)
class SensorProfile:
    """Noise model of one camera, in DN of its raw scale (black ``black``, white ``white``)."""

    name: str
    k_min: float
    k_max: float
    tukey_scale: LogLinear
    tukey_shapes: tuple[float, ...]
    gauss_scale: LogLinear
    row_scale: LogLinear
    color_bias: tuple[tuple[float, float, float, float], ...] = ((0.0, 0.0, 0.0, 0.0),)
    black: int = 512
    white: int = 16383

    @classmethod
    def from_json(cls, path: str | os.PathLike[str], profile: str = "Profile-1") -> SensorProfile:
        """Load an ELD calibration file (see ../shared/README.md for the fields)."""
        path = Path(path)
        data = json.loads(path.read_text())
        prof = data[profile]
        return cls(
            name=path.stem,
            k_min=float(data["Kmin"]),
            k_max=float(data["Kmax"]),
            tukey_scale=LogLinear(**prof["G_scale"]),
            tukey_shapes=tuple(float(v) for v in data["G_shape"]),
            gauss_scale=LogLinear(**prof["g_scale"]),
            row_scale=LogLinear(**prof["R_scale"]),
            color_bias=tuple(tuple(float(v) for v in row) for row in data.get("color_bias", [[0, 0, 0, 0]])),
        )

    def sample(self, rng: np.random.Generator, k: float | None = None, gaussian: bool = False) -> NoiseParams:
        """Noise parameters of one shot: K log-uniform over the ISO range unless given."""
        if k is None:
            k = float(np.exp(rng.uniform(np.log(self.k_min), np.log(self.k_max))))
        log_k = float(np.log(k))
        shape_index = int(rng.integers(len(self.tukey_shapes)))
        if gaussian:
            read, lam = self.gauss_scale.sample(log_k, rng), None
        else:
            read, lam = self.tukey_scale.sample(log_k, rng), self.tukey_shapes[shape_index]
        r, g1, b, g2 = self.color_bias[min(shape_index, len(self.color_bias) - 1)]  # ELD packs R, G, B, G
        return NoiseParams(
            k=k,
            read_scale=read,
            read_lambda=lam,
            row_sigma=self.row_scale.sample(log_k, rng),
            black_bias=(float(r), float(g1), float(g2), float(b)),
            black=self.black,
            white=self.white,
        )


# A camera of our own, in the range of the calibrated full-frame sensors: used by `seeisp demo`
# and the tests, so that neither needs the calibration files in ../shared.
VIRTUAL_SENSOR = SensorProfile(
    name="virtual",
    k_min=0.1,
    k_max=6.0,
    tukey_scale=LogLinear(slope=0.5, bias=0.6, sigma=0.0),
    tukey_shapes=(0.0,),
    gauss_scale=LogLinear(slope=0.5, bias=1.2, sigma=0.0),
    row_scale=LogLinear(slope=0.5, bias=-0.6, sigma=0.0),
)


@dataclass(frozen=True)
class NoiseParams:
    """Noise of one shot. ``k`` is the system gain in DN per electron."""

    k: float
    read_scale: float
    read_lambda: float | None  # Tukey-lambda shape; None = Gaussian read noise
    row_sigma: float
    black_bias: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0)  # per 2x2 cell, R G G B (or per 6x6 X-Trans cell)
    black: int = 512
    white: int = 16383


def tukey_lambda(rng: np.random.Generator, lam: float, size: tuple[int, ...]) -> np.ndarray:
    """Standard Tukey-lambda samples: (p**lam - (1-p)**lam) / lam, the logistic when lam == 0."""
    p = rng.uniform(1e-6, 1 - 1e-6, size=size)
    if abs(lam) < 1e-6:
        return np.log(p / (1 - p))
    return (p**lam - (1 - p) ** lam) / lam


def read_noise_std(params: NoiseParams) -> float:
    """The standard deviation of a shot's read noise in DN: its scale times that of the standard Tukey-lambda
    distribution of its shape (pi / sqrt(3) for the logistic, shape 0), or the scale itself when Gaussian."""
    lam = params.read_lambda
    if lam is None:
        return params.read_scale
    if abs(lam) < 1e-3:
        return params.read_scale * math.pi / math.sqrt(3)
    beta = math.exp(2 * math.lgamma(lam + 1) - math.lgamma(2 * lam + 2))
    return params.read_scale * math.sqrt(2 / lam**2 * (1 / (1 + 2 * lam) - beta))


def simulate_dark_raw(
    clean_mosaic: np.ndarray, ratio: float, params: NoiseParams, rng: np.random.Generator
) -> np.ndarray:
    """A clean, well-exposed RGGB mosaic in [0, 1] -> the uint16 raw recorded with 1/ratio the light.

    Noise is shot (Poisson in electrons), read (Tukey-lambda or Gaussian), row (one offset per
    sensor row) and quantisation (the rounding to whole DN); the sensor's black level and
    per-channel bias are added before rounding and clipping to the white level.
    """
    span = params.white - params.black
    electrons = np.clip(clean_mosaic, 0, None) * (span / ratio / params.k)
    signal = rng.poisson(electrons).astype(np.float32) * np.float32(params.k)
    shape = clean_mosaic.shape
    if params.read_lambda is None:
        signal += rng.normal(0.0, params.read_scale, size=shape).astype(np.float32)
    else:
        signal += (params.read_scale * tukey_lambda(rng, params.read_lambda, shape)).astype(np.float32)
    signal += rng.normal(0.0, params.row_sigma, size=(shape[0], 1)).astype(np.float32)
    bias = np.asarray(params.black_bias, np.float32)
    side = math.isqrt(bias.size)  # a 2x2 Bayer cell, or 6x6 for X-Trans (``bias_in_cell_order``)
    bias = bias.reshape(side, side)
    signal += np.tile(bias, (shape[0] // side + 1, shape[1] // side + 1))[: shape[0], : shape[1]]
    return np.clip(np.round(signal + params.black), 0, params.white).astype(np.uint16)


def normalise(raw_dn: np.ndarray, params: NoiseParams) -> np.ndarray:
    """uint16 DN -> (DN - black) / (white - black), the scale ``seeisp.raw.read_raw`` produces."""
    return (raw_dn.astype(np.float32) - params.black) / np.float32(params.white - params.black)


def load_profiles(folder: str | os.PathLike[str]) -> dict[str, SensorProfile]:
    """All ELD profiles in a folder, by camera name (NikonD850's second ISO range as 'NikonD850-2')."""
    profiles: dict[str, SensorProfile] = {}
    for path in sorted(Path(folder).glob("*.json")):
        profiles[path.stem] = SensorProfile.from_json(path)
        if "Profile-2" in json.loads(path.read_text()):
            second = SensorProfile.from_json(path, "Profile-2")
            profiles[f"{path.stem}-2"] = dataclasses.replace(second, name=f"{path.stem}-2")
    return profiles


def resolve_profile(camera: str, profiles_dir: str | os.PathLike[str]) -> SensorProfile:
    """A calibrated sensor by name from ``profiles_dir``, or the built-in 'virtual' one."""
    if camera == VIRTUAL_SENSOR.name:
        return VIRTUAL_SENSOR
    if not Path(profiles_dir).is_dir():
        raise SeeispError(f"{profiles_dir}: no such folder of noise profiles (use --camera virtual without one)")
    profiles = load_profiles(profiles_dir)
    if camera not in profiles:
        known = ", ".join([*profiles, VIRTUAL_SENSOR.name])
        raise SeeispError(f"unknown camera {camera!r}; profiles in {profiles_dir}: {known}")
    return profiles[camera]
