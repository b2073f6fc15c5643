"""How `seeisp enhance` takes a batch of damaged and forged DNGs: a long seeded fuzz run.

    python benchmarks/fuzz.py --cases 1000 --batches 4 --seed 1

Each batch is one `seeisp enhance` run in a child process over ``--cases`` mutated DNGs (byte flips, truncation,
forged tags: sizes, compression, colour filter, strip offsets and counts; ``tests/dng_edits.py``) and three good
ones. Per batch it prints the files written anyway, those refused with one line, the problems found (a traceback,
a file without its one line, a good file not written, a file left behind, a changed input, a wrong summary or exit
code; listed after the table), the child's peak resident memory and the seconds. Exit status 1 when any problem.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the DNG writers and the fuzzer live there

from fuzz_batch import fuzz

from options import ArgumentParser, at_least_one, run


def main() -> int:
    parser = ArgumentParser(description="A long seeded fuzz run of seeisp enhance on mutated DNGs.")
    parser.add_argument(
        "--cases", type=at_least_one, default=1000, help="mutated DNGs per batch (default: %(default)s)"
    )
    parser.add_argument(
        "--batches", type=at_least_one, default=4, help="batches, seeds SEED, SEED+1, ... (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the first batch (default: %(default)s)")
    parser.add_argument("--model", default="lite", help="registered name or .onnx file (default: %(default)s)")
    parser.add_argument("--timeout", type=at_least_one, default=3600, help="seconds per batch (default: %(default)s)")
    args = parser.parse_args()
    from seeisp.models import model_path

    model = model_path(args.model)  # a bad name is one line now, not a failed batch later
    print("| seed | cases | written anyway | refused, one line | problems | peak RSS (MB) | seconds |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    problems: list[str] = []
    totals = [0, 0, 0, 0]
    for seed in range(args.seed, args.seed + args.batches):
        with tempfile.TemporaryDirectory(prefix="seeisp-fuzz-") as folder:
            report = fuzz(Path(folder), seed=seed, cases=args.cases, model=model, timeout=args.timeout)
        print(
            f"| {seed} | {report.cases} | {report.written} | {report.refused} | {len(report.problems)} "
            f"| {report.peak_rss_mb:.0f} | {report.seconds:.0f} |",
            flush=True,
        )
        problems += [f"seed {seed}: {problem}" for problem in report.problems]
        for index, value in enumerate((report.cases, report.written, report.refused, len(report.problems))):
            totals[index] += value
    print(f"| all | {totals[0]} | {totals[1]} | {totals[2]} | {totals[3]} | | |")
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    run(main)
