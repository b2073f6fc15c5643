"""Hot pixels are replaced before the network; noise, texture, stars and thin lines are left alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seeisp.dng import write_dng
from seeisp.enhance import enhance_file
from seeisp.hot_pixels import find_hot_pixels, read_noise, remove_hot_pixels
from seeisp.raw import read_raw

from conftest import DARK_BLACK, DARK_WHITE, write_dark_dng

SHAPE = (256, 384)


def noisy(level: float = 0.002, sigma: float = 4e-4, seed: int = 0) -> np.ndarray:
    """A flat normalised mosaic with Gaussian read noise."""
    return (level + np.random.default_rng(seed).normal(0.0, sigma, SHAPE)).astype(np.float32)


def plant(mosaic: np.ndarray, count: int, seed: int = 1) -> tuple[np.ndarray, set[tuple[int, int]]]:
    """Hot sites 20-2000 DN (of 14 bits) above the mosaic at random places, at least 3 pixels apart."""
    rng = np.random.default_rng(seed)
    planted: set[tuple[int, int]] = set()
    while len(planted) < count:
        y, x = int(rng.integers(SHAPE[0])), int(rng.integers(SHAPE[1]))
        if all(max(abs(y - py), abs(x - px)) > 3 for py, px in planted):
            planted.add((y, x))
    hot = mosaic.copy()
    for y, x in planted:
        hot[y, x] += np.exp(rng.uniform(np.log(20), np.log(2000))) / 16383
    return hot, planted


def test_read_noise_is_measured_in_flat_areas() -> None:
    assert read_noise(noisy(sigma=4e-4)) == pytest.approx(4e-4, rel=0.05)


def test_planted_hot_pixels_are_found_and_nothing_else() -> None:
    clean = noisy()
    hot, planted = plant(clean, 40)
    rows, cols, values = find_hot_pixels(hot)
    found = set(zip(rows.tolist(), cols.tolist(), strict=True))
    # A site must clear its brightest neighbour by 10 noise levels; the weakest planted ones hide in the noise.
    strong = {(y, x) for y, x in planted if hot[y, x] - clean[y, x] > 18 * 4e-4}
    assert len(strong) > 25
    assert strong <= found <= planted
    assert np.abs(values - 0.002).max() < 4 * 4e-4  # the median of the same-colour neighbours


def test_removal_changes_only_the_hot_sites() -> None:
    clean = noisy()
    hot, _ = plant(clean, 40)
    cleaned = remove_hot_pixels(hot)
    rows, cols, _ = find_hot_pixels(hot)
    changed = np.argwhere(cleaned != hot)
    assert sorted(map(tuple, changed.tolist())) == sorted(zip(rows.tolist(), cols.tolist(), strict=True))
    assert rows.size > 30
    assert np.abs(cleaned[rows, cols] - 0.002).max() < 4 * 4e-4


@pytest.mark.parametrize("shape", [(64, 96), (63, 95)])
def test_hot_pixels_at_the_frame_edges_are_found(shape: tuple[int, int]) -> None:
    frame = (0.002 + np.random.default_rng(0).normal(0.0, 4e-4, shape)).astype(np.float32)
    h, w = shape
    sites = {(0, 0), (1, 1), (0, w - 1), (h - 1, 0), (h - 1, w - 1), (h - 2, w - 6), (30, 1)}
    for y, x in sites:
        frame[y, x] = 0.2
    rows, cols, _ = find_hot_pixels(frame)
    assert set(zip(rows.tolist(), cols.tolist(), strict=True)) == sites - {(0, 0), (1, 1)}  # those two touch


def test_noise_alone_is_left_as_it_is() -> None:
    frame = noisy(sigma=2e-3)
    assert remove_hot_pixels(frame) is frame


def test_bright_texture_with_shot_noise_is_left_as_it_is() -> None:
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]]
    texture = 0.3 + 0.25 * np.sin(x / 3.0) * np.cos(y / 5.0)
    electrons = rng.poisson(texture * 2000) / 2000  # 2000 electrons at white: strong shot noise
    frame = (electrons + rng.normal(0, 4e-4, SHAPE)).astype(np.float32)
    assert find_hot_pixels(frame)[0].size == 0


def test_a_star_spread_by_the_lens_is_kept() -> None:
    frame = noisy()
    y, x = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]]
    for cy, cx in ((100, 100), (101, 201), (150.5, 300.5)):
        frame += (0.5 * np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * 0.8**2))).astype(np.float32)
    assert find_hot_pixels(frame)[0].size == 0


def test_one_pixel_lines_are_kept() -> None:
    frame = noisy()
    frame[:, 101] += 0.3  # a vertical line one site wide
    frame[60, :] += 0.3  # and a horizontal one
    assert find_hot_pixels(frame)[0].size == 0


def test_the_bright_end_of_a_thin_line_is_kept() -> None:
    """As on the real Nikon crop: a line one site wide, brightest at its end (a thorn's tip in the light)."""
    frame = noisy()
    frame[100:119, 151] += 0.1
    frame[118, 151] += 0.2
    assert find_hot_pixels(frame)[0].size == 0


def test_tiny_frames_are_left_as_they_are() -> None:
    frame = np.array([[0.0, 1.0], [0.0, 0.0]], np.float32)
    assert remove_hot_pixels(frame) is frame


def _with_hot_sites(dng: Path, out: Path, sites: list[tuple[int, int]]) -> Path:
    raw = read_raw(dng)
    dn = np.rint(raw.mosaic * (DARK_WHITE - DARK_BLACK) + DARK_BLACK)
    for y, x in sites:
        dn[y, x] = DARK_WHITE
    return write_dng(
        out,
        dn.astype(np.uint16),
        black_level=DARK_BLACK,
        white_level=DARK_WHITE,
        as_shot_neutral=(0.55, 1.0, 0.7),
    )


def test_enhance_does_not_turn_hot_pixels_into_blots(tmp_path: Path, lite_session) -> None:
    dark = write_dark_dng(tmp_path / "dark.dng", level=0.01)
    sites = [(100, 100), (150, 251), (201, 30)]
    hot = _with_hot_sites(dark, tmp_path / "hot.dng", sites)
    reference = enhance_file(dark, model=lite_session, ratio=50).camera_rgb
    removed = enhance_file(hot, model=lite_session, ratio=50).camera_rgb
    kept = enhance_file(hot, model=lite_session, ratio=50, hot_pixels=False).camera_rgb

    def worst_near_sites(image: np.ndarray) -> float:
        return max(float(np.abs(image - reference)[y - 3 : y + 4, x - 3 : x + 4].max()) for y, x in sites)

    assert worst_near_sites(kept) > 0.3  # a saturated blot where the site is kept
    assert worst_near_sites(removed) < 0.05


def test_a_real_raw_keeps_its_detail(nikon_crop: dict) -> None:
    """The real Nikon D750 crop (a rose): one isolated warm site at most, and not the tip of a thin line."""
    meta = nikon_crop["meta"]
    frame = nikon_crop["frames"]["RGGB"].astype(np.float32)
    normalised = (frame - meta["black_level"]) / (meta["white_level"] - meta["black_level"])
    rows, cols, _ = find_hot_pixels(normalised)
    assert rows.size <= 2
    assert (118, 459) not in set(zip(rows.tolist(), cols.tolist(), strict=True))
