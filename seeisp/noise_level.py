"""How noisy a raw is, estimated blindly from the raw itself: the sensor's gain and read noise.

A raw pixel that records ``x`` (in any linear unit above black: DN, or the 0..1 scale of
``seeisp.raw.RawImage.mosaic``) has the noise variance of the Poisson-Gaussian model

    variance(x) = gain * x + read_sigma**2

where ``gain`` is the system gain in that unit per electron (shot noise) and ``read_sigma`` the read
noise. ``estimate_noise_level`` fits both to the raw alone, as the "noise level function" of Foi et al.
(2008, "Practical Poissonian-Gaussian noise modeling and fitting for single-image raw-data"): each colour
plane of the mosaic is cut into small blocks; a block's signal is its mean, its noise variance comes from a
high-pass residual that a smooth picture barely excites; a straight line is fitted to variance against
signal, and blocks far above the line (texture and edges, which add variance the noise does not explain) are
dropped and the line fitted again until none is left to drop.

``NoiseLevel.variance`` turns the estimate into the expected noise of a pixel; ``noise_plane`` lays it out as an
extra input plane of the network, the numpy twin of ``seeisp.training.noise_input.noise_plane``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The 3x3 residual of Immerkaer (1996): it is zero on any plane and on constant rows or columns (so row noise
# drops out), and on white noise of variance v its output has variance 36 v.
_RESIDUAL_GAIN = 36.0
# Neighbouring residuals share pixels, so the mean of n squared residuals scatters as that of n / 3.78
# independent ones: (sum of the kernel's autocorrelation squared) / 36**2 = (1 + 16 + 36 + 16 + 1)**2 / 1296.
_RESIDUAL_CORRELATION = 4900 / 1296
_BLOCK = 8  # plane pixels per block side: small enough to find flat blocks, large enough to average noise
# How far above the fitted line a block's variance may lie before it is taken for texture, in its own scatter:
# lower drops more texture, and more of the noise's upper tail with it (a bias low).
_CLIP_SIGMAS = 2.25
_ROUNDS = 10
SMOOTHING = 5  # packed pixels per side of the box that estimates each pixel's signal from the noisy input


@dataclass(frozen=True)
class NoiseLevel:
    """The noise of a raw: variance = gain * signal + read_sigma**2, in the unit of the mosaic it was fitted to."""

    gain: float  # mosaic units per electron
    read_sigma: float  # mosaic units
    blocks: int = 0  # how many flat blocks the fit kept

    def variance(self, signal: np.ndarray | float) -> np.ndarray:
        """The noise variance of pixels whose noise-free value is ``signal`` (below black: as at black). Pass a
        smoothed signal: the noisy raw itself would put its own noise into the estimate."""
        return self.gain * np.clip(signal, 0.0, None) + self.read_sigma**2


def colour_planes(mosaic: np.ndarray, period: int = 2) -> list[np.ndarray]:
    """The sub-images of one colour site each: four for a 2x2 Bayer cell, 36 for a 6x6 X-Trans one."""
    return [mosaic[y::period, x::period] for y in range(period) for x in range(period)]


def _residual(plane: np.ndarray) -> np.ndarray:
    """Immerkaer's high-pass [[1, -2, 1], [-2, 4, -2], [1, -2, 1]] over the valid part of a plane."""
    p = plane.astype(np.float64)
    rows = p[:-2] - 2 * p[1:-1] + p[2:]  # second difference down the columns
    return rows[:, :-2] - 2 * rows[:, 1:-1] + rows[:, 2:]


