"""seeisp enhance: dark raw files in, clean bright images out.

Argument parsing and printing only: inputs and outputs are planned by ``seeisp.batch``,
frames enhanced by ``seeisp.enhance`` and written by ``seeisp.output``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from ..batch import Action, Job, collect_inputs, plan_jobs, same_file
from ..burst import enhance_burst, frames_left_out
from ..dark_frame import DarkFrame, read_dark_frames
from ..enhance import EnhanceResult, enhance_file
from ..errors import SeeispError, one_line, os_problem, printable
from ..models import NARROW_MODEL_TILE, NARROW_MODEL_WIDTH, WIDE_MODEL_TILE, default_model, model_path
from ..output import BITS
from ..providers import usable_cores
from ..ratio import parse_ev, parse_ratio
from ..raw import DEFAULT_MAX_MEGAPIXELS, pixel_limit
from ..session import MIN_TILE, ModelSession
from ..white_balance import WhiteBalance
from .argtypes import add_passes_option, non_empty_path, number_from, whole_number
from .quiet import CapturedStderr, quiet_batch

EPILOG = """\
INPUT may be raw files, folders (their raw files) or globs such as 'shots/*.ARW'.
Outputs go next to each input (img.ARW -> img.png) unless -o names a file (one input)
or a folder (a trailing slash, an existing folder, or several inputs).
Existing outputs are skipped unless --overwrite; an input file is never overwritten.
With --burst, the inputs are the frames of one burst, merged into one picture named after the first.
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
    # The options of seeisp.enhance_file, by the same names and in the same order
    p.add_argument(
        "--model", metavar="NAME|PATH", help="registered model name or a .onnx file (default: best installed)"
    )
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
    add_passes_option(
        p,
        "network passes over orientations of the mosaic, averaged: 1 (default), 2, 4 or 8; more passes give "
        "better quality, each pass taking as long as the first",
    )
    p.add_argument(
        "--white-balance",
        "--wb",
        choices=[choice.value for choice in WhiteBalance],
        default=WhiteBalance.CAMERA.value,
        metavar="MODE",
        help="white balance: camera (the as-shot one, as LibRaw; default), daylight (the sensor's), or auto "
        "(estimated from the denoised picture; removes the cast of street lights or candles)",
    )
    p.add_argument(
        "--dark-frame",
        "--dark",
        type=non_empty_path,
        metavar="FILE",
        help="a raw shot with the lens capped, same camera and ISO; the sensor's black level "
        "measured from it replaces the one in the raw's metadata, and the output's level is matched to the raw's. "
        "A folder of them (one per ISO): each picture gets the one at its ISO",
    )
    p.add_argument(
        "--tile",
        type=whole_number(MIN_TILE),
        metavar="N",
        help=f"network tile in packed pixels (2N x 2N raw pixels); smaller uses less memory (default: the model's, "
        f"{NARROW_MODEL_TILE} for width-{NARROW_MODEL_WIDTH} models such as lite, {WIDE_MODEL_TILE} for wider ones)",
    )
    # How the outputs are written, and where the network runs
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
        help="zlib-compress TIFF outputs: smaller, slower to write (PNG, JPEG: always compressed)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs instead of skipping them")
    p.add_argument(
        "--providers", type=_provider_list, metavar="LIST", help="ONNX Runtime providers in order, e.g. cuda,cpu"
    )
    p.add_argument(
        "--threads", type=_thread_count, metavar="N", help=f"CPU threads for inference (at most {_max_threads()})"
    )
    p.add_argument(
        "--max-megapixels",
        type=number_from(0.01, 100_000),
        default=DEFAULT_MAX_MEGAPIXELS,
        metavar="N",
        help=f"refuse raws whose header claims more pixels, before decoding (default: {DEFAULT_MAX_MEGAPIXELS:g})",
    )
    p.add_argument(
        "--burst",
        action="store_true",
        help="the inputs are frames of one scene (tripod or handheld): align and merge them into one picture, "
        "named after the first frame, which the others are aligned to; needs pip install 'seeisp[burst]'",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        with quiet_batch() as chatter, pixel_limit(args.max_megapixels):
            return _run(args, chatter)
    except OSError as exc:  # about an option's file (--dark, --model): each input's own are its line in the batch
        name = f"{exc.filename}: " if exc.filename else ""
        raise SeeispError(f"{name}{os_problem(exc)}") from None


def _run(args: argparse.Namespace, chatter: CapturedStderr) -> int:
    ratio = parse_ratio(args.ratio)
    model_file = model_path(args.model or default_model())
    providers = args.providers
    darks = read_dark_frames(args.dark_frame) if args.dark_frame else []
    if args.burst:
        return _run_burst(args, ratio, model_file, darks)
    jobs = plan_jobs(args.inputs, args.output, args.format, args.bits, args.overwrite)
    chatter.take()  # LibRaw's lines about files planning looked into: what they mean is in the jobs

    session: ModelSession | None = None  # loaded at the first file to enhance, then shared by all
    written = skipped = failed = 0
    with _progress(total=len(jobs), unit="file", disable=args.quiet or len(jobs) < 2) as files_bar:
        for job in jobs:
            if _is_dark_frame(job.source, darks):
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
                done = _enhance_one(job, session, ratio, darks, args)
                _pass_on(chatter, job, done)
                if done:
                    written += 1
                else:
                    failed += 1
            files_bar.update(1)

    if len(jobs) > 1:
        print(f"{written} written, {skipped} skipped, {failed} failed")
    return 1 if failed else 0


def _is_dark_frame(path: Path, darks: list[DarkFrame]) -> bool:
    """Whether ``path`` is the file one of ``darks`` was read from: an input to leave out, not to enhance."""
    return any(dark.source is not None and same_file(path, dark.source) for dark in darks)


def _run_burst(args: argparse.Namespace, ratio: float | None, model_file: Path, darks: list[DarkFrame]) -> int:
    """All inputs as the frames of one burst, written as one picture named after the first frame."""
    collected = collect_inputs(args.inputs)
    problems = [item.reason for item in collected if isinstance(item, Job)]
    frames = [item for item in collected if isinstance(item, Path) and not _is_dark_frame(item, darks)]
    for problem in problems:
        _say(f"seeisp: error: {problem}", sys.stderr)
    if problems or not frames:
        return 1
    (job,) = plan_jobs([str(frames[0])], args.output, args.format, args.bits, args.overwrite)
    if job.output is not None and any(same_file(job.output, frame) for frame in frames if frame.exists()):
        job = Job(job.source, None, Action.FAIL, f"{job.source}: output {job.output} is a frame of the burst")
    if job.action is not Action.ENHANCE:
        _say(
            f"{job.source}: skipped, {job.reason}" if job.action is Action.SKIP else f"seeisp: error: {job.reason}",
            sys.stdout if job.action is Action.SKIP else sys.stderr,
        )
        return 0 if job.action is Action.SKIP else 1
    session = ModelSession(model_file, providers=args.providers, threads=args.threads)
    return 0 if _enhance_one(job, session, ratio, darks, args, enhance=_burst_of(frames)) else 1


def _burst_of(frames: list[Path]) -> Callable[..., EnhanceResult]:
    """``enhance_file``'s stand-in for a burst: the same arguments, all of ``frames`` merged (``enhance_burst``);
    a frame left out is reported on one line."""

    def enhance(_reference, ratio=None, model=None, **options) -> EnhanceResult:
        with frames_left_out(lambda message: _say(f"seeisp: warning: {message}", sys.stderr)):
            return enhance_burst(frames, ratio=ratio, model=model, **options)

    return enhance


def _enhance_one(
    job: Job,
    session: ModelSession,
    ratio: float | None,
    darks: list[DarkFrame],
    args: argparse.Namespace,
    enhance: Callable[..., EnhanceResult] = enhance_file,
) -> bool:
    """Read, enhance and write one file (with ``enhance``: ``enhance_file`` or a burst's); report it on one line.
    False when it failed."""
    assert job.output is not None  # planned jobs to enhance always have one
    started = time.perf_counter()
    try:
        with _TileProgress(disable=args.quiet, name=job.source.name) as on_tile:
            result = enhance(
                job.source,
                model=session,
                ratio=ratio,
                passes=args.passes,
                white_balance=args.white_balance,
                dark_frame=darks,
                tile=args.tile,
                ev=args.ev,
                progress=on_tile,
            )
        result.save(job.output, args.bits, compress=args.compress)
    except SeeispError as exc:
        _say(f"seeisp: error: {exc}", sys.stderr)
        return False
    except MemoryError:
        _say(f"seeisp: error: {job.source}: out of memory (try a smaller --tile)", sys.stderr)
        return False
    except Exception as exc:  # a library failing on a damaged file: that file's line, and the batch goes on
        _say(f"seeisp: error: {job.source}: {type(exc).__name__}: {one_line(exc)}", sys.stderr)
        return False
    note = f"  ({result.note})" if result.note else ""
    seconds = time.perf_counter() - started
    dark = f"  dark frame {result.dark_frame}" if result.dark_frame else ""
    dark += f"  {result.frames} frames merged" if result.frames > 1 else ""
    _say(f"{job.source} -> {job.output}  {result.ratio_label}{note}{dark}  {seconds:.1f} s", sys.stdout)
    return True


def _pass_on(chatter: CapturedStderr, job: Job, done: bool) -> None:
    """What C code printed while ``job`` ran: LibRaw's messages about the file become its warning lines when it was
    written (its error line says it all when not); anything else (ONNX Runtime's) is passed on as it came."""
    about_it, other = chatter.take(job.source)
    for message in about_it if done else []:
        _say(f"seeisp: warning: {job.source}: LibRaw: {message}", sys.stderr)
    if other:
        sys.stderr.write(other)


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


def _say(line: str, stream: TextIO) -> None:
    """Print a line without tearing a progress bar drawn on the terminal."""
    from tqdm import tqdm

    tqdm.write(printable(line), file=stream)


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
