"""Inference needs neither torch nor gradio: `seeisp enhance` runs in a fresh interpreter without them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from seeisp.dng import write_dng

# Makes `import torch` / `import gradio` fail as if they were not installed.
BLOCK_IMPORTS = """
import importlib.abc, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "gradio"):
            raise ImportError(f"No module named {name!r} (blocked by the test)")
        return None

sys.meta_path.insert(0, Block())
"""

ENHANCE_AND_CHECK_MODULES = """
import sys
from seeisp.cli import main

code = main(["enhance", sys.argv[1], "-o", sys.argv[2], "--model", sys.argv[3], "--ratio", "20"])
loaded = sorted(m for m in ("torch", "gradio") if m in sys.modules)
print("loaded heavy modules:", loaded)
sys.exit(code or (3 if loaded else 0))
"""


@pytest.fixture
def dark_dng(tmp_path: Path) -> Path:
    mosaic = np.random.default_rng(0).integers(600, 1500, (128, 192)).astype(np.uint16)
    return write_dng(tmp_path / "dark.dng", mosaic, black_level=512, white_level=16383)


def run_python(code: str, *args: object, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, env=env, timeout=120
    )


def test_enhance_imports_neither_torch_nor_gradio(tmp_path: Path, dark_dng: Path, model_file: Path) -> None:
    out = tmp_path / "dark.png"
    result = run_python(ENHANCE_AND_CHECK_MODULES, dark_dng, out, model_file)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "loaded heavy modules: []" in result.stdout
    assert out.is_file()


def test_enhance_works_when_torch_cannot_be_imported(tmp_path: Path, dark_dng: Path, model_file: Path) -> None:
    # sitecustomize runs at interpreter start, before anything could import torch
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCK_IMPORTS)
    blocked = run_python("import torch", pythonpath=site)
    assert blocked.returncode != 0 and "blocked by the test" in blocked.stderr  # the block really works

    out = tmp_path / "dark.tif"
    result = run_python(ENHANCE_AND_CHECK_MODULES, dark_dng, out, model_file, pythonpath=site)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert out.is_file() and out.stat().st_size > 0


def test_module_entry_point_runs_without_torch(tmp_path: Path, dark_dng: Path, model_file: Path) -> None:
    """`python -m seeisp enhance` as a user would type it, with torch blocked."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCK_IMPORTS)
    code = textwrap.dedent(
        """
        import runpy, sys
        sys.argv = ["seeisp", *sys.argv[1:]]
        runpy.run_module("seeisp", run_name="__main__")
        """
    )
    result = run_python(code, "enhance", dark_dng, "--model", model_file, pythonpath=site)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "dark.png").is_file()
