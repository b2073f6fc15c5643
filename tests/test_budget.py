"""seeisp.budget: a raw that would take more memory than is free is refused from its header, before decoding."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_hostile_input import run_batch

from seeisp import budget
from seeisp.budget import FIXED_BYTES, FRAME_BYTES_PER_PIXEL, MemoryBudget, free_bytes, memory_budget
from seeisp.errors import MemoryBudgetError

from conftest import DARK_HEIGHT, DARK_WIDTH, write_dark_dng


def say_free(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kib: int) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text(f"MemTotal:       99999999 kB\nMemFree:         1000 kB\nMemAvailable:   {kib} kB\n")
    monkeypatch.setattr(budget, "MEMINFO", meminfo)


def test_free_memory_is_what_the_kernel_says_new_work_can_take(monkeypatch, tmp_path: Path) -> None:
    say_free(monkeypatch, tmp_path, 2048)
    assert free_bytes() == 2048 * 1024
    monkeypatch.setattr(budget, "MEMINFO", tmp_path / "missing")
    assert free_bytes() is None and memory_budget(512, 32) is None


def test_the_tile_and_the_width_add_to_what_a_run_takes(monkeypatch, tmp_path: Path) -> None:
    say_free(monkeypatch, tmp_path, 10**9)
    full, lite = memory_budget(512, 32), memory_budget(1024, 16)
    assert FIXED_BYTES < full.fixed_bytes < lite.fixed_bytes  # 1024 tiles at half the width: twice the buffers
    assert full.needed(24_000_000) - full.needed(0) == 24_000_000 * FRAME_BYTES_PER_PIXEL


def test_a_raw_too_large_for_the_free_memory_is_one_line(tmp_path: Path) -> None:
    pixels = DARK_WIDTH * DARK_HEIGHT
    fits = MemoryBudget(free_bytes=FIXED_BYTES + FRAME_BYTES_PER_PIXEL * pixels, fixed_bytes=FIXED_BYTES)
    fits.check(tmp_path / "dark.dng", pixels)
    with pytest.raises(MemoryBudgetError, match=r"^.*dark\.dng: needs about [0-9.]+ GB of memory, [0-9.]+ GB is free"):
        MemoryBudget(free_bytes=fits.free_bytes - 1, fixed_bytes=FIXED_BYTES).check(tmp_path / "dark.dng", pixels)


def test_seeisp_enhance_refuses_a_raw_that_does_not_fit_and_goes_on(
    capfd, monkeypatch, tmp_path: Path, model_file: Path
) -> None:
    raw = write_dark_dng(tmp_path / "dark.dng")
    say_free(monkeypatch, tmp_path, 100)  # 100 KiB free: not even the model's buffers fit
    code, _, err = run_batch(capfd, raw, "--model", model_file)
    assert code == 1 and len(err) == 1 and "needs about" in err[0] and "GB is free" in err[0]
    assert not (tmp_path / "dark.png").exists()
    say_free(monkeypatch, tmp_path, 20 * 1024**2)  # 20 GiB
    code, _, err = run_batch(capfd, raw, "--model", model_file)
    assert code == 0 and err == [] and (tmp_path / "dark.png").is_file()
