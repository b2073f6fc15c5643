"""The SID real-pair loader on small DNG pairs laid out (and named .ARW) as the SID Sony set."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from seeisp.dng import write_dng
from seeisp.errors import SeeispError
from seeisp.pack import unpack
from seeisp.raw import CFA, read_raw
from seeisp.sim.noise import VIRTUAL_SENSOR, simulate_dark_raw
from seeisp.sim.synthesis import mosaic_rggb
from seeisp.training.sid import (
    MixedPairs,
    SIDPair,
    SIDPairs,
    exposure_from_name,
    long_target,
    pair_ratio,
    read_list,
    short_mosaic,
)

SHARED = Path(__file__).resolve().parents[2] / "shared"
BLACK, WHITE = 512, 16383
WHITE_BALANCE = np.array([2.0, 1.0, 1.6])
H, W = 96, 128


def scene(seed: int = 0) -> np.ndarray:
    """Linear camera RGB with ramps, a few patches, and channels far apart (a CFA phase error shows)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    rgb = np.stack([0.2 + 0.3 * xx / W, 0.5 + 0.2 * yy / H, 0.25 + 0.1 * (xx + yy) / (H + W)], axis=-1)
    for _ in range(4):
        y, x = rng.integers(0, H - 24), rng.integers(0, W - 24)
        rgb[y : y + 16, x : x + 16] = rng.uniform(0.2, 0.7, size=3)
    return rgb


