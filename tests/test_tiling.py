"""Tiled inference must be seamless: it agrees with one whole-frame pass away from the frame border."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter


def _packed_scene(h: int, w: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    smooth = gaussian_filter(rng.random((4, h, w)), (0, 8, 8)) * 3 - 1.0
    return np.clip(smooth + rng.normal(0, 0.05, (4, h, w)), 0, 1).astype(np.float32)


def test_tiled_matches_untiled(lite_session):
    # A frame on the network's 16-pixel grid, so the whole-frame reference needs no padding of its own.
    packed = _packed_scene(304, 352)
    whole = lite_session.run(packed)
    calls = []
    tiled = lite_session.run_tiled(packed, tile=128, overlap=32, progress=lambda d, t: calls.append((d, t)))
    assert tiled.shape == whole.shape == (3, 608, 704)
    assert len(calls) > 4 and calls[-1][0] == calls[-1][1]
    assert np.abs(tiled - whole)[:, 16:-16, 16:-16].max() < 1e-3


def test_odd_sizes_pad_and_crop(lite_session):
    packed = _packed_scene(37, 51)
    assert lite_session.run(packed).shape == (3, 74, 102)


@pytest.mark.parametrize("size", [300, 513, 1424, 2128, 3024])
@pytest.mark.parametrize(("tile", "overlap"), [(128, 32), (512, 64), (1024, 64)])
def test_tiles_cover_the_frame_on_the_pooling_grid(size, tile, overlap):
    from seeisp.session import _tile_spans, _tile_weights

    spans = _tile_spans(size, tile, overlap, 16)
    assert spans[0][0] == 0 and spans[-1][1] == size
    assert len({end - start for start, end in spans}) == 1 and spans[0][1] - spans[0][0] <= tile
    assert all(previous_end - start >= 2 * overlap for (_, previous_end), (start, _) in itertools.pairwise(spans))
    assert all(start % 16 == 0 for start, _ in spans[:-1])  # the last tile ends at the frame's edge instead
    coverage = np.zeros(2 * size)
    for (start, end), weight in zip(spans, _tile_weights(spans, overlap // 2), strict=True):
        coverage[2 * start : 2 * end] += weight
    np.testing.assert_allclose(coverage, 1.0, atol=1e-6)  # the cross-fades sum to one: no seam, no normalising


def test_tile_must_exceed_twice_the_overlap(lite_session):
    with pytest.raises(ValueError, match="more than twice the overlap"):
        lite_session.run_tiled(_packed_scene(300, 340), tile=128, overlap=64)
