"""A seeded fuzz run of `seeisp enhance`: mutated DNGs (``dng_edits.mutate``) and good ones in one folder, one batch
in a child process, and every way the run can go wrong listed. Used by tests/test_fuzz.py (a short run) and
benchmarks/fuzz.py (thousands of cases).

    report = fuzz(folder, seed=1, cases=100, model="lite")
    assert report.problems == []
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from dng_edits import mutate

from conftest import write_biased_dng, write_dark_dng

SIZES = ((64, 96), (96, 128), (128, 128))
CFAS = ("RGGB", "BGGR", "GRBG", "GBRG")


@dataclass
class FuzzReport:
    cases: int  # mutated files
    good: int  # files left as written
    written: int  # mutated files enhanced anyway (the mutation left them readable)
    refused: int  # mutated files refused with one line
    exit_code: int
    seconds: float
    peak_rss_mb: float  # the child's peak resident memory over the whole batch
    problems: list[str] = field(default_factory=list)


def write_seeds(folder: Path, rng: random.Random) -> list[bytes]:
    """The DNGs to mutate: small dark raws of every CFA phase and a few sizes."""
    seeds = []
    for index, cfa in enumerate(CFAS):
        path = write_biased_dng(folder / f"seed{index}.tmp", cfa=cfa, size=rng.choice(SIZES), seed=index)
        seeds.append(path.read_bytes())
        path.unlink()
    return seeds


def make_cases(folder: Path, seed: int, cases: int, good: int = 3) -> dict[str, str]:
    """Write ``cases`` mutated DNGs and ``good`` untouched ones into ``folder``: file name -> what was done to it."""
    rng = random.Random(seed)
    seeds = write_seeds(folder, rng)
    made: dict[str, str] = {}
    for index in range(good):
        name = f"good-{index}.dng"
        write_dark_dng(folder / name, seed=index)
        made[name] = "good"
    for index in range(cases):
        data, how = mutate(rng.choice(seeds), rng)
        name = f"case-{index:05d}.dng"
        (folder / name).write_bytes(data)
        made[name] = how
    return made


# Runs `seeisp ARGV[2:]` and, as it exits, writes its peak resident memory (kB) to the file ARGV[1]. /proc's VmHWM,
# not getrusage's ru_maxrss: that one also counts the memory of the parent it was forked from, before exec.
_MEASURED = """
import atexit, runpy, sys
def report(target=sys.argv[1]):
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(target, "w") as out:
        out.write(peak)
atexit.register(report)
sys.argv = ["seeisp", *sys.argv[2:]]
runpy.run_module("seeisp", run_name="__main__")
"""


def run_enhance(args: list[str], timeout: float) -> tuple[int, str, str, float, float]:
    """`python -m seeisp ARGS` in a child: (exit code, stdout, stderr, seconds, its peak resident memory in MB;
    NaN when it did not say, killed at ``timeout``)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with tempfile.TemporaryDirectory(prefix="seeisp-fuzz-") as scratch:
        peak_file = Path(scratch) / "peak"
        started = time.perf_counter()
        try:
            result = subprocess.run(
                [sys.executable, "-c", _MEASURED, str(peak_file), *args],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                env=env,
                timeout=timeout,
            )
            code, out, err = result.returncode, result.stdout, result.stderr
        except subprocess.TimeoutExpired as expired:
            code, out, err = -9, expired.stdout or b"", (expired.stderr or b"") + b"\nkilled at the timeout"
        seconds = time.perf_counter() - started
        peak = int(peak_file.read_text()) / 1024 if peak_file.is_file() else float("nan")
    return code, out.decode(errors="backslashreplace"), err.decode(errors="backslashreplace"), seconds, peak


def fuzz(folder: Path, *, seed: int, cases: int, model: str | os.PathLike[str], timeout: float = 600) -> FuzzReport:
    """Make the cases in ``folder``/in, enhance them in one batch into ``folder``/out, and check the run."""
    inputs, outputs = folder / "in", folder / "out"
    inputs.mkdir(parents=True)
    made = make_cases(inputs, seed, cases)
    before = {name: hashlib.sha256((inputs / name).read_bytes()).hexdigest() for name in made}
    code, out, err, seconds, peak = run_enhance(
        ["enhance", "-q", str(inputs), "-o", f"{outputs}/", "--model", str(model)], timeout
    )
    report = FuzzReport(cases, sum(how == "good" for how in made.values()), 0, 0, code, seconds, peak)
    problems = report.problems

    for text in ("Traceback", "Fatal Python error", "Segmentation fault"):
        if text in out + err:
            problems.append(f"{text!r} in the output")
    error_lines = [line for line in err.splitlines() if line.startswith("seeisp: error: ")]
    for line in err.splitlines():
        if not line.startswith(("seeisp: error: ", "seeisp: warning: ")):
            problems.append(f"stderr line not in seeisp's form: {line[:200]!r}")
    errors_by_name: dict[str, int] = {}
    for line in error_lines:
        match = re.match(rf"seeisp: error: {re.escape(str(inputs))}/([^/:]+\.dng): ", line)
        if not match:
            problems.append(f"error line not naming one input: {line[:200]!r}")
            continue
        errors_by_name[match.group(1)] = errors_by_name.get(match.group(1), 0) + 1
    written_lines = {m.group(1) for m in re.finditer(rf"^{re.escape(str(inputs))}/(\S+\.dng) -> ", out, re.M)}

    for name, how in sorted(made.items()):
        picture = outputs / (Path(name).stem + ".png")
        errors = errors_by_name.get(name, 0)
        if how == "good":
            if not picture.is_file() or errors:
                problems.append(f"{name}: a good file was not written")
        elif picture.is_file() and name in written_lines and not errors:
            report.written += 1
        elif errors == 1 and not picture.exists() and name not in written_lines:
            report.refused += 1
        else:
            problems.append(
                f"{name} ({how}): {errors} error lines, output {'written' if picture.exists() else 'not written'}"
            )
        if hashlib.sha256((inputs / name).read_bytes()).hexdigest() != before[name]:
            problems.append(f"{name}: the input was changed")

    expected = {outputs / (Path(name).stem + ".png") for name in made}
    strays = [
        p
        for p in (*inputs.iterdir(), *(outputs.iterdir() if outputs.is_dir() else ()))
        if p.name not in made and p not in expected
    ]
    problems += [f"left behind: {p.name}" for p in strays]
    summary = out.strip().splitlines()[-1] if out.strip() else ""
    wanted = f"{report.good + report.written} written, 0 skipped, {report.refused} failed"
    if summary != wanted:
        problems.append(f"summary {summary!r}, expected {wanted!r}")
    if code != (1 if report.refused else 0):
        problems.append(f"exit code {code}")
    return report
