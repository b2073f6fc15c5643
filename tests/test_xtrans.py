"""Fujifilm X-Trans raws: read, resampled onto a Bayer grid for the Bayer networks, rendered at full resolution."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rawpy
from scipy.ndimage import uniform_filter

from seeisp.dng import write_dng
from seeisp.enhance import enhance_file
from seeisp.errors import DarkFrameError
from seeisp.eval.baseline import libraw_render
from seeisp.eval.metrics import psnr
from seeisp.hot_pixels import find_hot_pixels
from seeisp.raw import CFA, CFAKind, XTransCFA, read_raw
from seeisp.render import render
from seeisp.sim.noise import NoiseParams
from seeisp.sim.synthesis import bias_in_cell_order, mosaic
from seeisp.xtrans import REFERENCE, as_bayer, bayer_cfa, phase, resampling_table, shifted, to_bayer

from conftest import TEST_CAMERA, scene_camera_rgb, write_biased_dng

BLACK, WHITE = 512, 16383


def write_xtrans_dng(
    path: Path, camera_rgb: np.ndarray, cfa: XTransCFA = REFERENCE, *, ratio: float = 1.0, orientation: int = 1
) -> Path:
    """Mosaic clean camera RGB with the X-Trans cell ``cfa``, darken it by ``ratio`` (no noise), write a DNG."""
    dn = np.round(mosaic(camera_rgb, cfa.value) / ratio * (WHITE - BLACK) + BLACK)
    return write_dng(
        path,
        np.clip(dn, 0, WHITE).astype(np.uint16),
        cfa=cfa.value,
        black_level=BLACK,
        white_level=WHITE,
        xyz_to_camera=TEST_CAMERA.xyz_to_camera,
        as_shot_neutral=TEST_CAMERA.as_shot_neutral,
        orientation=orientation,
        make="FUJIFILM",
        model="X-T30 II",
    )


def test_the_reference_cell_is_a_real_bodys_layout() -> None:
    # exiftool's XTransLayout of a Fujifilm X-T30 II, which lists the cell backwards (darktable-org/rawspeed#339).
    exiftool = "GRBGBR BGGRGG RGGBGG GBRGRB RGGBGG BGGRGG".replace(" ", "")
    assert REFERENCE.value == exiftool[::-1]
    counts = {colour: REFERENCE.value.count(colour) for colour in "RGB"}
    assert counts == {"R": 8, "G": 20, "B": 8}
    rows = [REFERENCE.value[6 * y : 6 * y + 6] for y in range(6)]
    columns = ["".join(row[x] for row in rows) for x in range(6)]
    assert all(set(line) == set("RGB") for line in rows + columns)  # every row and column sees all three colours


def test_libraw_reads_a_6x6_dng_as_x_trans(tmp_path: Path) -> None:
    path = write_xtrans_dng(tmp_path / "x.dng", scene_camera_rgb(96, 120))
    raw = read_raw(path)
    assert raw.cfa == REFERENCE and raw.cfa.kind is CFAKind.XTRANS and CFA.RGGB.kind is CFAKind.BAYER
    assert raw.mosaic.shape == (96, 120)
    with rawpy.imread(str(path)) as libraw:
        assert libraw.raw_pattern.shape == (6, 6)


@pytest.mark.parametrize("rows, cols", [(rows, cols) for rows in range(6) for cols in range(6)])
def test_every_phase_is_found(rows: int, cols: int) -> None:
    found = phase(shifted(REFERENCE, rows, cols))
    # The cell is itself again 3 rows down and 3 columns across: either phase fits, the one with rows < 3 is taken.
    assert found in {(rows, cols), ((rows + 3) % 6, (cols + 3) % 6)} and found[0] < 3
    # The Bayer grid is RGGB at the reference cell's corner, wherever the frame starts.
    bayer = ("RGGB", "GRBG", "GBRG", "BGGR")[2 * (found[0] % 2) + found[1] % 2]
    assert bayer_cfa(shifted(REFERENCE, rows, cols)).value == bayer


def test_each_bayer_site_takes_the_nearest_sites_of_its_colour() -> None:
    for (y, x), offsets in resampling_table(REFERENCE).items():
        colour = "RGGB"[2 * (y % 2) + x % 2]
        sites = {REFERENCE.value[6 * ((y + dy) % 6) + (x + dx) % 6] for dy, dx in offsets}
        assert sites == {colour}
        assert ((0, 0) in offsets) == (REFERENCE.value[6 * y + x] == colour)  # a site of the right colour: itself


def test_a_crop_gives_the_same_bayer_values_at_the_same_scene_points() -> None:
    mosaic_ = np.random.default_rng(0).random((60, 66)).astype(np.float32)
    whole = to_bayer(mosaic_, REFERENCE)
    for rows in range(6):
        for cols in range(6):
            cell = shifted(REFERENCE, rows, cols)
            crop = to_bayer(mosaic_[rows:, cols:], cell)
            if phase(cell) == (rows, cols):
                assert np.array_equal(crop[3:-3, 3:-3], whole[rows + 3 : -3, cols + 3 : -3])
            else:  # the cell's own symmetry: the Bayer grid falls one site off in both directions (see phase)
                assert bayer_cfa(cell) != bayer_cfa(shifted(REFERENCE, rows % 2, cols % 2))


def test_red_and_blue_sites_keep_the_detail_green_shows() -> None:
    # Fine grey detail (as most picture detail is: in all three colours): red and blue Bayer sites that lie between
    # X-Trans sites of their colour come out much closer to the truth than those sites' plain mean.
    yy, xx = np.mgrid[0:72, 0:78].astype(np.float32)  # whole cells, so wrapping keeps every site's colour
    grey = 0.3 + 0.2 * np.sin(0.3 * xx + 0.7 * np.sin(0.2 * yy)) * np.cos(0.1 * yy)
    rgb = np.stack([0.8 * grey, grey, 0.6 * grey], axis=-1)
    for cell in (REFERENCE, shifted(REFERENCE, 1, 4)):
        truth = mosaic(rgb, bayer_cfa(cell).value)
        xtrans = mosaic(rgb, cell.value)
        padded = np.pad(xtrans, 2, mode="wrap")
        plain = np.empty_like(xtrans)
        for (y, x), offsets in resampling_table(cell).items():
            rows, cols = plain[y::6, x::6].shape
            plain[y::6, x::6] = np.mean(
                [padded[2 + y + oy :: 6, 2 + x + ox :: 6][:rows, :cols] for oy, ox in offsets], 0
            )
        red_or_blue = np.tile(np.array(list(bayer_cfa(cell).value)).reshape(2, 2), (36, 39)) != "G"
        red_or_blue[:6] = red_or_blue[-6:] = red_or_blue[:, :6] = red_or_blue[:, -6:] = False  # away from the edges
        ours, theirs = (
            np.sqrt(np.mean((bayer - truth)[red_or_blue] ** 2)) for bayer in (to_bayer(xtrans, cell), plain)
        )
        assert ours < 0.5 * theirs


def test_a_flat_colour_resamples_to_its_bayer_mosaic() -> None:
    rgb = np.broadcast_to(np.float32([0.2, 0.5, 0.3]), (36, 42, 3))
    for rows, cols in [(0, 0), (1, 4), (5, 3)]:
        cell = shifted(REFERENCE, rows, cols)
        bayer = to_bayer(mosaic(rgb, cell.value), cell)
        np.testing.assert_allclose(bayer, mosaic(rgb, bayer_cfa(cell).value), rtol=1e-6)


def test_all_36_phases_give_the_same_picture(tmp_path: Path, lite_session) -> None:
    """Cropping a raw shifts the X-Trans phase: every crop's picture must show the same scene at the same place in
    the same colours. The network itself answers a little differently to each Bayer phase and border (the four
    crops of a Bayer raw agree to about 30 dB here), so the pictures are compared to that precision, and after a
    9x9 box filter, which leaves the colour and place of everything and drops the network's pixel-level answer."""
    scene = scene_camera_rgb(134, 166, seed=3)
    noise = np.random.default_rng(0).normal(0, 2, scene.shape[:2])
    dn = np.clip(np.round(mosaic(scene, REFERENCE.value) / 50 * (WHITE - BLACK) + BLACK + noise), 0, WHITE)
    h, w = 128, 160
    pictures = {}
    for rows in range(6):
        for cols in range(6):
            crop = write_dng(
                tmp_path / f"crop-{rows}-{cols}.dng",
                dn[rows : rows + h, cols : cols + w].astype(np.uint16),
                cfa=shifted(REFERENCE, rows, cols).value,
                black_level=BLACK,
                white_level=WHITE,
                xyz_to_camera=TEST_CAMERA.xyz_to_camera,
                as_shot_neutral=TEST_CAMERA.as_shot_neutral,
            )
            pictures[rows, cols] = enhance_file(crop, ratio=50, model=lite_session).image
    inner = 8  # pixels kept clear of the frame's edges, where each crop's network sees a different border
    first = pictures[0, 0]
    for (rows, cols), picture in pictures.items():
        # The scene point at (y, x) of crop (rows, cols) is at (y + rows, x + cols) of crop (0, 0).
        here = picture[inner : h - 6 - inner, inner : w - 6 - inner]
        there = first[inner + rows : h - 6 - inner + rows, inner + cols : w - 6 - inner + cols]
        assert psnr(here, there) >= 27.0, (rows, cols)
        assert psnr(_box9(here), _box9(there)) >= 33.0, (rows, cols)