def write_raw(path: Path, mosaic_dn: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_dng(path, mosaic_dn, black_level=BLACK, white_level=WHITE, as_shot_neutral=1 / WHITE_BALANCE, iso=200)


def clean_dn(rgb: np.ndarray, ratio: float = 1.0) -> np.ndarray:
    return np.round(mosaic_rggb(rgb) / ratio * (WHITE - BLACK) + BLACK).astype(np.uint16)


def noisy_dn(rgb: np.ndarray, ratio: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return simulate_dark_raw(mosaic_rggb(rgb), ratio, VIRTUAL_SENSOR.sample(rng, k=1.0, gaussian=True), rng)


@pytest.fixture
def sid_root(tmp_path: Path) -> Path:
    """Two scenes: scene 1 with a noise-free x100 and a noisy x250 short, scene 2 with a x303 short."""
    root = tmp_path / "SID"
    first, second = scene(0), scene(1)
    write_raw(root / "Sony/long/00001_00_10s.ARW", clean_dn(first))
    write_raw(root / "Sony/short/00001_00_0.1s.ARW", clean_dn(first, 100))
    write_raw(root / "Sony/short/00001_01_0.04s.ARW", noisy_dn(first, 250))
    write_raw(root / "Sony/long/00002_00_10s.ARW", clean_dn(second))
    write_raw(root / "Sony/short/00002_00_0.033s.ARW", clean_dn(second, 300))
    (root / "Sony_train_list.txt").write_text(
        "./Sony/short/00001_00_0.1s.ARW ./Sony/long/00001_00_10s.ARW ISO200 F8\n"
        "./Sony/short/00001_01_0.04s.ARW ./Sony/long/00001_00_10s.ARW ISO200 F8\n"
        "./Sony/short/00002_00_0.033s.ARW ./Sony/long/00002_00_10s.ARW ISO200 F9\n"
        "./Sony/short/00003_00_0.1s.ARW ./Sony/long/00003_00_10s.ARW ISO200 F8\n"  # not downloaded
    )
    return root


def test_exposure_from_name_and_ratio() -> None:
    assert exposure_from_name("./Sony/short/00001_00_0.04s.ARW") == 0.04
    assert exposure_from_name("00001_00_10s.ARW") == 10.0
    assert exposure_from_name("IMG_0001.ARW") is None
    assert pair_ratio(0.1, 10) == pytest.approx(100)
    assert pair_ratio(0.04, 10) == pytest.approx(250)
    assert pair_ratio(0.033, 10) == 300  # 303 capped as in SID


def test_dng_named_arw_is_read_by_content(sid_root: Path) -> None:
    raw = read_raw(sid_root / "Sony/long/00001_00_10s.ARW")
    assert raw.cfa is CFA.RGGB
    assert raw.mosaic.shape == (H, W)
    np.testing.assert_allclose(raw.white_balance, WHITE_BALANCE, rtol=1e-3)


def test_read_list_finds_pairs_and_ratios(sid_root: Path) -> None:
    pairs = read_list(sid_root / "Sony_train_list.txt", sid_root)
    assert [p.short.name for p in pairs] == ["00001_00_0.1s.ARW", "00001_01_0.04s.ARW", "00002_00_0.033s.ARW"]
    assert [p.ratio for p in pairs] == pytest.approx([100, 250, 300])
    assert all(p.iso == 200 for p in pairs)
    assert pairs[0].long == sid_root / "Sony/long/00001_00_10s.ARW"


def test_read_list_errors_name_the_problem(sid_root: Path, tmp_path: Path) -> None:
    with pytest.raises(SeeispError, match="no such SID list file"):
        read_list(tmp_path / "missing.txt", sid_root)
    with pytest.raises(SeeispError, match=r"none of its 4 pairs is under"):
        read_list(sid_root / "Sony_train_list.txt", tmp_path / "elsewhere")


def test_read_list_refuses_swapped_empty_and_binary_lists(sid_root: Path, tmp_path: Path) -> None:
    swapped = tmp_path / "swapped.txt"
    swapped.write_text("./Sony/long/00001_00_10s.ARW ./Sony/short/00001_00_0.1s.ARW ISO200 F8\n")
    with pytest.raises(SeeispError, match=r"swapped\.txt:1: the long exposure \(0\.1 s\) is not longer"):
        read_list(swapped, sid_root)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(SeeispError, match=r"empty\.txt: no pairs in it"):
        read_list(empty, sid_root)
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00junk")
    with pytest.raises(SeeispError, match=r"binary\.txt: not a text file of SID pairs"):
        read_list(binary, sid_root)


def test_a_cache_that_is_a_file_is_refused_and_a_failed_decode_leaves_nothing(sid_root: Path, tmp_path: Path) -> None:
    pairs = read_list(sid_root / "Sony_train_list.txt", sid_root)
    blocker = tmp_path / "cachefile"
    blocker.write_text("not a folder")
    with pytest.raises(SeeispError, match=r"sid_cache: .*cachefile is not a folder"):
        SIDPairs(pairs, patch=64, cache_dir=blocker)
    cache = tmp_path / "cache"
    broken = SIDPairs([SIDPair(blocker, pairs[0].long, 100.0)], patch=64, cache_dir=cache)  # the short is no raw
    with pytest.raises(SeeispError):
        broken.frames(broken.pairs[0])
    assert not [p for p in cache.rglob("*") if p.is_file()]


def test_ratio_falls_back_to_the_raws_exposure_time(tmp_path: Path) -> None:
    rgb = scene()
    for name, seconds in (("short/a.ARW", 0.05), ("long/b.ARW", 10.0)):
        path = tmp_path / "Sony" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_dng(path, clean_dn(rgb), black_level=BLACK, white_level=WHITE, exposure_time=seconds)
    (tmp_path / "list.txt").write_text("./Sony/short/a.ARW ./Sony/long/b.ARW\n")
    assert read_list(tmp_path / "list.txt", tmp_path)[0].ratio == pytest.approx(200, rel=1e-3)


def test_flat_grey_long_exposure_gives_a_flat_target_in_camera_rgb(tmp_path: Path) -> None:
    levels = np.array([0.3, 0.5, 0.4], np.float32)  # unequal: any white balance or colour matrix would show
    flat = np.broadcast_to(levels, (H, W, 3))
    write_raw(tmp_path / "Sony/long/00001_00_10s.ARW", clean_dn(flat))
    write_raw(tmp_path / "Sony/short/00001_00_0.1s.ARW", clean_dn(flat, 100))
    (tmp_path / "list.txt").write_text("./Sony/short/00001_00_0.1s.ARW ./Sony/long/00001_00_10s.ARW ISO200 F8\n")
    data = SIDPairs.from_list(tmp_path / "list.txt", tmp_path, patch=32)
    _, target, colour = data.frames(data.pairs[0])
    assert target.shape == (H, W, 3)
    np.testing.assert_allclose(target.reshape(-1, 3).mean(axis=0), levels, atol=1e-4)
    assert target.reshape(-1, 3).std(axis=0).max() < 1e-4
    np.testing.assert_allclose(colour[0], WHITE_BALANCE, rtol=1e-3)
    np.testing.assert_allclose(colour[1:], read_raw(tmp_path / "Sony/long/00001_00_10s.ARW").camera_to_srgb, rtol=1e-5)
    packed, patch_target, wb, matrix = data.sample(np.random.default_rng(0))
    np.testing.assert_array_equal(wb, colour[0])
    np.testing.assert_array_equal(matrix, colour[1:])
    # The short's DN are whole numbers: one DN amplified x100 is 0.0063.
    np.testing.assert_allclose(packed.reshape(4, -1).mean(axis=1), levels[[0, 1, 1, 2]], atol=0.004)
    np.testing.assert_allclose(patch_target.reshape(3, -1).mean(axis=1), levels, atol=1e-4)


def test_hot_pixels_are_mended_in_both_exposures(tmp_path: Path) -> None:
    """A defect lights one site in each raw; neither the input nor the target keeps it (seeisp.hot_pixels)."""
    flat = np.broadcast_to(np.array([0.3, 0.5, 0.4], np.float32), (H, W, 3))
    rng = np.random.default_rng(0)
    long_dn = (clean_dn(flat) + rng.normal(0, 3, (H, W))).astype(np.uint16)
    short_dn = noisy_dn(flat, 100)
    long_dn[40, 60] = short_dn[41, 61] = WHITE
    short = write_raw(tmp_path / "short.dng", short_dn)
    long = write_raw(tmp_path / "long.dng", long_dn)
    mosaic = short_mosaic(short)
    assert abs(mosaic[41, 61] - np.median(mosaic[37:46:2, 57:66:2])) < 0.01
    target, _ = long_target(long)
    assert np.abs(target[38:43, 58:63] - np.array([0.3, 0.5, 0.4])).max() < 0.01  # no dot around the site


def test_samples_keep_input_and_target_aligned_through_flips(sid_root: Path) -> None:
    """Noise-free x100 pair: the amplified input is the target's own mosaic, whatever crop or flip."""
    pairs = read_list(sid_root / "Sony_train_list.txt", sid_root)[:1]
    data = SIDPairs(pairs, patch=32)
    rng = np.random.default_rng(3)
    for _ in range(12):
        packed, target, wb, matrix = data.sample(rng)
        assert packed.shape == (4, 16, 16) and packed.dtype == np.float32
        assert target.shape == (3, 32, 32) and target.dtype == np.float32
        assert wb.shape == (3,) and matrix.shape == (3, 3)
        error = np.abs(unpack(packed) - mosaic_rggb(target.transpose(1, 2, 0)))
        assert error.mean() < 0.004, error.mean()  # a Bayer phase slip would be ~0.1 or more


def test_noisy_short_amplified_matches_the_target_on_average(sid_root: Path) -> None:
    pair = read_list(sid_root / "Sony_train_list.txt", sid_root)[1]
    assert pair.ratio == pytest.approx(250)
    data = SIDPairs([pair], patch=64)
    rng = np.random.default_rng(0)
    samples = [data.sample(rng) for _ in range(8)]
    inputs = np.mean([s[0].reshape(4, -1).mean(axis=1) for s in samples], axis=0)
    targets = np.mean([s[1].reshape(3, -1).mean(axis=1) for s in samples], axis=0)
    np.testing.assert_allclose(inputs, targets[[0, 1, 1, 2]], atol=0.01)
    assert np.std(samples[0][0]) > 0.03  # it is noisy: a pass is not because input and target coincide


def test_batches_are_deterministic(sid_root: Path) -> None:
    data = SIDPairs.from_list(sid_root / "Sony_train_list.txt", sid_root, patch=32)
    first, again = data.batch(7, 3, 2), data.batch(7, 3, 2)
    assert [a.shape for a in first] == [(2, 4, 16, 16), (2, 3, 32, 32), (2, 3), (2, 3, 3)]
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(data.batch(7, 4, 2)[0], first[0])


def test_cache_gives_the_same_patches_without_the_raws(sid_root: Path, tmp_path: Path) -> None:
    pairs = read_list(sid_root / "Sony_train_list.txt", sid_root)
    direct = SIDPairs(pairs, patch=32).batch(0, 0, 3)
    cache = tmp_path / "cache"
    SIDPairs(pairs, patch=32, cache_dir=cache).batch(0, 0, 3)
    shutil.move(sid_root / "Sony", tmp_path / "moved")  # from now on only the cache can answer
    cached = SIDPairs(pairs, patch=32, cache_dir=cache).batch(0, 0, 3)
    for a, b in zip(direct, cached, strict=True):
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-4)  # the short mosaics are cached as float16


def test_patch_larger_than_the_frame_is_an_error(sid_root: Path) -> None:
    data = SIDPairs.from_list(sid_root / "Sony_train_list.txt", sid_root, patch=2 * W)
    with pytest.raises(SeeispError, match="smaller than"):
        data.sample(np.random.default_rng(0))


def test_published_sid_list_format(tmp_path: Path) -> None:
    """The first lines of the real Sony list, with stand-in raws: paths and ratios as SID computes them."""
    list_file = SHARED / "data" / "sid_lists" / "Sony_train_list.txt"
    if not list_file.is_file():
        pytest.skip("../shared/data/sid_lists is not present")
    lines = list_file.read_text().splitlines()[:3]
    (tmp_path / "list.txt").write_text("\n".join(lines) + "\n")
    for line in lines:
        for name in line.split()[:2]:
            if not (tmp_path / name).exists():
                write_raw(tmp_path / name, clean_dn(scene()))
    pairs = read_list(tmp_path / "list.txt", tmp_path)
    assert len(pairs) == 3
    for line, pair in zip(lines, pairs, strict=True):
        short, long = line.split()[:2]
        sid_ratio = min(float(Path(long).name[9:-5]) / float(Path(short).name[9:-5]), 300)  # SID's own formula
        assert pair.ratio == pytest.approx(sid_ratio)


class ConstantSource:
    def __init__(self, value: float) -> None:
        self.value = value

    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        rng.random()  # a real source draws from the stream too
        return np.full((4, 2, 2), self.value), np.full((3, 4, 4), self.value), np.ones(3), np.eye(3)


@pytest.mark.parametrize("share", [0.0, 0.3, 1.0])
def test_mixed_pairs_draw_real_samples_at_their_share(share: float) -> None:
    mixed = MixedPairs(ConstantSource(0.0), ConstantSource(1.0), real_share=share)
    packed, target, wb, _ = mixed.batch(seed=0, step=5, size=400)
    assert packed.shape == (400, 4, 2, 2) and target.shape == (400, 3, 4, 4) and wb.shape == (400, 3)
    assert packed[:, 0, 0, 0].mean() == pytest.approx(share, abs=0.06)
    np.testing.assert_array_equal(packed, mixed.batch(seed=0, step=5, size=400)[0])
