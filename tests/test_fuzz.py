"""Fuzzing `seeisp enhance`: a seeded batch of mutated DNGs (byte flips, truncation, forged tags: sizes, compression,
colour filter, strip offsets and counts) beside good ones, in one run. Every bad file gets one line, every good one
is written, nothing is left behind, no traceback, and memory stays bounded (forged sizes are refused from the header).
benchmarks/fuzz.py runs the same with thousands of cases."""

from __future__ import annotations

from pathlib import Path

from fuzz_batch import fuzz

SEED = 20261207
CASES = 300
PEAK_RSS_MB = 500  # the child's whole batch: Python, ONNX Runtime and the model, plus one small picture at a time


def test_a_batch_of_mutated_dngs_fails_file_by_file(tmp_path: Path, model_file: Path) -> None:
    report = fuzz(tmp_path, seed=SEED, cases=CASES, model=model_file, timeout=300)
    assert report.problems == []
    assert report.exit_code == 1 and report.refused > CASES // 4
    assert report.peak_rss_mb < PEAK_RSS_MB, report