def _box9(image: np.ndarray) -> np.ndarray:
    return uniform_filter(image, size=(9, 9, 1))[8:-8, 8:-8]


def test_render_matches_libraws_colour_path(tmp_path: Path) -> None:
    # LibRaw demosaics X-Trans only on frames of about 512 pixels a side and more; smooth content, so its
    # demosaicking and the true camera RGB agree.
    y, x = np.mgrid[0:516, 0:528].astype(np.float32)
    rgb = np.stack([0.05 + 0.5 * x / 528, 0.1 + 0.4 * y / 516, 0.3 - 0.2 * x / 528], axis=-1)
    path = write_xtrans_dng(tmp_path / "gradient.dng", rgb, orientation=6)
    ours = render(rgb, read_raw(path))
    theirs = libraw_render(path)
    assert ours.shape == theirs.shape == (528, 516, 3)
    assert psnr(ours[16:-16, 16:-16], theirs[16:-16, 16:-16]) >= 40.0


def test_cli_writes_every_format_from_an_x_trans_raw(tmp_path: Path, model_file: Path) -> None:
    from seeisp.cli import main

    raw = write_xtrans_dng(tmp_path / "DSCF0001.dng", scene_camera_rgb(120, 150), ratio=50.0, orientation=6)
    outputs = [tmp_path / f"out.{suffix}" for suffix in ("png", "tif", "jpg", "dng")]
    for out in outputs:
        assert main(["enhance", str(raw), "--ratio", "50", "--model", str(model_file), "-o", str(out)]) == 0
    with rawpy.imread(str(outputs[-1])) as developed:  # the linear DNG: demosaicked camera RGB, as for Bayer raws
        assert developed.raw_pattern is None or developed.raw_type != rawpy.RawType.Flat
        picture = developed.postprocess(no_auto_bright=True, use_camera_wb=True)
    assert picture.shape == (150, 120, 3)  # turned as the raw says
    from PIL import Image

    for out in outputs[:-1]:
        with Image.open(out) as image:
            assert image.size == (120, 150)


