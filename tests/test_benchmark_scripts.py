"""The scripts of benchmarks/ run on tiny inputs and print their table.

Each script runs as ``python benchmarks/NAME.py`` from the repository root, as its docstring says, on one
64-pixel picture written here, the built-in virtual sensor and one ratio. What the numbers say is the
scripts' business; here they only have to come out.
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


def script(name: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, f"benchmarks/{name}.py", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))},
    )


def table_rows(stdout: str) -> list[list[str]]:
    """The body rows of the markdown tables in ``stdout``, as lists of cells (header and rule rows left out)."""
    rows = [line.strip("|").split("|") for line in stdout.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row] for row in rows if not set("".join(row)) <= set("-: ")]


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pictures")
    iio.imwrite(folder / "a.png", np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    return folder


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("dark_frame", ["--model", "lite"]),
        ("white_balance", ["--model", "lite"]),
        ("auto_ratio", []),
        ("noise_level", []),
    ],
)
def test_a_quality_script_prints_a_row_for_its_ratio(name: str, options: list[str], pictures: Path) -> None:
    result = script(name, "--images", pictures, "--camera", "virtual", "--ratios", "100", *options)
    assert result.returncode == 0, result.stderr
    # A measured row begins with the ratio, or (auto_ratio) with the camera.
    assert any(row[0] in ("100", "virtual") for row in table_rows(result.stdout)), result.stdout


@pytest.mark.slow
def test_perf_prints_the_quality_of_the_lite_variants() -> None:
    pytest.importorskip("torch")  # perf.py makes the fp16 and int8 variants with the train extra
    result = script(
        "perf", "--quick", "--only", "quality", "--psnr-images", "1", "--calibration-samples", "1", "--threads", "1"
    )
    assert result.returncode == 0, result.stderr
    variants = [row[0] for row in table_rows(result.stdout) if row[0].startswith("lite")]
    assert {"lite", "lite-fp16", "lite-int8"} <= set(variants), result.stdout


def test_noisiest_crop_scores_the_noisiest_shot_and_writes_its_crop(pictures: Path, tmp_path: Path) -> None:
    crop = tmp_path / "crop.png"
    result = script(
        "noisiest_crop",
        "--images",
        pictures,
        "--camera",
        "virtual",
        "--ratios",
        "100",
        "--model",
        "lite",
        "--side",
        "32",
        "-o",
        crop,
    )
    assert result.returncode == 0, result.stderr
    assert [row[0] for row in table_rows(result.stdout)] == ["picture", "a.png", "mean of 1"]
    # Reference and result side by side, 2x: two 64-pixel squares and a 4-pixel gap.
    assert iio.imread(crop).shape == (64, 132, 3)
