"""`seeisp enhance` end to end on generated DNGs: formats, sizes, orientation, -o, batches, skipping."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import png
import pytest
import rawpy
import tifffile

from seeisp import enhance as enhance_module
from seeisp.cli import enhance as enhance_cli
from seeisp.cli import main
from seeisp.enhance import enhance_file
from seeisp.ratio import estimate_ratio
from seeisp.raw import read_raw
from seeisp.session import ModelSession

from conftest import DARK_HEIGHT as HEIGHT
from conftest import DARK_WIDTH as WIDTH
from conftest import write_dark_dng

Enhance = Callable[..., tuple[int, str, str]]  # the `enhance` fixture: (exit code, stdout, stderr)


@pytest.fixture
def dark_dng(tmp_path: Path) -> Path:
    return write_dark_dng(tmp_path / "dark.dng")


@pytest.fixture
def enhance(capsys: pytest.CaptureFixture[str], model_file: Path) -> Enhance:
    """Run `seeisp enhance ARGS --model <copy>` in-process: (exit code, stdout, stderr)."""

    def run(*args: object) -> tuple[int, str, str]:
        code = main(["enhance", *map(str, args), "--model", str(model_file)])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def read_png(path: Path) -> tuple[np.ndarray, int]:
    width, height, rows, info = png.Reader(filename=str(path)).asDirect()
    return np.array([np.asarray(r) for r in rows]).reshape(height, width, 3), info["bitdepth"]


def libraw_size(path: Path) -> tuple[int, int]:
    with rawpy.imread(str(path)) as raw:
        return raw.postprocess().shape[:2]


@pytest.mark.parametrize(
    ("name", "extra", "dtype"),
    [
        ("out.png", [], np.uint8),
        ("out.png", ["--bits", "16"], np.uint16),
        ("out.tif", [], np.uint16),
        ("out.jpg", [], np.uint8),
    ],
)
def test_writes_each_format_at_libraw_size(
    enhance: Enhance,
    tmp_path: Path,
    dark_dng: Path,
    name: str,
    extra: list[str],
    dtype: type,
) -> None:
    out = tmp_path / name
    code, stdout, _ = enhance(dark_dng, "-o", out, *extra)
    assert code == 0
    if name.endswith(".png"):
        pixels, depth = read_png(out)
        assert depth == np.dtype(dtype).itemsize * 8
    elif name.endswith(".tif"):
        pixels = tifffile.imread(out)
    else:
        pixels = iio.imread(out)
    assert pixels.dtype == dtype or name.endswith(".png")
    assert pixels.shape == (*libraw_size(dark_dng), 3)
    assert pixels.std() > 0.02 * np.iinfo(dtype).max  # a picture, not a flat frame
    assert f"-> {out}" in stdout


@pytest.mark.parametrize(
    ("extra", "compression"), [([], tifffile.COMPRESSION.NONE), (["--compress"], tifffile.COMPRESSION.ADOBE_DEFLATE)]
)
def test_tiff_is_zlib_compressed_only_with_compress(
    enhance: Enhance, tmp_path: Path, dark_dng: Path, extra: list[str], compression: int
) -> None:
    out = tmp_path / "out.tif"
    assert enhance(dark_dng, "-o", out, "--ratio", "40", *extra)[0] == 0
    with tifffile.TiffFile(out) as tiff:
        assert tiff.pages[0].compression == compression
        assert tiff.asarray().shape == (*libraw_size(dark_dng), 3)


def test_written_pixels_are_the_library_result(
    enhance: Enhance, tmp_path: Path, dark_dng: Path, model_file: Path
) -> None:
    out = tmp_path / "out.png"
    assert enhance(dark_dng, "-o", out, "--bits", "16", "--ratio", "40")[0] == 0
    expected = enhance_file(dark_dng, ratio=40, model=ModelSession(model_file)).image
    pixels, _ = read_png(out)
    np.testing.assert_allclose(pixels / 65535.0, expected, atol=2e-3)


def test_rotated_raw_comes_out_turned_like_libraw(enhance: Enhance, tmp_path: Path) -> None:
    raw_path = write_dark_dng(tmp_path / "turned.dng", orientation=6)
    out = tmp_path / "turned.tif"
    assert enhance(raw_path, "-o", out)[0] == 0
    mine = tifffile.imread(out).astype(np.float64).mean(axis=2)
    with rawpy.imread(str(raw_path)) as raw:
        reference = raw.postprocess(output_bps=16).astype(np.float64).mean(axis=2)
    assert mine.shape == reference.shape == (WIDTH, HEIGHT)

    def blocks(a: np.ndarray) -> np.ndarray:
        return a.reshape(a.shape[0] // 32, 32, a.shape[1] // 32, 32).mean(axis=(1, 3)).ravel()

    assert np.corrcoef(blocks(mine), blocks(reference))[0, 1] > 0.9
    assert np.corrcoef(blocks(mine), blocks(reference[::-1, ::-1]))[0, 1] < 0  # the opposite turn would not fit


def test_default_output_sits_next_to_the_input(enhance: Enhance, tmp_path: Path) -> None:
    raw_path = write_dark_dng(tmp_path / "Night.DNG")
    code, _, _ = enhance(raw_path, "--format", "tiff")
    assert code == 0
    assert (tmp_path / "Night.tif").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Night.DNG", "Night.tif"]


@pytest.mark.parametrize("spelling", ["out/", "out"])
def test_o_folder_is_created(enhance: Enhance, tmp_path: Path, dark_dng: Path, spelling: str):
    code, _, _ = enhance(dark_dng, "-o", f"{tmp_path}/{spelling}")
    assert code == 0
    assert (tmp_path / "out" / "dark.png").is_file()


def test_o_existing_folder_with_one_input(enhance: Enhance, tmp_path: Path, dark_dng: Path):
    (tmp_path / "results.v2").mkdir()
    assert enhance(dark_dng, "-o", tmp_path / "results.v2", "--format", "jpeg")[0] == 0
    assert (tmp_path / "results.v2" / "dark.jpg").is_file()


def test_o_file_with_several_inputs_is_refused(enhance: Enhance, tmp_path: Path) -> None:
    a, b = write_dark_dng(tmp_path / "a.dng"), write_dark_dng(tmp_path / "b.dng", seed=1)
    code, _, err = enhance(a, b, "-o", tmp_path / "one.png")
    assert code != 0
    assert "give a folder" in err and err.count("\n") == 1
    assert not (tmp_path / "one.png").exists()


def test_files_folders_and_globs_in_one_call(enhance: Enhance, tmp_path: Path) -> None:
    shots, more, out = tmp_path / "shots", tmp_path / "more", tmp_path / "out"
    shots.mkdir()
    more.mkdir()
    for i, name in enumerate(["s1.dng", "s2.DNG"]):
        write_dark_dng(shots / name, seed=i)
    (shots / "notes.txt").write_text("not a raw, ignored in a folder")
    for i, name in enumerate(["m1.dng", "m2.dng", "m3.dng"]):
        write_dark_dng(more / name, seed=10 + i)
    single = write_dark_dng(tmp_path / "single.dng", seed=20)

    # the glob is passed quoted (unexpanded) and also overlaps the explicit m1.dng: each file is done once
    code, stdout, err = enhance(shots, more / "m1.dng", f"{more}/m*.dng", single, "-o", out)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["m1.png", "m2.png", "m3.png", "s1.png", "s2.png", "single.png"]
    assert stdout.strip().splitlines()[-1] == "6 written, 0 skipped, 0 failed"


def test_existing_outputs_are_skipped_unless_overwrite(enhance: Enhance, tmp_path: Path) -> None:
    old, new = write_dark_dng(tmp_path / "old.dng"), write_dark_dng(tmp_path / "new.dng", seed=1)
    (tmp_path / "old.png").write_bytes(b"the user's earlier result")

    code, stdout, _ = enhance(old, new)
    assert code == 0
    assert (tmp_path / "old.png").read_bytes() == b"the user's earlier result"
    assert "skipped" in stdout and "--overwrite" in stdout
    assert stdout.strip().splitlines()[-1] == "1 written, 1 skipped, 0 failed"

    code, stdout, _ = enhance(old, new, "--overwrite")
    assert code == 0
    assert read_png(tmp_path / "old.png")[0].shape == (HEIGHT, WIDTH, 3)
    assert stdout.strip().splitlines()[-1] == "2 written, 0 skipped, 0 failed"


def test_ratio_is_printed_given_or_auto(enhance: Enhance, tmp_path: Path, dark_dng: Path) -> None:
    _, stdout, _ = enhance(dark_dng, "--ratio", "50")
    assert re.search(r"dark\.dng -> .*dark\.png  ratio 50  \d+\.\d s$", stdout.strip())

    _, stdout, _ = enhance(dark_dng, "--overwrite")
    raw = read_raw(dark_dng)
    auto = estimate_ratio(raw.mosaic, raw.cfa, raw.white_balance)
    assert f"ratio {round(auto, 1):g} (auto)" in stdout
    assert 5 < auto < 300  # the scene is dark: the estimate really brightens it


def test_ev_shifts_the_ratio_in_stops_and_says_so(enhance: Enhance, dark_dng: Path) -> None:
    _, stdout, _ = enhance(dark_dng, "--ratio", "50", "--ev", "-1")
    assert "ratio 25, ev -1  " in stdout
    _, stdout, _ = enhance(dark_dng, "--ratio", "200", "--ev", "+2", "--overwrite")
    assert "ratio 300, ev +2  (ratio 800 after ev +2 clamped to 300, the models' range)" in stdout


def test_a_bad_ev_is_a_one_line_error(dark_dng: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["enhance", str(dark_dng), "--ev", "lots"])
    assert exit_info.value.code == 2
    assert "--ev: ev must be a number of stops" in capsys.readouterr().err


def test_o_pointing_at_the_input_never_touches_it(enhance: Enhance, dark_dng: Path) -> None:
    before = dark_dng.read_bytes()
    code, _, err = enhance(dark_dng, "-o", dark_dng, "--overwrite")
    assert code != 0
    assert "input file" in err and str(dark_dng) in err
    assert dark_dng.read_bytes() == before


def test_an_input_that_would_be_its_own_output_is_refused(enhance: Enhance, tmp_path: Path):
    image = tmp_path / "photo.png"
    image.write_bytes(b"an image the user named by mistake")
    code, _, err = enhance(image, "--overwrite")
    assert code != 0
    assert "refusing to overwrite" in err and "photo.png" in err
    assert "a PNG file, not a camera raw" in err
    assert image.read_bytes() == b"an image the user named by mistake"


def test_two_inputs_with_the_same_name_do_not_overwrite_each_other(enhance: Enhance, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = write_dark_dng(tmp_path / "a" / "img.dng"), write_dark_dng(tmp_path / "b" / "img.dng", seed=1)
    code, stdout, err = enhance(first, second, "-o", tmp_path / "out")
    assert code != 0
    assert "output too; use -o" in err
    assert stdout.strip().splitlines()[-1] == "1 written, 0 skipped, 1 failed"


def test_the_model_is_loaded_once_per_call(enhance: Enhance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded: list[Path] = []

    class CountingSession(ModelSession):
        def __init__(self, path, providers=None, threads=None):
            loaded.append(Path(path))
            super().__init__(path, providers, threads)

    monkeypatch.setattr(enhance_cli, "ModelSession", CountingSession)
    paths = [write_dark_dng(tmp_path / f"f{i}.dng", seed=i) for i in range(3)]
    code, _, _ = enhance(*paths, "--threads", "1", "--providers", "cpu")
    assert code == 0
    assert len(loaded) == 1


def test_small_tiles_give_the_same_picture(enhance: Enhance, tmp_path: Path, dark_dng: Path):
    assert enhance(dark_dng, "-o", tmp_path / "whole.tif", "--ratio", "30")[0] == 0
    # 128 packed pixels: two tiles across this 256x384 sensor
    assert enhance(dark_dng, "-o", tmp_path / "tiled.tif", "--ratio", "30", "--tile", "128")[0] == 0
    whole = tifffile.imread(tmp_path / "whole.tif") / 65535.0
    tiled = tifffile.imread(tmp_path / "tiled.tif") / 65535.0
    assert np.abs(whole - tiled).mean() < 0.01


def test_default_model_is_used_without_model_option(
    capsys: pytest.CaptureFixture[str], model_file: Path, dark_dng: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEEISP_WEIGHTS", str(model_file.parent))
    assert main(["enhance", str(dark_dng)]) == 0
    assert "dark.png" in capsys.readouterr().out
    assert dark_dng.with_suffix(".png").is_file()


def test_an_output_folder_it_cannot_write_in_fails_before_the_network(
    enhance: Enhance, dark_dng: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not Path("/sys/kernel").is_dir():
        pytest.skip("needs sysfs, where no one can create files")
    ran: list[object] = []
    monkeypatch.setattr(enhance_module, "denoise", lambda *args, **kwargs: ran.append(args))
    code, _, err = enhance(dark_dng, "-o", "/sys/kernel/")
    assert code != 0
    assert "/sys/kernel" in err and "cannot write" in err and len(err.strip().splitlines()) == 1
    assert ran == []  # refused while planning, not after the network's work