def test_hot_sites_are_found_one_x_trans_cell_apart() -> None:
    rng = np.random.default_rng(1)
    flat = mosaic(np.broadcast_to(np.float32([0.02, 0.05, 0.03]), (48, 60, 3)), REFERENCE.value)
    noisy = flat + rng.normal(0, 4e-4, flat.shape).astype(np.float32)
    noisy[20, 27] += 0.2  # a hot site
    rows, cols, _ = find_hot_pixels(noisy, period=6)
    assert list(zip(rows.tolist(), cols.tolist(), strict=True)) == [(20, 27)]
    assert find_hot_pixels(flat + 0, period=6)[0].size == 0


def test_hot_pixels_are_removed_before_resampling(tmp_path: Path) -> None:
    rgb = np.broadcast_to(np.float32([0.2, 0.4, 0.3]), (60, 72, 3))
    path = write_xtrans_dng(tmp_path / "hot.dng", np.ascontiguousarray(rgb), ratio=20.0)
    raw = read_raw(path)
    hot = raw.mosaic.copy()
    hot[30, 31] = 0.9
    raw = type(raw)(**{**raw.__dict__, "mosaic": hot})
    assert as_bayer(raw).mosaic.max() < 0.1
    assert as_bayer(raw, hot_pixels=False).mosaic.max() > 0.5


