"""Tiled inference must be seamless: it agrees with one whole-frame pass away from the frame border."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter


def _packed_scene(h: int, w: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    smooth = gaussian_filter(rng.random((4, h, w)), (0, 8, 8)) * 3 - 1.0
    return np.clip(smooth + rng.normal(0, 0.05, (4, h, w)), 0, 1).astype(np.float32)


def test_tiled_matches_untiled(lite_session):
    packed = _packed_scene(300, 340)
    whole = lite_session.run(packed)
    calls = []
    tiled = lite_session.run_tiled(packed, tile=128, overlap=32, progress=lambda d, t: calls.append((d, t)))
    assert tiled.shape == whole.shape == (3, 600, 680)
    assert len(calls) > 4 and calls[-1][0] == calls[-1][1]
    assert np.abs(tiled - whole)[:, 16:-16, 16:-16].max() < 1e-3


def test_odd_sizes_pad_and_crop(lite_session):
    packed = _packed_scene(37, 51)
    assert lite_session.run(packed).shape == (3, 74, 102)
