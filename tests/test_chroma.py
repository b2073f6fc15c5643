"""Colour noise smoothing of the network's camera RGB (seeisp.chroma)."""

from __future__ import annotations

import numpy as np
import pytest

from seeisp import chroma
from seeisp.chroma import smooth_chroma

GAINS = np.array([2.0, 1.0, 1.6], np.float32)  # camera RGB * GAINS is white-balanced


def encoded(camera_rgb: np.ndarray) -> np.ndarray:
    return np.sqrt(np.maximum(camera_rgb * GAINS, 0))


def colour(camera_rgb: np.ndarray) -> np.ndarray:
    """Each encoded channel minus their mean: what the smoothing averages."""
    e = encoded(camera_rgb)
    return e - e.mean(axis=2, keepdims=True)


def test_colour_speckle_on_a_flat_area_is_averaged_away_and_its_colour_kept() -> None:
    rng = np.random.default_rng(0)
    flat = np.float32([0.12, 0.30, 0.10]) / GAINS * 2  # an orange-ish grey-green patch
    speckled = flat * (1 + 0.15 * rng.standard_normal((96, 120, 3)).astype(np.float32))
    smoothed = smooth_chroma(speckled, GAINS)
    inner = (slice(8, -8), slice(8, -8))
    assert colour(smoothed)[inner].std(axis=(0, 1)).max() < colour(speckled)[inner].std(axis=(0, 1)).min() / 4
    np.testing.assert_allclose(smoothed[inner].mean(axis=(0, 1)), flat, rtol=0.03)


def test_brightness_and_its_edges_are_kept() -> None:
    rng = np.random.default_rng(1)
    picture = np.empty((64, 80, 3), np.float32)
    picture[:, :40] = np.float32([0.05, 0.2, 0.3]) / GAINS  # a dark blue half
    picture[:, 40:] = np.float32([0.6, 0.5, 0.1]) / GAINS  # a bright yellow one
    noisy = picture * (1 + 0.1 * rng.standard_normal(picture.shape).astype(np.float32))
    smoothed = smooth_chroma(noisy, GAINS)
    np.testing.assert_allclose(encoded(smoothed).mean(axis=2), encoded(noisy).mean(axis=2), atol=1e-5)
    for columns in (slice(30, 38), slice(42, 50)):  # two to ten pixels from the edge, on either side
        truth = colour(picture)[8:-8, columns]
        assert (
            np.abs(colour(smoothed)[8:-8, columns] - truth).mean()
            < np.abs(colour(noisy)[8:-8, columns] - truth).mean() / 2
        )


def test_a_frame_is_filtered_in_strips_as_it_would_be_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    picture = np.random.default_rng(2).random((150, 90, 3)).astype(np.float32)
    monkeypatch.setattr(chroma, "_STRIP_ROWS", 32)
    in_strips = smooth_chroma(picture, GAINS)
    monkeypatch.setattr(chroma, "_STRIP_ROWS", 1024)
    np.testing.assert_allclose(in_strips, smooth_chroma(picture, GAINS), atol=1e-6)


def test_below_black_becomes_black_and_odd_sizes_keep_their_shape() -> None:
    picture = np.full((31, 17, 3), -0.01, np.float32)
    picture[10:20, 5:12] = 0.2
    smoothed = smooth_chroma(picture, GAINS)
    assert smoothed.shape == picture.shape
    assert smoothed.min() >= 0.0
    np.testing.assert_allclose(smoothed[:5, :], 0.0, atol=1e-7)
