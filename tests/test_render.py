"""The analytic render must reproduce LibRaw's (camera WB, sRGB, BT.709 curve, no auto-bright)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import uniform_filter

from seeisp.eval.baseline import libraw_render
from seeisp.eval.metrics import psnr
from seeisp.raw import read_raw
from seeisp.render import bt709_decode, bt709_encode, render

from conftest import scene_camera_rgb, write_scene_dng


def _box9(image: np.ndarray) -> np.ndarray:
    return uniform_filter(image, size=(9, 9, 1))[8:-8, 8:-8]


@pytest.mark.parametrize("cfa", ["RGGB", "BGGR", "GRBG", "GBRG"])
def test_render_of_true_linear_rgb_matches_libraw(tmp_path, cfa):
    rgb = scene_camera_rgb(192, 256, seed=1)
    path = write_scene_dng(tmp_path / "r.dng", rgb, cfa=cfa)
    ours = render(rgb, read_raw(path))
    theirs = libraw_render(path)
    assert ours.shape == theirs.shape
    assert psnr(_box9(ours), _box9(theirs)) >= 40.0


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_output_has_libraw_size_and_orientation(tmp_path, orientation):
    rgb = scene_camera_rgb(96, 160, seed=2)
    path = write_scene_dng(tmp_path / "o.dng", rgb, orientation=orientation)
    ours = render(rgb, read_raw(path))
    theirs = libraw_render(path)
    assert ours.shape == theirs.shape
    assert psnr(_box9(ours), _box9(theirs)) >= 40.0


def test_transfer_curve_round_trips_and_is_continuous():
    x = np.linspace(0, 1, 10001, dtype=np.float32)
    np.testing.assert_allclose(bt709_decode(bt709_encode(x)), x, atol=2e-5)
    assert np.max(np.abs(np.diff(bt709_encode(x)))) < 5e-3  # no jump where the toe meets the power curve
    assert bt709_encode(np.float32(1.0)) == pytest.approx(1.0, abs=1e-5)
