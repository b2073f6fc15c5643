"""End-to-end time of a 16 MP X-Trans frame against a 16 MP Bayer frame with the same model.

    nice -n 10 python benchmarks/xtrans_speed.py --model lite-int8 [--repeats 3]

The built-in scene is written as a dark raw (1/100 of the light, virtual-sensor noise) of 3328 x 4992 pixels
twice, with the same camera and noise: Bayer (RGGB) and X-Trans. Each is enhanced (``enhance_file``: read, for
X-Trans the resampling onto a Bayer grid, network, render) and written as a 16-bit TIFF; the best wall time of
``--repeats`` runs each, the two frames taking turns so that the shared machine's load falls on both alike.
Also timed on its own: the X-Trans step (hot pixels one cell apart and ``seeisp.xtrans.to_bayer``). Prints markdown.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from seeisp.enhance import enhance_file
from seeisp.raw import read_raw
from seeisp.session import ModelSession
from seeisp.sim.noise import VIRTUAL_SENSOR
from seeisp.sim.scene import draw_scene
from seeisp.sim.synthesis import random_camera, unprocess, write_dark_shot
from seeisp.xtrans import REFERENCE, as_bayer

from options import ArgumentParser, at_least_one, run

HEIGHT, WIDTH = 3328, 4992  # 16.6 MP, a Fujifilm X-T2/X-T3-sized frame (rounded to whole X-Trans cells)
RATIO = 100.0
TARGET = 1.5  # the X-Trans frame may take at most this many times the Bayer frame's time


def write_frames(folder: Path) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    camera = random_camera(rng)
    clean = unprocess(draw_scene(HEIGHT, WIDTH), camera)
    noise = VIRTUAL_SENSOR.sample(rng)
    return {
        name: write_dark_shot(folder / f"{name}.dng", clean, camera, RATIO, noise, np.random.default_rng(1), cfa)
        for name, cfa in (("Bayer", "RGGB"), ("X-Trans", REFERENCE.value))
    }


def best_time(action: Callable[[], object], repeats: int) -> float:
    """The shortest wall time of ``repeats`` calls of ``action``."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lite", help="model name or .onnx file (default: %(default)s)")
    parser.add_argument("--repeats", type=at_least_one, default=2, help="runs per frame, best kept (default: 2)")
    args = parser.parse_args(argv)
    session = ModelSession.from_name(args.model)

    with tempfile.TemporaryDirectory(prefix="seeisp-xtrans-") as tmp:
        frames = write_frames(Path(tmp))
        seconds: dict[str, float] = {name: float("inf") for name in frames}
        for _ in range(args.repeats):
            for name, path in frames.items():

                def job(path: Path = path) -> None:
                    enhance_file(path, ratio=RATIO, model=session).save(Path(tmp) / "out.tif")

                seconds[name] = min(seconds[name], best_time(job, 1))
        xtrans_raw = read_raw(frames["X-Trans"])
        resample = best_time(lambda: as_bayer(xtrans_raw), args.repeats)

    ratio = seconds["X-Trans"] / seconds["Bayer"]
    print(f"### 16 MP ({WIDTH}x{HEIGHT}) end to end, seeisp {session.name}, best of {args.repeats}\n")
    print("| frame | seconds |\n|---|---:|")
    for name, value in seconds.items():
        print(f"| {name} | {value:.2f} |")
    print(f"| X-Trans step alone (hot pixels + resampling) | {resample:.2f} |")
    verdict = "met" if ratio <= TARGET else "missed"
    print(f"\nX-Trans / Bayer: {ratio:.2f} (target at most {TARGET:g}: {verdict}).")
    return 0


if __name__ == "__main__":
    run(main)
