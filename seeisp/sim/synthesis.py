"""Unprocess clean sRGB pictures into camera raws (Brooks et al. 2019) and make low-light pairs.

The pair is (dark raw, clean camera RGB): the raw is mosaicked, darkened by ``ratio`` and
given sensor noise; the target is the never-mosaicked linear camera RGB of the bright scene,
which is exactly what the network must output.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..dng import write_dng
from ..ratio import MAX_RATIO, MIN_RATIO
from ..raw import parse_cfa
from ..render import RGB_TO_XYZ, bt709_decode
from .noise import NoiseParams, simulate_dark_raw

# XYZ -> camera matrices of real cameras (DNG ColorMatrix, D65): the four of Brooks et al.
# (from the Darmstadt Noise Dataset cameras) and a Nikon D750.
XYZ_TO_CAMERA = np.array(
    [
        [[1.0234, -0.2969, -0.2266], [-0.5625, 1.6328, -0.0469], [-0.0703, 0.2188, 0.6406]],
        [[0.4913, -0.0541, -0.0202], [-0.6130, 1.3513, 0.2906], [-0.1564, 0.2151, 0.7183]],
        [[0.8380, -0.2630, -0.0639], [-0.2887, 1.0725, 0.2496], [-0.0627, 0.1427, 0.5438]],
        [[0.6596, -0.2079, -0.0562], [-0.4782, 1.3016, 0.1933], [-0.0970, 0.1581, 0.5181]],
        [[0.9020, -0.2890, -0.0715], [-0.4535, 1.2436, 0.2348], [-0.0934, 0.1919, 0.7086]],
    ]
)


@dataclass(frozen=True)
class Camera:
    """The colour of one simulated shot: its sensor's matrix and the as-shot white balance."""

    xyz_to_camera: np.ndarray  # what a DNG stores as ColorMatrix1
    white_balance: np.ndarray  # R, G, B gains with G = 1

    @property
    def srgb_to_camera(self) -> np.ndarray:
        """Linear sRGB -> camera RGB, rows normalised so white stays white (as LibRaw does)."""
        m = self.xyz_to_camera @ RGB_TO_XYZ
        return m / m.sum(axis=1, keepdims=True)

    @property
    def camera_to_srgb(self) -> np.ndarray:
        return np.linalg.inv(self.srgb_to_camera)

    @property
    def as_shot_neutral(self) -> np.ndarray:
        return 1.0 / self.white_balance


def random_camera(rng: np.random.Generator, virtual: bool = False) -> Camera:
    """A random convex mix of real colour matrices and a realistic white balance.

    ``virtual`` widens the white-balance range to cover sensors and light sources beyond the mix.
    """
    weights = rng.uniform(1e-3, 1.0, size=len(XYZ_TO_CAMERA))
    matrix = np.tensordot(weights / weights.sum(), XYZ_TO_CAMERA, axes=1)
    if virtual:
        red, blue = rng.uniform(1.3, 2.9), rng.uniform(1.2, 2.5)
    else:
        red, blue = rng.uniform(1.9, 2.4), rng.uniform(1.5, 1.9)
    return Camera(xyz_to_camera=matrix, white_balance=np.array([red, 1.0, blue]))


def unprocess(srgb: np.ndarray, camera: Camera) -> np.ndarray:
    """(H, W, 3) sRGB-encoded [0, 1] -> linear camera RGB in [0, 1] (the raw before mosaicking).

    Inverts ``seeisp.render``: transfer curve, colour matrix, white balance. Rendering the
    result with the same camera gives the picture back wherever nothing clipped.
    """
    return linear_srgb_to_camera(bt709_decode(srgb), camera)


def linear_srgb_to_camera(linear: np.ndarray, camera: Camera) -> np.ndarray:
    """``unprocess`` after the transfer curve: linear sRGB -> linear camera RGB, clipped to [0, 1]."""
    camera_rgb = linear.astype(np.float64) @ camera.srgb_to_camera.T / camera.white_balance
    return np.clip(camera_rgb, 0.0, 1.0).astype(np.float32)


