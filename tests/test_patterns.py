"""Procedural training pictures: deterministic, varied, and mixed into the training pairs as asked."""

from __future__ import annotations

import numpy as np

from seeisp.sim.patterns import _bars, draw_pattern
from seeisp.training.data import SyntheticPairs


def test_patterns_are_deterministic_8bit_pictures() -> None:
    a = draw_pattern(np.random.default_rng(7), 96)
    b = draw_pattern(np.random.default_rng(7), 96)
    assert a.shape == (96, 96, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, draw_pattern(np.random.default_rng(8), 96))


def test_patterns_have_edges_and_colour() -> None:
    pictures = [draw_pattern(np.random.default_rng(seed), 128).astype(np.int16) for seed in range(40)]
    # Sharp edges: neighbouring pixels that differ by more than a quarter of the range.
    assert all((np.abs(np.diff(p, axis=0)) > 64).any() or (np.abs(np.diff(p, axis=1)) > 64).any() for p in pictures)
    # Not all grey: some pictures hold saturated colour.
    assert any((p.max(axis=2) - p.min(axis=2) > 150).any() for p in pictures)


def test_bars_reach_one_pixel_width() -> None:
    """Somewhere among the bar pictures, a pixel differs strongly from both neighbours along a line."""
    found = False
    for seed in range(20):
        p = _bars(np.random.default_rng(seed), 64).astype(np.int16).mean(axis=2)
        both_h = (np.abs(p[:, 1:-1] - p[:, :-2]) > 100) & (np.abs(p[:, 1:-1] - p[:, 2:]) > 100)
        both_v = (np.abs(p[1:-1] - p[:-2]) > 100) & (np.abs(p[1:-1] - p[2:]) > 100)
        found |= bool(both_h.sum() > 50 or both_v.sum() > 50)
    assert found


def flat_picture() -> list[np.ndarray]:
    return [np.full((64, 64, 3), 128, np.uint8)]


def test_pattern_share_mixes_procedural_pictures_in() -> None:
    """With share 1 every target has structure, though the only photograph is flat; with share 0, none."""
    for share, structured in ((1.0, True), (0.0, False)):
        pairs = SyntheticPairs(flat_picture(), profiles=[], patch=32, pattern_share=share)
        targets = pairs.batch(seed=0, step=0, size=6)[1]
        spread = targets.reshape(6, 3, -1).std(axis=2).max(axis=1)
        assert bool((spread > 1e-3).all()) == structured, spread