def test_a_dark_frame_is_refused_for_x_trans_in_one_line(tmp_path: Path, lite_session) -> None:
    picture = write_xtrans_dng(tmp_path / "x.dng", scene_camera_rgb(96, 120), ratio=50.0)
    bayer_dark = write_biased_dng(tmp_path / "dark.dng", level=0.0)
    with pytest.raises(DarkFrameError, match=r"x\.dng: an X-Trans raw: dark frames work with Bayer raws only$"):
        enhance_file(picture, ratio=50, model=lite_session, dark_frame=bayer_dark)
    with pytest.raises(DarkFrameError, match="X-Trans"):
        enhance_file(picture, ratio=50, model=lite_session, dark_frame=picture)


def test_simulated_x_trans_shots_carry_each_colours_black_bias() -> None:
    noise = NoiseParams(k=1.0, read_scale=1.0, read_lambda=None, row_sigma=0.0, black_bias=(4.0, 1.0, 3.0, 6.0))
    cells = bias_in_cell_order(noise, REFERENCE.value).black_bias
    assert len(cells) == 36
    assert {REFERENCE.value[i]: cells[i] for i in range(36)} == {"R": 4.0, "G": 2.0, "B": 6.0}


def test_benchmark_cli_scores_x_trans_raws(tmp_path: Path, model_file: Path, capsys) -> None:
    import imageio.v3 as iio

    from seeisp.cli import main

    folder = tmp_path / "pictures"
    folder.mkdir()
    y, x = np.mgrid[0:516, 0:522]
    picture = np.stack([40 + 150 * x / 522, 60 + 120 * y / 516, 200 - 150 * x / 522 + 40 * (y > 258)], axis=-1)
    iio.imwrite(folder / "gradient.png", picture.astype(np.uint8))
    scores = tmp_path / "scores.json"
    args = ["benchmark", "--images", str(folder), "--camera", "virtual", "--ratios", "100", "--cfa", "xtrans"]
    assert main([*args, "--models", str(model_file), "--json", str(scores)]) == 0
    assert "X-Trans raws" in capsys.readouterr().out
    results = json.loads(scores.read_text())
    (case,) = results["cases"]
    assert results["cfa"] == "xtrans" and XTransCFA(case["cfa"]) == REFERENCE  # the first picture: phase (0, 0)
    model = next(name for name in case["methods"] if name.startswith("seeisp") and "auto" not in name)
    assert case["methods"][model]["psnr"] > case["methods"]["LibRaw, amplified"]["psnr"] + 3
