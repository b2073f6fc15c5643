"""What the web page adds over ``seeisp enhance`` for the same file, model and formats.

    python benchmarks/web_overhead.py --model lite --sizes 12 24 --formats png

A synthetic dark DNG of each size (megapixels, 3:2) is enhanced by ``seeisp enhance`` (a fresh process, as a
user runs it: start-up and model loading included) and through the served page by ``gradio_client`` (upload,
the run with its comparison pictures and writing, the answer; the server already running and warmed up, as a
page is, and the results not downloaded, as the command's are already on disk). Prints the seconds of each,
best of ``--repeat`` (taken in turn), and the page's share over the command. The command writes one format per
run, so with several ``--formats`` it runs once for each (the network each time): compare one format for like
with like.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from seeisp.dng import write_dng
from seeisp.models import default_model
from seeisp.web import UISettings, build_app

if TYPE_CHECKING:
    from gradio_client import Client

CLI_FORMATS = {"png": "png", "dng": "dng", "tif": "tiff", "jpg": "jpeg"}


def write_synthetic_raw(path: Path, megapixels: float, seed: int = 0) -> Path:
    """A dark, noisy 3:2 RGGB frame of about ``megapixels``: a ramp with a bright band, 1/100 of a normal exposure."""
    height = round((megapixels * 1e6 / 1.5) ** 0.5 / 2) * 2
    width = round(height * 1.5 / 2) * 2
    y, x = np.ogrid[0:height, 0:width]
    scene = 0.2 + 0.6 * x / width + 0.5 * (y < height // 4)
    rng = np.random.default_rng(seed)
    dn = 512 + scene * 0.01 * (16383 - 512) + rng.normal(0, 4, (height, width)).astype(np.float32)
    mosaic = np.clip(np.rint(dn), 0, 16383).astype(np.uint16)
    return write_dng(path, mosaic, black_level=512, white_level=16383, as_shot_neutral=(0.55, 1.0, 0.7))


def time_cli(raw: Path, out_dir: Path, model: str, fmt: str, ratio: float) -> float:
    out = out_dir / f"{raw.stem}-cli.{fmt}"
    command = [sys.executable, "-m", "seeisp", "enhance", str(raw), "-o", str(out), "--model", model]
    command += ["--ratio", str(ratio), "--format", CLI_FORMATS[fmt], "--overwrite", "-q"]
    began = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def time_page(client: Client, raw: Path, model: str, formats: list[str], ratio: float) -> float:
    from gradio_client import handle_file

    began = time.perf_counter()
    client.predict(
        files=[handle_file(str(raw))],
        auto_ratio=False,
        ratio=ratio,
        model=model,
        formats=formats,
        api_name="/enhance",
    )
    return time.perf_counter() - began


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="registered model name (default: best installed)")
    parser.add_argument("--sizes", type=float, nargs="+", default=[12, 24], help="megapixels (default: 12 24)")
    parser.add_argument("--formats", nargs="+", default=["png"], choices=list(CLI_FORMATS))
    parser.add_argument("--repeat", type=int, default=1, help="runs of each, the best kept (default: 1)")
    args = parser.parse_args()
    model = args.model or default_model()
    ratio = 100.0

    from gradio_client import Client

    app = build_app(UISettings(port=free_port(), max_file_size="1GB"), warm_up=False)
    client = Client(app.launch(), verbose=False, download_files=False)
    rows = []
    try:
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            warm = write_synthetic_raw(folder / "warm.dng", 1)
            time_page(client, warm, model, args.formats, ratio)  # the server's model loaded and measured
            for size in args.sizes:
                raw = write_synthetic_raw(folder / f"synthetic-{size:g}mp.dng", size)
                clis, pages = [], []
                for _ in range(args.repeat):  # taken in turn, so a busy spell on the machine falls on both
                    clis.append(sum(time_cli(raw, folder, model, fmt, ratio) for fmt in args.formats))
                    pages.append(time_page(client, raw, model, args.formats, ratio))
                rows.append((size, min(clis), min(pages)))
    finally:
        app.close()

    formats = " + ".join(args.formats)
    print(f"model {model}, ratio {ratio:g}, formats {formats}; seconds, best of {args.repeat}")
    print("| MP | seeisp enhance | web page | page over command |")
    print("|---:|---:|---:|---:|")
    for size, cli, page in rows:
        print(f"| {size:g} | {cli:.1f} | {page:.1f} | {100 * (page / cli - 1):+.0f}% |")


if __name__ == "__main__":
    main()
