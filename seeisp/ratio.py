"""Choose the amplification ratio: given by the user, or estimated from the frame; and exposure compensation.

The estimate (``estimate_ratio``) is a small learned model, ``LearnedExposure``: linear models of log2(ratio)
on statistics of the normalised raw (``features_of``: the log mean and percentiles of its 16x16 block means,
how wide its range is between the lamps and the rest and between the rest and the darkest parts, the share of
sites clipped in the sensor, how close its brightest blocks are to white in the colours the raw renders with
its white balance, and how warm its light is), mixed by how likely the frame is a night scene; numpy only, its
coefficients in ``auto_exposure.json``. ``benchmarks/auto_ratio.py --fit`` fits it on simulated dark shots of
the training pictures, both as published and relit as night streets (lamps far brighter than white, warm
light, a dark sky, the mean level of long exposures of night scenes), the ratio each was darkened by being the
answer: so an underexposed ordinary scene is brought back to its published brightness, and a night scene stays
as dark as a night exposure. The fit minimises the PSNR an error would cost rather than the error in stops:
an error costs more where it blows highlights, so the model leans towards exposing for the highlights
(docs/PERFORMANCE.md).
``metered_estimate`` is the metering rule it replaced (the mean of block means capped at 3x their 75th
percentile, brought to ``TARGET_LEVEL``); the benchmark scores both. ``choose_exposure`` adds ``--ev`` and
clamps the ratio to the models' range.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InvalidOptionError, InvalidRatioError
from .raw import CFA, XTransCFA

TARGET_LEVEL = 0.19
MIN_RATIO, MAX_RATIO = 1.0, 300.0
BLOCK = 16  # pixels: a block mean averages 256 raw pixels, so noise barely moves it
CAP_PERCENTILE, CAP_FACTOR = 75.0, 3.0  # light sources must cover under a quarter of the frame
LEARNED_EXPOSURE_FILE = Path(__file__).with_name("auto_exposure.json")  # written by benchmarks/auto_ratio.py --fit
NEARLY_BLACK_MARGIN = 1.5  # an estimate this far beyond MAX_RATIO says the frame is nearly black


def parse_ratio(value: str | float | None, allow_auto: bool = True) -> float | None:
    """'auto' or None -> None (estimate it); otherwise a number from ``MIN_RATIO`` to ``MAX_RATIO``, the range
    the models were trained on. Every way in (CLI, web page, demo, benchmark, ``enhance_raw``) checks it here;
    where nothing can be estimated (the demo, the benchmark), ``allow_auto=False`` refuses 'auto' too."""
    auto = value is None or (isinstance(value, str) and value.strip().lower() == "auto")
    if auto and allow_auto:
        return None
    try:
        ratio = float("nan") if auto else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        ratio = float("nan")
    if not MIN_RATIO <= ratio <= MAX_RATIO:  # also rejects NaN
        alternative = " or 'auto'" if allow_auto else ""
        raise InvalidRatioError(
            f"ratio must be between {MIN_RATIO:g} and {MAX_RATIO:g} (the models' range){alternative}, got {value!r}"
        )
    return ratio


def exposure_level(mosaic: np.ndarray) -> float:
    """The mean of the mosaic's block means, each capped at ``CAP_FACTOR`` x their ``CAP_PERCENTILE``th percentile.

    Frames smaller than a block use single pixels as blocks.
    """
    blocks = block_means(mosaic)
    cap = CAP_FACTOR * max(float(np.percentile(blocks, CAP_PERCENTILE)), 0.0)
    return float(np.mean(np.minimum(blocks, cap)))


def block_means(mosaic: np.ndarray) -> np.ndarray:
    """The means of the mosaic's ``BLOCK`` x ``BLOCK`` blocks (single pixels for frames smaller than a block)."""
    h, w = mosaic.shape[:2]
    size = BLOCK if min(h, w) >= BLOCK else 1
    h, w = h - h % size, w - w % size
    return mosaic[:h, :w].reshape(h // size, size, w // size, size).mean(axis=(1, 3), dtype=np.float64).ravel()


def colour_block_means(
    mosaic: np.ndarray, cfa: CFA | XTransCFA = CFA.RGGB, white_balance: np.ndarray | None = None
) -> np.ndarray:
    """(3, blocks): the R, G and B means of each ``BLOCK`` x ``BLOCK`` block, each times its white-balance gain
    (smallest 1), so that 1 is where a colour renders white; without ``white_balance``, no gains. Frames smaller
    than a block use single colour cells as blocks."""
    h, w = mosaic.shape[:2]
    size = BLOCK if min(h, w) >= BLOCK else cfa.size
    h, w = h - h % size, w - w % size
    gains = np.ones(3) if white_balance is None else np.asarray(white_balance, np.float64)
    colour_of_site = np.zeros((cfa.size, cfa.size), np.int64)
    for row, column, colour in cfa.sites():
        colour_of_site[row, column] = colour
    colours = np.tile(colour_of_site, (-(-h // cfa.size), -(-w // cfa.size)))[:h, :w]
    shape = (h // size, size, w // size, size)
    levels = []
    for colour in range(3):
        sites = colours == colour
        total = np.where(sites, mosaic[:h, :w], 0).reshape(shape).sum(axis=(1, 3), dtype=np.float64)
        levels.append((total / sites.reshape(shape).sum(axis=(1, 3)) * gains[colour] / gains.min()).ravel())
    return np.array(levels)


FEATURE_PERCENTILES = (1, 5, 10, 25, 50, 75, 90, 95, 97, 99, 99.5, 99.9, 100)
FEATURE_REACH = 4.0  # standard deviations
BRIGHT_BLOCK = 8.0  # times the median block: a block this bright is a light source or lit by one
_LOG_FLOOR = 2.0**-24  # block means at or below black (noise) count as this level
CLIPPED_SITE = 0.95  # of the white level: a site this bright may be clipped in the sensor (a lamp, a lit window)


HIGHLIGHT_PERCENTILES = (90, 99, 99.9, 100)


def exposure_statistics(
    mosaic: np.ndarray, cfa: CFA | XTransCFA = CFA.RGGB, white_balance: np.ndarray | None = None
) -> tuple[np.ndarray, float, np.ndarray]:
    """(block means, share of sites clipped in the sensor, ``colour_block_means``): all the estimator reads."""
    clipped = float(np.mean(mosaic >= CLIPPED_SITE))
    return block_means(mosaic), clipped, colour_block_means(mosaic, cfa, white_balance)


def features_of(blocks: np.ndarray, clipped: float, colours: np.ndarray) -> np.ndarray:
    """The log2 mean and percentiles of a frame's block means; how wide the range is between its brightest
    blocks and its median (lamps, lit windows) and between its median and its darkest (a night sky), with
    their squares and product; the share of blocks far brighter than the median; the share ``clipped`` of
    its sites clipped in the sensor; the log2 percentiles of each block's brightest white-balanced colour
    (``colour_block_means``: how far its highlights are from white); and how warm its light is (the log2
    ratios of its white-balanced red and blue to its green)."""
    levels = np.log2(np.maximum([blocks.mean(), *np.percentile(blocks, FEATURE_PERCENTILES)], _LOG_FLOOR))
    median = levels[1 + FEATURE_PERCENTILES.index(50)]
    spread = levels[1 + FEATURE_PERCENTILES.index(99.9)] - median
    depth = median - levels[1 + FEATURE_PERCENTILES.index(5)]
    bright = float(np.mean(blocks > BRIGHT_BLOCK * 2.0**median))
    lamps = np.sqrt(clipped)
    highlights = np.log2(np.maximum(np.percentile(colours.max(axis=0), HIGHLIGHT_PERCENTILES), _LOG_FLOOR))
    red, green, blue = np.log2(np.maximum(colours.mean(axis=1), _LOG_FLOOR))
    return np.array(
        [
            *levels,
            spread,
            spread**2,
            depth,
            depth**2,
            lamps,
            lamps * spread,
            np.sqrt(bright),
            spread * depth,
            *highlights,
            red - green,
            blue - green,
        ]
    )


@dataclass(frozen=True)
class LearnedExposure:
    """log2(ratio) from standardised ``features_of``: a logistic model of whether the frame is a night
    scene mixes two linear ones, one fitted on ordinary scenes, one on night scenes
    (``benchmarks/auto_ratio.py --fit``)."""

    mean: np.ndarray
    scale: np.ndarray
    night: tuple[np.ndarray, float]  # logistic: the probability that the frame is a night scene
    ordinary_ratio: tuple[np.ndarray, float]  # linear: log2(ratio) of an ordinary scene
    night_ratio: tuple[np.ndarray, float]  # linear: log2(ratio) of a night scene

    @classmethod
    def load(cls, path: Path = LEARNED_EXPOSURE_FILE) -> LearnedExposure:
        data = json.loads(path.read_text())

        def model(name: str) -> tuple[np.ndarray, float]:
            return np.asarray(data[name]["weights"], np.float64), float(data[name]["bias"])

        return cls(
            np.asarray(data["mean"], np.float64),
            np.asarray(data["scale"], np.float64),
            model("night"),
            model("ordinary_ratio"),
            model("night_ratio"),
        )

    def standardise(self, features: np.ndarray) -> np.ndarray:
        """Each feature in standard deviations of the training shots', limited to ``FEATURE_REACH``, so that a
        frame unlike any of them cannot send the estimate far off."""
        return np.clip((features - self.mean) / self.scale, -FEATURE_REACH, FEATURE_REACH)

    def night_probability(self, features: np.ndarray) -> float:
        weights, bias = self.night
        return float(1 / (1 + np.exp(-(self.standardise(features) @ weights + bias))))

    def log2_ratio(self, features: np.ndarray) -> float:
        z = self.standardise(features)
        night = self.night_probability(features)
        (ordinary_weights, ordinary_bias), (night_weights, night_bias) = self.ordinary_ratio, self.night_ratio
        return float((1 - night) * (z @ ordinary_weights + ordinary_bias) + night * (z @ night_weights + night_bias))


@functools.cache
def learned_exposure() -> LearnedExposure:
    return LearnedExposure.load()


def unclamped_estimate(
    mosaic: np.ndarray, cfa: CFA | XTransCFA = CFA.RGGB, white_balance: np.ndarray | None = None
) -> float:
    """The ratio the learned model gives the normalised mosaic (its colours read with the raw's colour filter ``cfa``
    and white balance; none: no gains), beyond the models' range too (``math.inf`` for a frame at or below black)."""
    return learned_estimate(*exposure_statistics(mosaic, cfa, white_balance))


def learned_estimate(blocks: np.ndarray, clipped: float, colours: np.ndarray) -> float:
    """``unclamped_estimate`` from a frame's ``exposure_statistics``. Only a frame whose mean is at or below
    black is too dark to read (``math.inf``): a night frame's darker three quarters may well be."""
    if blocks.mean() <= 0:
        return math.inf
    return 2.0 ** learned_exposure().log2_ratio(features_of(blocks, clipped, colours))


def metered_estimate(mosaic: np.ndarray) -> float:
    """The ratio that brings the normalised mosaic's ``exposure_level`` to ``TARGET_LEVEL``, beyond the models'
    range too (``math.inf`` for a frame at or below black): the metering rule the learned model replaced."""
    level = exposure_level(mosaic)
    return TARGET_LEVEL / level if level > 0 else math.inf


def estimate_ratio(
    mosaic: np.ndarray, cfa: CFA | XTransCFA = CFA.RGGB, white_balance: np.ndarray | None = None
) -> float:
    """A deterministic ratio for the normalised mosaic (``unclamped_estimate``), clamped to the models' range.
    Give a raw's ``cfa`` and ``white_balance`` (``estimate_ratio(raw.mosaic, raw.cfa, raw.white_balance)``): its
    highlights are read in the colours it renders."""
    return float(np.clip(unclamped_estimate(mosaic, cfa, white_balance), MIN_RATIO, MAX_RATIO))


def parse_ev(value: str | float | None) -> float:
    """Exposure compensation in stops (``--ev +1``, ``ev=-0.5``): any finite number; 0 for None or ""."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0.0
    try:
        ev = float(value)
    except (TypeError, ValueError):
        ev = float("nan")
    if not math.isfinite(ev):
        raise InvalidOptionError(f"ev must be a number of stops such as 1 or -0.5, got {value!r}")
    return ev


@dataclass(frozen=True)
class Exposure:
    """The ratio a frame is enhanced at, and why it is not the one asked for, if it is not."""

    ratio: float
    auto: bool  # estimated from the frame (``estimate_ratio``) rather than given
    note: str = ""  # one line, when the ratio had to be clamped to the models' range


def choose_exposure(
    mosaic: np.ndarray,
    asked: float | None,
    ev: float = 0.0,
    cfa: CFA | XTransCFA = CFA.RGGB,
    white_balance: np.ndarray | None = None,
) -> Exposure:
    """The ratio for a normalised mosaic: ``asked`` (None: ``estimate_ratio`` with ``cfa`` and
    ``white_balance``), times 2 ** ``ev``, clamped to ``MIN_RATIO``..``MAX_RATIO`` with a note when that changed
    it: a frame too dark for any ratio in the range, or a compensation beyond it."""
    ev = parse_ev(ev)
    wanted = (unclamped_estimate(mosaic, cfa, white_balance) if asked is None else asked) * 2.0**ev
    ratio = float(np.clip(wanted, MIN_RATIO, MAX_RATIO))
    note = ""
    if asked is None and ev == 0 and wanted > MAX_RATIO * NEARLY_BLACK_MARGIN:
        note = f"the frame is nearly black: ratio clamped to {MAX_RATIO:g}"
    elif ev != 0 and not math.isclose(ratio, wanted, rel_tol=1e-9):
        note = f"ratio {wanted:.3g} after ev {ev:+g} clamped to {ratio:g}, the models' range"
    return Exposure(ratio=ratio, auto=asked is None, note=note)
