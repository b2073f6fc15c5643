"""The scripts of benchmarks/ on bad arguments: one line on stderr naming the problem, a non-zero exit, no traceback.

Each script runs as ``python benchmarks/NAME.py`` from the repository root, as its docstring says; every case
stops before any picture is simulated or model run, so the file takes a few seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def script(name: str, *args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, f"benchmarks/{name}.py", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env=None if env is None else {**os.environ, **env},
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], name: str, *words: str) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"{name}.py: error: "), lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def picture_folder(folder: Path, side: int) -> Path:
    folder.mkdir()
    rng = np.random.default_rng(side)
    iio.imwrite(folder / "a.png", rng.integers(0, 256, (side, side, 3), dtype=np.uint8))
    return folder


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One good 64 px picture."""
    return picture_folder(tmp_path_factory.mktemp("good") / "pictures", 64)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One 16 px picture: smaller than ``seeisp benchmark`` takes (``MIN_SIDE``)."""
    return picture_folder(tmp_path_factory.mktemp("tiny") / "pictures", 16)


@pytest.fixture(scope="module")
def junk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("junk")
    (folder / "x.png").write_text("not a picture")
    return folder


@pytest.mark.parametrize("name", ["dark_frame", "white_balance", "auto_ratio"])
def test_missing_picture_folder(name: str) -> None:
    assert_one_line_error(script(name, "--images", "/nonexistent", "--camera", "virtual"), name, "/nonexistent")


def test_unknown_camera(pictures: Path) -> None:
    assert_one_line_error(script("error_budget", "--images", pictures, "--camera", "Foo"), "error_budget", "'Foo'")


def test_missing_profiles(pictures: Path) -> None:
    result = script("hot_pixels", "--images", pictures, "--camera", "Foo", "--profiles", "/nonexistent")
    assert_one_line_error(result, "hot_pixels", "/nonexistent")


def test_unknown_model(pictures: Path) -> None:
    result = script("context_border", "--images", pictures, "--camera", "virtual", "--model", "nosuch", "--limit", "1")
    assert_one_line_error(result, "context_border", "'nosuch'")


def test_junk_picture(junk: Path) -> None:
    result = script("ensemble_passes", "--images", junk, "--camera", "virtual", "--limit", "1")
    assert_one_line_error(result, "ensemble_passes", "x.png")


@pytest.mark.parametrize(
    ("name", "model"),
    [("white_balance", ["--model", "nosuch"]), ("dark_frame", ["--model", "nosuch"]), ("auto_ratio", [])],
)
def test_picture_too_small_for_the_benchmark(name: str, model: list[str], tiny: Path) -> None:
    """Refused up front, before the model is even loaded, as ``seeisp benchmark`` refuses it (``check_images``)."""
    result = script(name, "--images", tiny, "--camera", "virtual", "--ratios", "100", *model)
    assert_one_line_error(result, name, "16x16 px", "at least 22 px")


@pytest.mark.parametrize("ratio", ["0", "-5", "301", "auto", "x"])
def test_ratio_out_of_range(ratio: str) -> None:
    # --images /nonexistent: were the ratio let through, the script would stop on the folder instead
    result = script("white_balance", "--images", "/nonexistent", "--camera", "virtual", "--ratios", "100", ratio)
    assert_one_line_error(result, "white_balance", "--ratios", "between 1 and 300")


@pytest.mark.parametrize("limit", ["0", "-1"])
def test_limit_below_one(limit: str) -> None:
    # find_images takes 0 as every picture and -1 as all but one; the scripts refuse both
    result = script("dark_frame", "--images", "/nonexistent", "--camera", "virtual", "--limit", limit)
    assert_one_line_error(result, "dark_frame", "--limit", "at least 1")


def test_limit_below_one_in_shot_images(pictures: Path) -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from options import shot_images
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    from seeisp.errors import SeeispError

    assert shot_images(pictures, 1) == [pictures / "a.png"]
    for limit in (0, -1):  # find_images once took 0 as "all" and -1 as "all but one"
        with pytest.raises(SeeispError, match="--limit must be at least 1"):
            shot_images(pictures, limit)


def test_perf_threads_below_one() -> None:
    assert_one_line_error(script("perf", "--threads", "0"), "perf", "--threads", "at least 1")


def test_gpu_help() -> None:
    result = script("gpu", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: gpu.py")
    assert "CUDA GPU" in result.stdout
    assert result.stderr == ""


def test_gpu_without_a_gpu() -> None:
    result = script("gpu", env={"CUDA_VISIBLE_DEVICES": ""})
    assert_one_line_error(result, "gpu")
    assert result.stdout == ""
