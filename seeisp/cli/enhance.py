"""seeisp enhance: dark raw files in, clean bright images out.

Argument parsing and printing only: inputs and outputs are planned by ``seeisp.batch``,
frames enhanced by ``seeisp.enhance`` and written by ``seeisp.output``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from ..batch import Action, Job, plan_jobs, same_file
from ..dark_frame import DarkFrame, read_dark_frames
from ..enhance import enhance_file
from ..ensemble import PASSES
from ..errors import SeeispError
from ..models import NARROW_MODEL_TILE, NARROW_MODEL_WIDTH, WIDE_MODEL_TILE, default_model, model_path
from ..output import BITS
from ..providers import usable_cores
from ..ratio import parse_ev, parse_ratio
from ..session import MIN_TILE, ModelSession
from ..white_balance import WhiteBalance
from .argtypes import non_empty_path, whole_number

EPILOG = """\
INPUT may be raw files, folders (their raw files) or globs such as 'shots/*.ARW'.
Outputs go next to each input (img.ARW -> img.png) unless -o names a file (one input)
or a folder (a trailing slash, an existing folder, or several inputs).
Existing outputs are skipped unless --overwrite; an input file is never overwritten.
Exit status: 0 when every file was written or skipped, 1 when any file failed, 2 for a bad option."""


def register(sub: argparse._SubParsersAction, name: str, help_text: str) -> None:
    p = sub.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="raw files, folders or globs")
    p.add_argument("-o", "--output", metavar="OUT", help="output file (one input) or folder")
    p.add_argument(
        "--ratio",
        default="auto",
        help="amplification ratio, 1 to 300 (exposure you want / exposure taken), or 'auto' (default): "
        "estimated from the frame, keeping a night scene looking like night",
    )
    p.add_argument(
        "--ev",
        type=_stops,
        default=0.0,
        metavar="STOPS",
        help="exposure compensation in stops on top of the ratio, auto or given, e.g. +1 or -0.5",
    )
    p.add_argument(
        "--model", metavar="NAME|PATH", help="registered model name or a .onnx file (default: best installed)"
    )
    p.add_argument(
        "--format",
        choices=sorted(BITS),
        help="output format (default: png, or the suffix of -o FILE); dng: the denoised camera RGB as a 16-bit "
        "linear DNG (IMG.ARW -> IMG-seeisp.dng) that a raw editor develops, white balance still free",
    )
    p.add_argument(
        "--bits", type=int, choices=(8, 16), help="bits per channel (default: 8, 16 for tiff; dng 16 only, jpeg 8 only)"
    )
    p.add_argument(
        "--compress",
        action="store_true",
        help="zlib-compress TIFF outputs: about 12%% smaller, seconds slower per frame (PNG, JPEG: always compressed)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs instead of skipping them")
    p.add_argument(
        "--providers", type=_provider_list, metavar="LIST", help="ONNX Runtime providers in order, e.g. cuda,cpu"
    )
    p.add_argument(
        "--threads", type=_thread_count, metavar="N", help=f"CPU threads for inference (at most {_max_threads()})"
    )
    p.add_argument(
        "--tile",
        type=whole_number(MIN_TILE),
        metavar="N",
        help=f"network tile in packed pixels (2N x 2N raw pixels); smaller uses less memory (default: the model's, "
        f"{NARROW_MODEL_TILE} for width-{NARROW_MODEL_WIDTH} models such as lite, {WIDE_MODEL_TILE} for wider ones)",
    )
    passes = p.add_mutually_exclusive_group()
    passes.add_argument(
        "--ensemble",
        action="store_const",
        const=8,
        dest="passes",
        default=1,
        help="best quality: average the network over the 8 orientations of the mosaic "
        "(8 passes, about 8x slower, about +0.5 dB PSNR); the same as --passes 8",
    )
    passes.add_argument(
        "--passes",
        type=int,
        choices=PASSES,
        default=1,
        metavar="N",
        help="network passes over orientations of the mosaic, averaged: 1 (default), 2 (about +0.3 dB for "
        "twice the time), 4 (about +0.4 dB) or 8 (--ensemble)",
    )
    p.add_argument(
        "--wb",
        choices=[choice.value for choice in WhiteBalance],
        default=WhiteBalance.CAMERA.value,
        help="white balance: the camera's as-shot one (default, as LibRaw), the sensor's daylight one, or auto "
        "(estimated from the denoised picture; removes the cast of street lights or candles)",
    )
    p.add_argument(
        "--dark",
        type=non_empty_path,
        metavar="FILE",
        help="a dark frame: a raw shot with the lens capped, same camera and ISO; the sensor's black level "
        "measured from it replaces the one in the raw's metadata, and the output's level is matched to the raw's "
        "(+0.3 to +1.1 dB at ratios 100-300 in the benchmark)."
        " A folder of them (one per ISO): each picture gets the one at its ISO",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    ratio = parse_ratio(args.ratio)
    model_file = model_path(args.model or default_model())
    providers = args.providers
    darks = read_dark_frames(args.dark) if args.dark else []
    jobs = plan_jobs(args.inputs, args.output, args.format, args.bits, args.overwrite)

    session: ModelSession | None = None  # loaded at the first file to enhance, then shared by all
    written = skipped = failed = 0
    with _progress(total=len(jobs), unit="file", disable=args.quiet or len(jobs) < 2) as files_bar:
        for job in jobs:
            if any(dark.source and same_file(job.source, dark.source) for dark in darks):
                skipped += 1
                _say(f"{job.source}: skipped, it is the dark frame", sys.stdout)
            elif job.action is Action.SKIP:
                skipped += 1
                _say(f"{job.source}: skipped, {job.reason}", sys.stdout)
            elif job.action is Action.FAIL:
                failed += 1
                _say(f"seeisp: error: {job.reason}", sys.stderr)
            else:
                session = session or ModelSession(model_file, providers=providers, threads=args.threads)
                if _enhance_one(job, session, ratio, darks, args):
                    written += 1
                else:
                    failed += 1
            files_bar.update(1)

    if len(jobs) > 1:
        print(f"{written} written, {skipped} skipped, {failed} failed")
    return 1 if failed else 0


def _enhance_one(
    job: Job, session: ModelSession, ratio: float | None, darks: list[DarkFrame], args: argparse.Namespace
) -> bool:
    """Read, enhance and write one file; report it on one line. False when it failed."""
    assert job.output is not None  # planned jobs to enhance always have one
    started = time.perf_counter()
    try:
        with _TileProgress(disable=args.quiet, name=job.source.name) as on_tile:
            result = enhance_file(
                job.source,
                ratio,
                session,
                progress=on_tile,
                ensemble=args.passes,
                white_balance=args.wb,
                dark_frame=darks,
                tile=args.tile,
                ev=args.ev,
            )
        result.save(job.output, args.bits, compress=args.compress)
    except SeeispError as exc:
        _say(f"seeisp: error: {exc}", sys.stderr)
        return False
    except MemoryError:
        _say(f"seeisp: error: {job.source}: out of memory (try a smaller --tile)", sys.stderr)
        return False
    how = " (auto)" if result.ratio_is_auto else ""
    how += f", ev {result.ev:+g}" if result.ev else ""
    note = f"  ({result.note})" if result.note else ""
    seconds = time.perf_counter() - started
    dark = f"  dark frame {result.dark_frame}" if result.dark_frame else ""
    _say(
        f"{job.source} -> {job.output}  ratio {round(result.ratio, 1):g}{how}{note}{dark}  {seconds:.1f} s", sys.stdout
    )
    return True


def _progress(disable: bool = False, **kwargs):
    """A tqdm bar on stderr; hidden when asked, and when stderr is not a terminal (logs, pipes)."""
    from tqdm import tqdm

    return tqdm(file=sys.stderr, dynamic_ncols=True, disable=True if disable else None, **kwargs)


class _TileProgress:
    """A context giving a ``progress(done, total)`` callback that shows a tile bar only for tiled frames."""

    def __init__(self, disable: bool, name: str):
        self.disable, self.name, self.bar = disable, name, None

    def __enter__(self) -> Callable[[int, int], None]:
        return self.update

    def update(self, done: int, total: int) -> None:
        if self.disable or total < 2:
            return
        if self.bar is None:
            self.bar = _progress(total=total, unit="tile", desc=self.name, leave=False)
        self.bar.update(done - self.bar.n)

    def __exit__(self, *exc_info) -> None:
        if self.bar is not None:
            self.bar.close()


def _say(line: str, stream) -> None:
    """Print a line without tearing a progress bar drawn on the terminal."""
    from tqdm import tqdm

    tqdm.write(line, file=stream)


def _max_threads() -> int:
    """The most inference threads worth asking for: four per CPU core this process may run on."""
    return 4 * usable_cores()


def _thread_count(text: str) -> int:
    value = whole_number(1)(text)
    if value > _max_threads():
        raise argparse.ArgumentTypeError(f"at most {_max_threads()} (four per CPU core), got {value}")
    return value


def _stops(text: str) -> float:
    try:
        return parse_ev(text)
    except SeeispError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _provider_list(text: str) -> list[str]:
    providers = [name.strip() for name in text.split(",") if name.strip()]
    if not providers:
        raise argparse.ArgumentTypeError(f"no provider named in {text!r} (e.g. cuda,cpu)")
    return providers