def _block_statistics(plane: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """(signal, noise variance) of every whole block of a colour plane."""
    residual = _residual(plane)
    signal = plane[1:-1, 1:-1].astype(np.float64)  # the pixels the residual is centred on
    h, w = (residual.shape[0] // block) * block, (residual.shape[1] // block) * block

    def blocks(a: np.ndarray) -> np.ndarray:
        return a[:h, :w].reshape(h // block, block, w // block, block).swapaxes(1, 2).reshape(-1, block * block)

    return blocks(signal).mean(axis=1), (blocks(residual) ** 2).mean(axis=1) / _RESIDUAL_GAIN


def _fit_line(signal: np.ndarray, variance: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """Weighted least squares variance = slope * signal + intercept."""
    design = np.stack([signal, np.ones_like(signal)], axis=1) * weights[:, None]
    (slope, intercept), *_ = np.linalg.lstsq(design, variance * weights, rcond=None)
    return float(slope), float(intercept)


def estimate_noise_level(
    mosaic: np.ndarray, period: int = 2, saturation: float | None = None, block: int = _BLOCK
) -> NoiseLevel:
    """The gain and read noise of a black-subtracted raw mosaic, from the raw alone.

    ``period`` is the CFA cell's side (2 for Bayer, 6 for X-Trans). Blocks with a pixel at or above
    ``saturation`` (the white level, in the mosaic's unit) are left out: clipping hides their noise.
    Raises ``ValueError`` when the raw holds too few flat blocks to fit a line to.
    """
    signals, variances = [], []
    for plane in colour_planes(np.asarray(mosaic), period):
        if min(plane.shape) < block + 2:
            continue
        signal, variance = _block_statistics(plane, block)
        if saturation is not None:
            peak = _block_peak(plane, block)
            signal, variance = signal[peak < saturation], variance[peak < saturation]
        signals.append(signal)
        variances.append(variance)
    signal = np.concatenate(signals) if signals else np.empty(0)
    variance = np.concatenate(variances) if variances else np.empty(0)
    if signal.size < 8:
        raise ValueError(f"too few blocks ({signal.size}) to estimate the noise level")

    keep = np.ones(signal.size, bool)
    # How far a block's measured variance scatters around the true one, relative to it (Gaussian noise).
    relative_spread = np.sqrt(2.0 * _RESIDUAL_CORRELATION / (block * block))
    slope, intercept = _fit_line(signal, variance, np.ones_like(signal))
    for _ in range(_ROUNDS):
        expected = np.maximum(slope * np.clip(signal, 0, None) + intercept, 1e-12)
        # A block's variance scatters in proportion to its expected value: weigh each by the inverse.
        new_keep = variance < expected * (1 + _CLIP_SIGMAS * relative_spread)
        if new_keep.sum() < 8:
            break
        slope, intercept = _fit_line(signal[new_keep], variance[new_keep], 1 / expected[new_keep])
        if np.array_equal(new_keep, keep):
            break
        keep = new_keep
    return NoiseLevel(gain=max(slope, 0.0), read_sigma=float(np.sqrt(max(intercept, 0.0))), blocks=int(keep.sum()))


def _block_peak(plane: np.ndarray, block: int) -> np.ndarray:
    """The largest value of every block, laid out as ``_block_statistics`` lays out its blocks."""
    inner = plane[1:-1, 1:-1]
    h, w = (inner.shape[0] // block) * block, (inner.shape[1] // block) * block
    return inner[:h, :w].reshape(h // block, block, w // block, block).max(axis=(1, 3)).ravel()


def blind_noise_level(mosaic: np.ndarray) -> NoiseLevel:
    """The noise level of an RGGB mosaic on the 0..1 raw scale (white at 1), from the mosaic alone; a noiseless
    level where it holds too few flat blocks to fit (a frame of a few dozen pixels)."""
    try:
        return estimate_noise_level(mosaic, period=2, saturation=1.0)
    except ValueError:
        return NoiseLevel(gain=0.0, read_sigma=0.0)


def box_mean(planes: np.ndarray, size: int) -> np.ndarray:
    """The mean of every (C, H, W) pixel's ``size`` x ``size`` neighbourhood, cut at the edges (no padding counted)."""
    pad = size // 2

    def window_sums(a: np.ndarray) -> np.ndarray:
        padded = np.pad(a, [(0, 0), (pad + 1, pad), (pad + 1, pad)])
        integral = padded.cumsum(axis=1).cumsum(axis=2)
        return (
            integral[:, size:, size:]
            - integral[:, :-size, size:]
            - integral[:, size:, :-size]
            + integral[:, :-size, :-size]
        )

    planes = planes.astype(np.float64)
    return window_sums(planes) / window_sums(np.ones_like(planes[:1]))


def noise_plane(packed: np.ndarray, level: NoiseLevel, ratio: float) -> np.ndarray:
    """(4, h, w) amplified packed input -> (1, h, w) float32: the expected noise of its pixels, in input units.

    ``level`` is on the normalised 0..1 raw scale (``estimate_noise_level`` of ``RawImage.mosaic``); each pixel's
    signal is its colour plane's mean over a small box of the noisy input, floored at zero.
    """
    signal = np.clip(box_mean(packed, SMOOTHING), 0, None) / ratio
    sigma = np.sqrt(level.variance(signal)) * ratio
    return sigma.mean(axis=0, keepdims=True).astype(np.float32)
