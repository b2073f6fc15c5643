"""Tiled inference must be seamless: it agrees with one whole-frame pass away from the frame border."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from seeisp import session as session_module
from seeisp.dng import write_dng
from seeisp.enhance import enhance_file
from seeisp.errors import InvalidOptionError
from seeisp.eval.demo import write_demo_raw
from seeisp.eval.metrics import psnr
from seeisp.pack import amplify, pack
from seeisp.raw import read_raw
from seeisp.render import render
from seeisp.session import _tile_spans, _tile_weights, tile_overlap
from seeisp.sim.noise import VIRTUAL_SENSOR, simulate_dark_raw
from seeisp.sim.synthesis import mosaic

from conftest import TEST_CAMERA, scene_camera_rgb


def _packed_scene(h: int, w: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    smooth = gaussian_filter(rng.random((4, h, w)), (0, 8, 8)) * 3 - 1.0
    return np.clip(smooth + rng.normal(0, 0.05, (4, h, w)), 0, 1).astype(np.float32)


def test_tiled_matches_untiled(lite_session, tmp_path):
    # A realistic input: the demo scene shot 100x too dark, packed and amplified, cut to a frame on
    # the network's 16-pixel grid so the whole-frame reference needs no padding of its own.
    raw = read_raw(write_demo_raw(tmp_path).raw_path)
    packed = amplify(pack(raw.mosaic), 100)[:, :304, :352]
    whole = lite_session.run(packed)
    calls = []
    tiled = lite_session.run_tiled(packed, tile=256, progress=lambda d, t: calls.append((d, t)))  # default overlap
    assert tiled.shape == whole.shape == (3, 608, 704)
    assert len(calls) == 6 and calls[-1][0] == calls[-1][1]
    # The network reads context beyond the overlap, so tiles are not bit-exact; with the default
    # overlap they agree to 2e-3 everywhere away from the frame border (measured max / mean: full 1.5e-4 /
    # 1e-6; lite 1.3e-4 before it was grown, 5.9e-4 / 7e-6 with two extra convs per level, 1.2e-3 / 2e-5
    # with three: every conv added widens what the network reads).
    border = 32  # output pixels
    assert np.abs(tiled - whole)[:, border:-border, border:-border].max() < 2e-3
    assert psnr(np.clip(tiled, 0, 1), np.clip(whole, 0, 1)) > 50


def test_odd_sizes_pad_and_crop(lite_session):
    packed = _packed_scene(37, 51)
    assert lite_session.run(packed).shape == (3, 74, 102)


@pytest.mark.parametrize("size", [300, 513, 1424, 2128, 3024])
@pytest.mark.parametrize(("tile", "overlap"), [(128, 32), (512, 64), (1024, 64)])
def test_tiles_cover_the_frame_on_the_pooling_grid(size, tile, overlap):
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
    with pytest.raises(InvalidOptionError, match="more than twice the overlap"):
        lite_session.run_tiled(_packed_scene(300, 340), tile=128, overlap=64)


@pytest.mark.parametrize(("tile", "overlap"), [(1024, 128), (512, 96), (256, 96), (128, 48), (2048, 256)])
def test_default_overlap_is_an_eighth_of_large_tiles_and_fits_small_ones(tile, overlap):
    assert tile_overlap(tile) == overlap
    assert tile > 2 * tile_overlap(tile)  # run_tiled accepts every default


@pytest.mark.parametrize(("width", "tile"), [(8, 1024), (16, 1024), (24, 512), (32, 512), (None, 512)])
def test_default_tile_follows_the_network_width(width, tile):
    from seeisp.models import default_tile

    assert default_tile(width) == tile


@pytest.mark.parametrize(
    ("metadata", "width"),
    [
        ({"seeisp.width": "32"}, 32),
        ({"seeisp.model_config": '{"width": 16, "depth": 5}'}, 16),
        ({"seeisp.width": "16", "seeisp.model_config": '{"width": 32}'}, 16),
        ({}, None),
        ({"seeisp.width": "wide"}, None),
        ({"seeisp.model_config": "not json"}, None),
    ],
)
def test_model_width_comes_from_the_metadata(metadata, width):
    from seeisp.session import _model_width

    assert _model_width(metadata) == width


def test_run_tiled_uses_the_model_default_tile(lite_session, monkeypatch):
    assert lite_session.width == 16 and lite_session.default_tile == 1024
    shapes = []

    def record(packed):
        shapes.append(packed.shape[1:])
        return np.zeros((3, 2 * packed.shape[1], 2 * packed.shape[2]), np.float32)

    monkeypatch.setattr(lite_session, "run", record)
    lite_session.run_tiled(np.zeros((4, 1500, 900), np.float32))
    assert len(shapes) == 2 and all(h <= 1024 and w == 900 for h, w in shapes)  # two tiles of at most 1024
    shapes.clear()
    lite_session.run_tiled(np.zeros((4, 1500, 900), np.float32), tile=512)
    assert len(shapes) == 15 and max(max(s) for s in shapes) <= 512  # 5 rows x 3 columns (overlap 96)


@pytest.mark.parametrize(("size", "tile", "overlap"), [(304, 256, 112), (352, 256, 112), (1000, 256, 64), (97, 64, 16)])
def test_tile_weights_sum_to_one(size: int, tile: int, overlap: int) -> None:
    """Also where three tiles cover one stretch and two seams lie closer than the cross-fade is wide."""
    spans = _tile_spans(size, tile, overlap, 16)
    total = np.zeros(2 * size, np.float64)
    for (start, end), weight in zip(spans, _tile_weights(spans, max(2, overlap // 2)), strict=True):
        total[2 * start : 2 * end] += weight
    np.testing.assert_allclose(total, 1.0, atol=1e-6)


def test_mirrored_context_mends_the_frames_outermost_pixels(tmp_path, lite_session, monkeypatch) -> None:
    """The networks pad with zeros: without context mirrored around the frame its outer band comes out worse."""
    clean = scene_camera_rgb(192, 256)
    noise = VIRTUAL_SENSOR.sample(np.random.default_rng(0), k=2.0)
    dark = simulate_dark_raw(mosaic(clean, "RGGB"), 50, noise, np.random.default_rng(0))
    path = write_dng(
        tmp_path / "dark.dng",
        dark,
        black_level=noise.black,
        white_level=noise.white,
        xyz_to_camera=TEST_CAMERA.xyz_to_camera,
        as_shot_neutral=TEST_CAMERA.as_shot_neutral,
    )
    reference = render(clean, read_raw(path))
    band = np.ones(reference.shape[:2], bool)
    band[16:-16, 16:-16] = False  # the outer 16 pixels

    def band_psnr() -> float:
        image = enhance_file(path, model=lite_session, ratio=50).image
        return psnr(image[band], reference[band])

    mirrored = band_psnr()
    monkeypatch.setattr(session_module, "CONTEXT_BORDER", 0)
    assert mirrored > band_psnr() + 1.0  # measured: 30.7 against 27.4 dB
