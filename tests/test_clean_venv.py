"""A plain ``pip install`` of the project (no extras) into a fresh virtual environment gives a
working ``seeisp enhance`` and ``seeisp demo`` with the bundled model, and neither torch nor gradio.

Slow: it downloads and installs the core dependencies from the package index (a few minutes).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from seeisp.dng import write_dng

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


def run(command: list[str], cwd: Path, timeout: int = 1200) -> subprocess.CompletedProcess:
    # No PYTHONPATH or SEEISP_WEIGHTS from the developer's shell: only what the clean venv holds counts.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SEEISP_WEIGHTS", "VIRTUAL_ENV")}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def check(result: subprocess.CompletedProcess, what: str) -> None:
    assert result.returncode == 0, (
        f"{what} failed ({result.returncode}):\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    )


@pytest.fixture(scope="module")
def clean_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clean-venv")
    venv = folder / "venv"
    check(run([sys.executable, "-m", "venv", str(venv)], cwd=folder), "python -m venv")
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    check(
        run([str(bin_dir / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(REPO)], folder),
        "pip install <repo>",
    )
    return bin_dir


def test_no_training_or_ui_dependencies(clean_venv: Path, tmp_path: Path) -> None:
    probe = "import importlib.util as u; print(','.join(m for m in ('torch', 'gradio', 'onnx') if u.find_spec(m)))"
    result = run([str(clean_venv / "python"), "-c", probe], tmp_path)
    check(result, "import probe")
    assert result.stdout.strip() == "", f"installed without extras, yet found: {result.stdout.strip()}"


def test_enhance_runs_with_the_bundled_model(clean_venv: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:128, 0:192]
    signal = 512 + 30 + 20 * np.sin(xx / 8.0) + 10 * (yy / 128)
    bayer = np.clip(rng.poisson(signal), 0, 16383).astype(np.uint16)
    write_dng(tmp_path / "dark.dng", bayer, black_level=512, white_level=16383, as_shot_neutral=(0.5, 1, 0.7))

    result = run(
        [str(clean_venv / "seeisp"), "enhance", "dark.dng", "-o", "bright.tif", "--ratio", "50", "-q"], tmp_path
    )
    check(result, "seeisp enhance")
    image = iio.imread(tmp_path / "bright.tif")
    assert image.shape == (128, 192, 3) and image.dtype == np.uint16
    assert 0 < image.mean() < 65535


def test_demo_runs(clean_venv: Path, tmp_path: Path) -> None:
    result = run([str(clean_venv / "seeisp"), "demo", "-o", "demo"], tmp_path)
    check(result, "seeisp demo")
    assert "PSNR" in result.stdout
    assert any((tmp_path / "demo").iterdir())


def test_the_package_ships_the_four_models_a_user_runs_and_nothing_else_of_weights(clean_venv: Path) -> None:
    weights = "(pathlib.Path(seeisp.__file__).parent / 'weights').iterdir()"
    probe = f"import pathlib, seeisp; print(*sorted(p.name for p in {weights}))"
    result = run([str(clean_venv / "python"), "-c", probe], clean_venv)
    check(result, "weights probe")
    assert result.stdout.split() == [
        "seeisp-full-int8.onnx",
        "seeisp-full.onnx",
        "seeisp-lite-int8.onnx",
        "seeisp-lite.onnx",
    ]  # no fp16 variant (seeisp export makes it), no Markdown
