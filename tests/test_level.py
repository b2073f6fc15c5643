"""seeisp.level: the network's brightness over areas matched to the raw's, once a dark frame made the raw's right."""

from __future__ import annotations

import numpy as np
import pytest

from seeisp.level import match_input_level
from seeisp.raw import CFA
from seeisp.sim.synthesis import mosaic

RATIO = 100.0
LEVEL = np.array([0.05, 0.12, 0.08], np.float32)  # camera RGB of a dim grey wall, after amplification


def _shot(shape: tuple[int, int], cfa: CFA, seed: int = 0) -> np.ndarray:
    """The mosaic of a flat wall at ``LEVEL`` (before amplification), with noise as strong as the light."""
    rng = np.random.default_rng(seed)
    flat = np.broadcast_to(LEVEL, (*shape, 3))
    return ((mosaic(flat, cfa.value) + rng.normal(0, 0.1, shape)) / RATIO).astype(np.float32)


@pytest.mark.parametrize("cfa", list(CFA))
def test_each_colours_level_is_moved_to_the_raws_everywhere_in_the_frame(cfa: CFA) -> None:
    raw = _shot((256, 384), cfa)
    output = np.broadcast_to(LEVEL + np.array([-0.01, 0.006, 0.015], np.float32), (256, 384, 3)).copy()
    matched = match_input_level(output, raw, cfa, RATIO)
    assert np.abs(matched - LEVEL).max() < 0.004  # corners and edges too: the means are normalised there
    assert np.abs(output - LEVEL).min() > 0.005


def test_detail_is_kept_only_the_level_moves() -> None:
    raw = _shot((256, 256), CFA.RGGB)
    output = np.broadcast_to(LEVEL * 0.8, (256, 256, 3)).copy()
    output[:, 128:] += 0.02  # an edge the network drew
    matched = match_input_level(output, raw, CFA.RGGB, RATIO)
    step = matched[:, 130] - matched[:, 125]
    assert np.allclose(step, 0.02, atol=0.002)
    assert np.abs(matched.mean(axis=(0, 1)) - LEVEL).max() < 0.003


def test_a_hot_site_does_not_move_the_output() -> None:
    raw = _shot((128, 128), CFA.RGGB)
    output = np.broadcast_to(LEVEL, (128, 128, 3)).copy()
    hot = raw.copy()
    hot[64, 64] = 0.5  # 50 times white once amplified
    assert (
        np.abs(match_input_level(output, hot, CFA.RGGB, RATIO) - match_input_level(output, raw, CFA.RGGB, RATIO)).max()
        < 1e-3  # taken in, it would move it by about 0.01
    )


def test_bright_areas_whose_input_was_clipped_are_left_alone() -> None:
    clipped = np.full((128, 128), 1.0 / RATIO, np.float32)  # the raw at white once amplified
    output = np.full((128, 128, 3), 0.9, np.float32)
    assert np.array_equal(match_input_level(output, clipped, CFA.RGGB, RATIO), output)


def test_bright_areas_whose_noise_reaches_white_are_left_alone() -> None:
    # Right on average, but the sites whose noise went past white are left out, so the others' mean is too low
    # (about 0.67): only the output's level can tell that these sites are not to be trusted.
    rng = np.random.default_rng(0)
    raw = ((0.8 + rng.normal(0, 0.3, (128, 128))) / RATIO).astype(np.float32)
    output = np.full((128, 128, 3), 0.8, np.float32)
    assert np.array_equal(match_input_level(output, raw, CFA.RGGB, RATIO), output)


def test_odd_sized_frames_keep_their_size() -> None:
    raw = _shot((100, 130), CFA.GBRG)[:99, :129]
    output = np.broadcast_to(LEVEL, (99, 129, 3)).copy()
    matched = match_input_level(output, raw, CFA.GBRG, RATIO)
    assert matched.shape == (99, 129, 3) and matched.dtype == np.float32
    assert np.abs(matched - LEVEL).max() < 0.01


def test_a_few_trusted_sites_among_bright_ones_do_not_set_the_level_by_their_noise() -> None:
    # A lit wall at 0.8, too bright to trust, but for one dark 2x2 cell whose raw read 0.2 below its output (noise).
    raw = np.full((512, 512), 0.8 / RATIO, np.float32)
    output = np.full((512, 512, 3), 0.8, np.float32)
    raw[256:258, 256:258], output[256:258, 256:258] = -0.15 / RATIO, 0.05
    moved = match_input_level(output, raw, CFA.RGGB, RATIO) - output
    assert np.abs(moved).max() < 0.001  # without the floor, the whole wall went 0.2 darker


def test_a_frame_without_a_whole_cell_is_returned_as_it_is() -> None:
    for shape in [(1, 1), (1, 6), (5, 1)]:
        output = np.full((*shape, 3), 0.1, np.float32)
        matched = match_input_level(output, np.zeros(shape, np.float32), CFA.RGGB, RATIO)
        assert np.array_equal(matched, output) and matched is not output