def mosaic_rggb(camera_rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) with even H, W -> (H, W) RGGB Bayer mosaic."""
    return mosaic(camera_rgb, "RGGB")


def mosaic(camera_rgb: np.ndarray, cfa: str) -> np.ndarray:
    """(H, W, 3) -> (H, W) mosaic with the 2x2 pattern ``cfa`` (e.g. "GBRG") or a 6x6 X-Trans one (36 letters)."""
    out = np.empty(camera_rgb.shape[:2], dtype=camera_rgb.dtype)
    pattern = parse_cfa(cfa)
    n = pattern.size
    for i, j, channel in pattern.sites():
        out[i::n, j::n] = camera_rgb[i::n, j::n, channel]
    return out


def dark_raw_pair(
    camera_rgb: np.ndarray, ratio: float, noise: NoiseParams, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Clean camera RGB (H, W, 3) -> (uint16 dark RGGB raw in DN, the clean target)."""
    return simulate_dark_raw(mosaic_rggb(camera_rgb), ratio, noise, rng), camera_rgb


def bias_in_cell_order(noise: NoiseParams, cfa: str) -> NoiseParams:
    """Move the per-channel black bias (R, G1, G2, B) to the 2x2 cells of ``cfa``; for an X-Trans ``cfa`` (36
    letters) to its 6x6 cells, every green site getting the mean of the two greens' bias."""
    red, green1, green2, blue = noise.black_bias
    if len(cfa) == 36:
        by_colour = {"R": red, "G": (green1 + green2) / 2, "B": blue}
        return dataclasses.replace(noise, black_bias=tuple(by_colour[letter] for letter in cfa.upper()))
    by_channel = {"R": [red], "G": [green1, green2], "B": [blue]}
    cells = tuple(by_channel[letter].pop(0) for letter in cfa)
    return dataclasses.replace(noise, black_bias=cells)


def shot_tags(camera: Camera, noise: NoiseParams, cfa: str = "RGGB") -> dict[str, object]:
    """What a simulated raw's DNG says of itself (``write_dng``'s arguments): its colour filter, black and
    white levels, and the camera's colour matrix and as-shot white balance."""
    return dict(
        cfa=cfa,
        black_level=noise.black,
        white_level=noise.white,
        xyz_to_camera=camera.xyz_to_camera,
        as_shot_neutral=camera.as_shot_neutral,
    )


def write_dark_shot(
    path: str | os.PathLike[str],
    camera_rgb: np.ndarray,
    camera: Camera,
    ratio: float,
    noise: NoiseParams,
    rng: np.random.Generator,
    cfa: str = "RGGB",
    **tags: object,
) -> Path:
    """Simulate a shot of clean camera RGB (H, W, 3; even sizes) with ``ratio`` times too little light and the
    sensor noise ``noise``, mosaicked in ``cfa`` (4 letters for Bayer, 36 for X-Trans), and write it as a DNG
    that LibRaw reads like a camera's raw.

    The benchmark's, the demo's and ``benchmarks/perf.py``'s dark raws are all made here. ``tags`` go on to
    ``write_dng`` (exposure_time, iso, make, model).
    """
    noise = bias_in_cell_order(noise, cfa)
    dark = simulate_dark_raw(mosaic(camera_rgb, cfa), ratio, noise, rng)
    return write_dng(path, dark, **shot_tags(camera, noise, cfa), **tags)


def sample_ratio(rng: np.random.Generator, low: float = MIN_RATIO, high: float = MAX_RATIO) -> float:
    """Log-uniform over [low, high], with half the draws in [100, 300] where SID's ratios lie."""
    if rng.random() < 0.5:
        return float(np.exp(rng.uniform(np.log(max(low, 100.0)), np.log(high))))
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))
