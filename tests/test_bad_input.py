"""Every kind of bad input to `seeisp enhance`: one line naming the file and the problem, a non-zero exit,
no traceback, nothing written, and the input untouched.

Output is captured at the file-descriptor level (capfd), so lines LibRaw prints from C count too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from seeisp.cli import main
from seeisp.dng import write_dng

from conftest import write_linear_dng, write_monochrome_dng, write_onnx


def bayer(seed: int = 0, shape: tuple[int, int] = (128, 192)) -> np.ndarray:
    return np.random.default_rng(seed).integers(600, 3000, shape).astype(np.uint16)


def write_good_dng(path: Path) -> Path:
    return write_dng(path, bayer(), black_level=512, white_level=16383)


def write_truncated_dng(path: Path) -> Path:
    full = write_good_dng(path.with_name("whole.tmp"))
    data = full.read_bytes()
    full.unlink()
    path.write_bytes(data[: len(data) // 2])
    return path


def write_jpeg_as_raw(path: Path) -> Path:
    iio.imwrite(path, np.full((32, 48, 3), 128, np.uint8), extension=".jpg")
    return path


def write_text_as_raw(path: Path) -> Path:
    path.write_text("this is a shopping list, not a photograph\n")
    return path


def write_empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def run_failing(capfd: pytest.CaptureFixture[str], folder: Path, *args: object) -> str:
    """Run `seeisp enhance ARGS`, check it failed cleanly and changed nothing in ``folder``; return the one line."""
    before = snapshot(folder)
    code = main(["enhance", *map(str, args)])
    out, err = capfd.readouterr()
    assert code != 0
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("seeisp: error: ")
    assert snapshot(folder) == before  # inputs untouched, no output, no temporary files
    return lines[0]


@pytest.mark.parametrize(
    ("make", "name", "problem"),
    [
        (None, "missing.ARW", "no such file"),
        (write_empty, "empty.ARW", "file is empty"),
        (write_jpeg_as_raw, "holiday.ARW", "not a raw image"),
        (write_text_as_raw, "notes.ARW", "not a raw image"),
        (write_truncated_dng, "cut.dng", "truncated"),
        (lambda p: write_linear_dng(p, bayer(shape=(64, 96, 3))), "linear.dng", "linear DNG"),
        (lambda p: write_monochrome_dng(p, bayer()), "mono.dng", "monochrome"),
    ],
    ids=["missing", "empty", "jpeg-renamed", "text-renamed", "truncated", "linear-dng", "monochrome"],
)
def test_bad_raw_file(
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
    model_file: Path,
    make: Callable[[Path], Path] | None,
    name: str,
    problem: str,
) -> None:
    path = tmp_path / name
    if make is not None:
        make(path)
    line = run_failing(capfd, tmp_path, path, "--model", model_file)
    assert str(path) in line
    assert problem in line


def test_folder_without_raws(capfd: pytest.CaptureFixture[str], tmp_path: Path, model_file: Path) -> None:
    (tmp_path / "readme.txt").write_text("no raws here")
    line = run_failing(capfd, tmp_path, tmp_path, "--model", model_file)
    assert str(tmp_path) in line and "no raw files" in line


def test_glob_matching_nothing(capfd: pytest.CaptureFixture[str], tmp_path: Path, model_file: Path) -> None:
    line = run_failing(capfd, tmp_path, tmp_path / "*.NEF", "--model", model_file)
    assert "*.NEF" in line and "no raw files match" in line


@pytest.mark.parametrize("ratio", ["0", "-5", "0.5", "5000", "abc", "nan", "inf", ""])
def test_bad_ratio(capfd: pytest.CaptureFixture[str], tmp_path: Path, model_file: Path, ratio: str) -> None:
    raw = write_good_dng(tmp_path / "dark.dng")
    line = run_failing(capfd, tmp_path, raw, f"--ratio={ratio}", "--model", model_file)
    assert "ratio must be between 1 and 300" in line


@pytest.mark.parametrize("output", ["blocker/out/", "blocker/out.png", "blocker/"])
def test_unwritable_output_folder(capfd: pytest.CaptureFixture[str], tmp_path: Path, model_file: Path, output: str):
    # A folder below a regular file cannot be created, even by root (chmod would not stop root).
    raw = write_good_dng(tmp_path / "dark.dng")
    (tmp_path / "blocker").write_text("a regular file")
    line = run_failing(capfd, tmp_path, raw, "-o", tmp_path / output, "--model", model_file)
    assert "blocker" in line


def test_unwritable_output_next_to_the_input(capfd: pytest.CaptureFixture[str], tmp_path: Path, model_file: Path):
    raw = write_good_dng(tmp_path / "dark.dng")
    (tmp_path / "dark.png").mkdir()  # the output name is taken by a folder
    line = run_failing(capfd, tmp_path, raw, "--overwrite", "--model", model_file)
    assert "dark.png" in line and "is a folder" in line


def test_a_registered_model_that_is_not_installed_names_those_that_are(
    capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from seeisp.models import available_models

    installed = available_models()
    if "full-fp16" in installed:
        pytest.skip("full-fp16 is installed here")
    line = run_failing(capfd, tmp_path, write_good_dng(tmp_path / "dark.dng"), "--model", "full-fp16")
    assert "(seeisp-full-fp16.onnx not found in weights/)" in line
    assert line.endswith(f"; installed: {', '.join(installed) or 'none'}")


@pytest.mark.parametrize(
    ("model", "problem"),
    [("huge", "unknown model 'huge'"), ("nowhere/model.onnx", "no such model file"), ("broken", "not a loadable")],
)
def test_bad_model(capfd: pytest.CaptureFixture[str], tmp_path: Path, model: str, problem: str) -> None:
    raw = write_good_dng(tmp_path / "dark.dng")
    if model == "broken":
        model = str(tmp_path / "broken.onnx")
        Path(model).write_text("not a protobuf")
    line = run_failing(capfd, tmp_path, raw, "--model", model)
    assert problem in line


@pytest.mark.parametrize(
    ("kind", "problem"),
    [
        ("flat", "not a seeisp network: it takes (1, 3) and gives (1, 3)"),
        ("raw out", "gives (batch, 4, height, width)"),
        ("half size", "not a seeisp network"),
    ],
)
def test_an_onnx_file_that_is_not_a_seeisp_network(
    capfd: pytest.CaptureFixture[str], tmp_path: Path, kind: str, problem: str
) -> None:
    raw = write_good_dng(tmp_path / "dark.dng")
    model = write_onnx(tmp_path / "other.onnx", kind)
    line = run_failing(capfd, tmp_path, raw, "--model", model)
    assert str(model) in line and problem in line


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--format", "jpeg", "--bits", "16"], "8 bits"),
        (["-o", "out.bmp"], "unknown image format"),
        (["-o", "out.png", "--format", "tiff"], "--format says tiff"),
    ],
)
def test_bad_output_options(capfd: pytest.CaptureFixture[str], tmp_path: Path, model_file: Path, args, problem):
    raw = write_good_dng(tmp_path / "dark.dng")
    args = [str(tmp_path / a) if a.startswith("out.") else a for a in args]
    line = run_failing(capfd, tmp_path, raw, *args, "--model", model_file)
    assert problem in line


def test_a_bad_file_does_not_stop_the_batch(capfd: pytest.CaptureFixture[str], tmp_path: Path, model_file: Path):
    good_a, good_b = write_good_dng(tmp_path / "a.dng"), write_good_dng(tmp_path / "c.dng")
    bad = write_truncated_dng(tmp_path / "b.dng")
    text = write_text_as_raw(tmp_path / "d.ARW")
    code = main(["enhance", str(tmp_path), "--model", str(model_file)])
    out, err = capfd.readouterr()
    assert code == 1
    assert (tmp_path / "a.png").is_file() and (tmp_path / "c.png").is_file()
    assert not (tmp_path / "b.png").exists() and not (tmp_path / "d.png").exists()
    assert sorted(err.strip().splitlines()) == [
        f"seeisp: error: {bad}: cannot be read (truncated or damaged raw file: 24304 of its 49152 bytes of image data)",
        f"seeisp: error: {text}: not a raw image LibRaw can read",
    ]
    assert f"{good_a} -> " in out and f"{good_b} -> " in out
    assert out.strip().splitlines()[-1] == "2 written, 0 skipped, 2 failed"


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--threads", "99999"], "argument --threads: at most"),
        (["--ensemble", "--passes", "2"], "argument --passes: not allowed with argument --ensemble"),
        (["--dark", ""], "argument --dark-frame/--dark: an empty path"),
        (["--passes", "3"], "argument --passes: invalid choice: 3 (choose from 1, 2, 4, 8)"),
        (["--providers", ","], "argument --providers: no provider named"),
    ],
)
def test_options_that_cannot_mean_anything_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], problem: str
) -> None:
    raw = write_good_dng(tmp_path / "dark.dng")
    with pytest.raises(SystemExit) as exit_info:
        main(["enhance", str(raw), *args])
    assert exit_info.value.code == 2
    assert problem in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dark.dng"]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    import seeisp

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"seeisp {seeisp.__version__}\n"


def test_the_library_takes_auto_for_the_ratio(tmp_path: Path, model_file: Path) -> None:
    from seeisp.enhance import enhance_file

    result = enhance_file(write_good_dng(tmp_path / "dark.dng"), model=model_file, ratio="auto")
    assert result.ratio_is_auto and 1 <= result.ratio <= 300
    assert np.isfinite(result.image).all()
    assert "(auto)" in result.description


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"passes": "yes"}, "passes must be 1, 2, 4 or 8, not 'yes'"),
        ({"passes": 2.5}, "passes must be 1, 2, 4 or 8, not 2.5"),
        ({"passes": 3}, "passes must be 1, 2, 4 or 8, not 3"),
        ({"passes": True}, "passes must be 1, 2, 4 or 8, not True"),
        ({"tile": 10}, "tile must be a whole number of at least 64 packed pixels, not 10"),
        ({"tile": "64"}, "tile must be a whole number of at least 64 packed pixels, not '64'"),
        ({"tile": 256, "overlap": -1}, "overlap must be a whole number of packed pixels, 0 or more, not -1"),
        ({"white_balance": "x"}, "white balance must be one of camera, daylight, auto, got 'x'"),
        ({"ratio": 0}, "ratio must be between 1 and 300"),
    ],
)
def test_the_library_refuses_options_that_mean_nothing_in_one_line(
    tmp_path: Path, model_file: Path, options: dict, problem: str
) -> None:
    from seeisp.enhance import enhance_file
    from seeisp.errors import InvalidOptionError

    with pytest.raises(InvalidOptionError) as raised:
        enhance_file(write_good_dng(tmp_path / "dark.dng"), **{"model": model_file, "ratio": 100, **options})
    assert str(raised.value).startswith(problem) and "\n" not in str(raised.value)


def test_a_session_of_a_missing_file_says_so(tmp_path: Path) -> None:
    from seeisp.errors import ModelError
    from seeisp.session import ModelSession

    with pytest.raises(ModelError, match=r"nope\.onnx: no such model file$"):
        ModelSession(tmp_path / "nope.onnx")
