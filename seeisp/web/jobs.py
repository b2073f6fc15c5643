"""The work behind the page's buttons: check and enhance the uploads, describe the results, write the demo raw.

Only glue lives here: reading, enhancing, the LibRaw baseline and writing images are the library's own
functions. A run reports what it is doing through a ``Status`` (a named stage, files and tiles done, an
estimate of the seconds left from the frame's size and the speeds ``StageSpeeds`` measured on this machine).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import shutil
import threading
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ..budget import FRAME_BYTES_PER_PIXEL, MemoryBudget, fixed_bytes
from ..burst import frames_left_out, merge_burst
from ..dark_frame import DarkFrame, read_dark_frame
from ..enhance import EnhanceResult, enhance_raw
from ..errors import DarkFrameError, InvalidOptionError, ModelError, RawReadError, SeeispError
from ..eval.baseline import libraw_render
from ..models import MODELS, available_models, model_path
from ..output import quantize
from ..ratio import parse_ev, parse_ratio
from ..raw import DEFAULT_MAX_MEGAPIXELS, RAW_EXTENSIONS, RawImage, is_raw_name, pixel_limit, read_raw
from ..session import ModelSession
from ..white_balance import WhiteBalance
from .settings import MAX_FILES_PER_RUN
from .strength import FULL_STRENGTH, Blend, blend_previews, crop_box
from .workspace import Workspace

log = logging.getLogger(__name__)

FILE_TYPES = sorted(RAW_EXTENSIONS)  # the browser's file chooser and our own check match these in any case

# The page's quality choice -> network passes averaged over orientations of the mosaic (``seeisp.ensemble``).
QUALITY_PASSES = {"fast": 1, "better": 2, "best": 8}
# What the page can write, by suffix, in the order it lists them; PNG to look at, the linear DNG for a raw editor.
OUTPUT_FORMATS = {
    "png": "PNG",
    "dng": "DNG (linear, for a raw editor)",
    "tif": "TIFF (16-bit)",
    "jpg": "JPEG",
}
DEFAULT_FORMATS = ("png", "dng")
PREVIEW_SIDE = 1600  # the comparison's pictures: long side in pixels, about a screen's width
ZIP_NAME = "seeisp-results.zip"
LINEAR_FOLDER = "linear"  # in a result's folder: its ``Blend``, to write its files again at another strength
STRENGTH_PREFIX = "strength-"  # a folder in a result's (and a run's) folder: its files at another strength
LOUPE_SIZE = (576, 384)  # the 1:1 view: width, height in display pixels (it fits beside the navigator)
# Memory per raw pixel the page takes beyond ``seeisp.budget``'s estimate of a run: its own full-size pictures (the
# result at its strength beside the network's, float RGB).
PAGE_BYTES_PER_PIXEL = 24


@dataclass(frozen=True)
class RunOptions:
    """What the user chose for a run."""

    ratio: float | None = None  # None: estimate it from each frame
    ev: float = 0.0  # exposure compensation in stops, on top of the ratio
    model: str | None = None
    passes: int = 1
    white_balance: WhiteBalance = WhiteBalance.CAMERA
    formats: tuple[str, ...] = DEFAULT_FORMATS
    strength: float = FULL_STRENGTH  # percent of the network's picture; the rest is a lightly denoised naive one
    burst: bool = False  # several files: the frames of one scene, merged into one picture (``seeisp.burst``)


def run_options(
    auto_ratio: bool,
    ratio: float | str | None,
    model: str | None,
    quality: str = "fast",
    white_balance: str = WhiteBalance.CAMERA.value,
    formats: Sequence[str] | None = DEFAULT_FORMATS,
    strength: float = FULL_STRENGTH,
    ev: float = 0.0,
    burst: bool = False,
) -> RunOptions:
    """The page's controls -> ``RunOptions``; ``SeeispError`` with a one-line reason when one is out of range."""
    if quality not in QUALITY_PASSES:
        raise InvalidOptionError(f"quality must be one of {', '.join(QUALITY_PASSES)}, not {quality!r}")
    chosen = tuple(f for f in OUTPUT_FORMATS if f in (formats or ()))
    unknown = set(formats or ()) - set(OUTPUT_FORMATS)
    if unknown or not chosen:
        raise InvalidOptionError(f"choose one or more output formats of {', '.join(OUTPUT_FORMATS)}")
    if not 0 <= strength <= FULL_STRENGTH:
        raise InvalidOptionError(f"strength must be 0 to 100 %, not {strength!r}")
    return RunOptions(
        ratio=choose_ratio(auto_ratio, ratio),
        model=model,
        passes=QUALITY_PASSES[quality],
        white_balance=WhiteBalance.parse(white_balance),
        formats=chosen,
        strength=float(strength),
        ev=parse_ev(ev),
        burst=bool(burst),
    )


def merge_frames(reference: Path, frames: Sequence[Path], warn: Callable[[str], object] | None) -> tuple[RawImage, int]:
    """The burst of ``reference`` and ``frames`` merged into one raw, and how many frames it holds; each frame left
    out is passed to ``warn``."""
    with frames_left_out(warn or (lambda message: None)):
        raw, merged = merge_burst([reference, *frames])
    return raw, len(merged)


def choose_ratio(auto: bool, ratio: float | str | None) -> float | None:
    """The ratio to enhance with: None to estimate it (the auto box), else a number within the slider's range."""
    return None if auto else parse_ratio(ratio, allow_auto=False)


@dataclass(frozen=True)
class PageResult:
    """One enhanced upload: the two screen-sized pictures the slider compares, the downloads, the details."""

    name: str
    naive_preview: Path
    seeisp_preview: Path  # at the run's strength
    downloads: tuple[Path, ...]  # in the order of OUTPUT_FORMATS
    details: dict[str, str] = field(default_factory=dict)
    ratio: float = 1.0
    network_preview: Path | None = None  # the network's picture alone, and the lightly denoised naive one:
    soft_preview: Path | None = None  # the strength control blends these two at once
    linear: Path | None = None  # the kept ``Blend``: the files at other strengths and the 1:1 view come from it
    strength: float = FULL_STRENGTH  # of ``seeisp_preview`` and ``downloads``
    run_strength: float = FULL_STRENGTH  # of the files the run wrote (in the result's folder, beside ``linear``)
    size: tuple[int, int] = (0, 0)  # width, height of the enhanced picture

    def preview_at(self, percent: float) -> Path:
        """The seeisp preview at another strength, made from the two previews (no network)."""
        if self.network_preview is None or self.soft_preview is None:
            return self.seeisp_preview
        path = self.seeisp_preview.with_name(f"{self.seeisp_preview.stem}-{round(percent)}.jpg")
        if not path.is_file():
            network, soft = read_preview(self.network_preview), read_preview(self.soft_preview)
            write_preview(path, blend_previews(network, soft, percent))
        return path

    @property
    def expired(self) -> bool:
        """Whether its files were deleted to keep the disk within its caps."""
        return not self.seeisp_preview.is_file()

    def loupe(self, percent: float, centre: tuple[float, float] | None = None) -> np.ndarray:
        """The picture at ``percent`` at 100 %: 8-bit, ``LOUPE_SIZE`` display pixels around ``centre`` (x, y in the
        full-size picture; None: its middle), from the kept ``Blend`` (no network). ``SeeispError`` when expired."""
        expired = SeeispError(f"{self.name}: this result has expired")
        if self.linear is None:
            raise expired
        try:
            blend = Blend.load(self.linear)
        except OSError:  # deleted to keep the disk within its caps
            raise expired from None
        height, width = blend.result.raw.shape
        return quantize(blend.crop(percent, centre or (width / 2, height / 2), LOUPE_SIZE), 8)

    def loupe_box(self, centre: tuple[float, float] | None) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) in the full-size picture of what ``loupe`` shows for ``centre``."""
        width, height = self.size
        return crop_box((height, width), centre or (width / 2, height / 2), LOUPE_SIZE)

    def full_size_point(self, x: float, y: float) -> tuple[float, float]:
        """A point of ``seeisp_preview`` (as clicked on it) in the full-size picture."""
        with Image.open(self.seeisp_preview) as preview:
            scale = self.size[0] / preview.width
        return x * scale, y * scale


@dataclass(frozen=True)
class PageRun:
    """One press of Enhance: its results, the files that failed, and a ZIP of every download."""

    results: tuple[PageResult, ...]
    problems: tuple[str, ...] = ()
    zip_path: Path | None = None

    @property
    def downloads(self) -> list[Path]:
        return [p for r in self.results for p in r.downloads] + ([self.zip_path] if self.zip_path else [])


class JobTimeError(SeeispError):
    """A run went on past the server's time limit (``UISettings.job_time``)."""


class Status:
    """What a run is doing, written by the worker and read by the page: one line and the seconds left.

    With ``time_limit`` (seconds), the run is stopped where it next reports, at a stage or a network tile, once it
    has gone on that long: ``set`` raises ``JobTimeError``, which fails the file at hand and every file after it.
    """

    def __init__(self, time_limit: float | None = None) -> None:
        self._lock = threading.Lock()
        self.line = "starting"
        self.seconds_left: float | None = None
        self.time_limit = time_limit
        self._deadline = None if time_limit is None else time.monotonic() + time_limit

    def set(self, line: str, seconds_left: float | None) -> None:
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise JobTimeError(f"stopped: the run took longer than this server allows ({self.time_limit:g} s)")
        with self._lock:
            self.line, self.seconds_left = line, seconds_left

    def text(self) -> str:
        with self._lock:
            if self.seconds_left is None:
                return self.line
            return f"{self.line} (about {format_seconds(self.seconds_left)} left)"


def format_seconds(seconds: float) -> str:
    seconds = max(1, round(seconds))
    return f"{seconds} s" if seconds < 90 else f"{seconds // 60} min {seconds % 60:02d} s"


class StageSpeeds:
    """Seconds per megapixel of each stage on this machine: measured once at start-up (``warm_up``) and by every
    run after; the network's per model and pass (``network_stage``), the writing per format (``write_stage``).
    Estimates come from these and the frame's size, nothing else."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._per_mp: dict[str, float] = {}

    def measure(self, stage: str, seconds: float, megapixels: float) -> None:
        if megapixels > 0:
            with self._lock:
                self._per_mp[stage] = seconds / megapixels

    def get(self, stage: str) -> float | None:
        with self._lock:
            return self._per_mp.get(stage)

    def estimate(self, stages: Sequence[str], megapixels: float) -> float | None:
        """Seconds for ``stages`` on a frame of ``megapixels``; None while any of them is unmeasured."""
        rates = [self.get(stage) for stage in stages]
        if any(rate is None for rate in rates):
            return None
        return megapixels * sum(rates)  # type: ignore[arg-type]


def network_stage(model: str, passes: int) -> str:
    return f"network:{model}:x{passes}"


def write_stage(fmt: str) -> str:
    return f"write:{fmt}"


class Enhancer:
    """Turns uploaded files into ``PageResult``s; keeps one ONNX session per model file and the stages' speeds."""

    def __init__(self, workspace: Workspace, max_file_bytes: int, job_bytes: int | None = None):
        self.workspace = workspace
        self.max_file_bytes = max_file_bytes
        self.job_bytes = job_bytes  # the memory one run may take; None: no limit beyond the raw's pixel count
        self.speeds = StageSpeeds()
        self._sessions: dict[tuple[str, int], ModelSession] = {}
        self._lock = threading.Lock()
        self._own_files: set[tuple[str, int]] = set()  # (name, size) of files the page made: no upload limit

    def allow(self, path: Path) -> None:
        """Take ``path``, a file the page made itself (the demo raw), whatever the upload limit."""
        self._own_files.add((path.name, path.stat().st_size))

    def max_megapixels(self, session: ModelSession) -> float:
        """The largest raw a run with ``session`` may decode: what fits in ``job_bytes`` (``seeisp.budget``'s
        estimate, plus the page's own pictures), and never more than ``DEFAULT_MAX_MEGAPIXELS``."""
        if self.job_bytes is None:
            return DEFAULT_MAX_MEGAPIXELS
        run = fixed_bytes(session.default_tile, session.width)
        budget = MemoryBudget(self.job_bytes, run, FRAME_BYTES_PER_PIXEL + PAGE_BYTES_PER_PIXEL)
        return min(DEFAULT_MAX_MEGAPIXELS, budget.max_megapixels())

    def session(self, model: str | None) -> ModelSession:
        """The session of a registered model name. Reloaded when its file is replaced (training writes it)."""
        if model not in MODELS:  # never load an arbitrary .onnx path sent by a browser
            raise ModelError(f"unknown model {model!r}; installed: {', '.join(available_models()) or 'none'}")
        path = model_path(model)
        key = (str(path), path.stat().st_mtime_ns)
        with self._lock:
            if key not in self._sessions:
                self._sessions = {k: s for k, s in self._sessions.items() if k[0] != key[0]}
                self._sessions[key] = ModelSession(path)
            return self._sessions[key]

    def check_upload(self, path: Path) -> None:
        if not is_raw_name(path):
            raise RawReadError(f"{path.name}: not a raw file name (expected one of {', '.join(FILE_TYPES)})")
        size = path.stat().st_size
        if size > self.max_file_bytes and (path.name, size) not in self._own_files:
            raise RawReadError(
                f"{path.name}: {size / 2**20:.0f} MiB is over the {self.max_file_bytes / 2**20:.0f} MiB upload limit"
            )

    def read_dark_frame(self, path: Path) -> DarkFrame:
        """Check and measure an uploaded dark frame (``seeisp.dark_frame``); raises ``SeeispError`` when it is bad."""
        self.check_upload(path)
        return read_dark_frame(path)

    def warm_up(self, raw_path: Path, model: str | None) -> None:
        """Enhance ``raw_path`` once into a scratch folder, so the first estimate already has this machine's speeds."""
        folder = self.workspace.root / "warm-up"
        try:
            self.enhance_upload(raw_path, RunOptions(model=model, formats=tuple(OUTPUT_FORMATS)), folder)
        except Exception:
            log.exception("the warm-up run failed; estimates start after the first run")
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def enhance_upload(
        self,
        path: Path,
        options: RunOptions,
        folder: Path,
        status: Status | None = None,
        dark_frame: DarkFrame | None = None,
        prefix: str = "",
        frames: Sequence[Path] = (),
        warn: Callable[[str], object] | None = None,
    ) -> PageResult:
        """Enhance one uploaded raw, make the comparison pictures and write the chosen formats into ``folder``.

        ``status`` is told each stage (``prefix`` names the file among several) and the seconds left for this
        file. The naive brightening gets the same white balance gains, so the two pictures compare like for like.
        ``dark_frame``: its black level is taken off the raw before the network (not off the naive brightening,
        which stays LibRaw's own render); ``DarkFrameError`` when it does not fit this raw. ``frames``: more frames
        of a burst, aligned to ``path`` and merged with it (``seeisp.burst``; the frames left out go to ``warn``).
        """
        status = status or Status()
        self.check_upload(path)
        session = self.session(options.model)
        network = network_stage(session.name, options.passes)
        if self.speeds.get(network) is None:
            status.set(f"{prefix}measuring the model's speed on this machine", None)
            self.speeds.measure(network, *measure_network(session, options.passes))
        after_network = stages_after_network(options.formats)
        started = time.perf_counter()
        raw, merged = self._read_upload(path, frames, warn, session, status, prefix)
        megapixels = raw.mosaic.size / 1e6
        blend, result = self._denoise_upload(path, raw, merged, session, options, dark_frame, status, prefix)
        network_result = blend.result
        folder.mkdir(parents=True, exist_ok=True)

        def stage(name: str, key: str, work):
            status.set(f"{prefix}{name}", self.speeds.estimate(after_network[after_network.index(key) :], megapixels))
            began = time.perf_counter()
            value = work()
            self.speeds.measure(key, time.perf_counter() - began, megapixels)
            return value

        stem = path.stem
        network_picture = fit_preview(network_result.image)
        size = network_picture.shape[1::-1]
        naive, soft = stage("comparison picture", "comparison", lambda: comparison_previews(path, blend, size))
        keep = functools.partial(blend.store, folder / LINEAR_FOLDER)
        linear = stage("keeping the result for the strength control", "keep", keep)
        naive_jpg = write_preview(folder / f"{stem}-naive.jpg", naive)
        network_jpg = write_preview(folder / f"{stem}-network-preview.jpg", network_picture)
        soft_jpg = write_preview(folder / f"{stem}-soft-preview.jpg", soft)
        seeisp_jpg = write_preview(
            folder / f"{stem}-seeisp-preview.jpg", blend_previews(network_picture, soft, options.strength)
        )
        downloads = tuple(
            stage(
                f"writing {OUTPUT_FORMATS[fmt].split()[0]}",
                write_stage(fmt),
                lambda fmt=fmt: result.save(folder / f"{stem}-seeisp.{fmt}"),
            )
            for fmt in options.formats
        )
        status.set(f"{prefix}done", 0)
        return PageResult(
            name=path.name,
            naive_preview=naive_jpg,
            seeisp_preview=seeisp_jpg,
            downloads=downloads,
            details=describe(path.name, result, time.perf_counter() - started, options.strength),
            ratio=result.ratio,
            network_preview=network_jpg,
            soft_preview=soft_jpg,
            linear=linear,
            strength=options.strength,
            run_strength=options.strength,
            size=result.raw.shape[::-1],
        )

    def _read_upload(
        self,
        path: Path,
        frames: Sequence[Path],
        warn: Callable[[str], object] | None,
        session: ModelSession,
        status: Status,
        prefix: str,
    ) -> tuple[RawImage, int]:
        """The uploaded raw, or the burst of it and ``frames`` merged, and how many frames it holds; the time it took
        goes into the speeds."""
        started = time.perf_counter()
        status.set(f"{prefix}reading" if not frames else f"{prefix}aligning and merging {len(frames) + 1} frames", None)
        with pixel_limit(self.max_megapixels(session)):
            raw, merged = merge_frames(path, frames, warn) if frames else (read_raw(path), 1)
        self.speeds.measure("read", time.perf_counter() - started, raw.mosaic.size / 1e6)
        return raw, merged

    def _denoise_upload(
        self,
        path: Path,
        raw: RawImage,
        merged: int,
        session: ModelSession,
        options: RunOptions,
        dark_frame: DarkFrame | None,
        status: Status,
        prefix: str,
    ) -> tuple[Blend, EnhanceResult]:
        """``enhance_raw`` with the page's options, the status line following its tiles with the time left: the
        ``Blend`` of its result (of ``merged`` frames) and the result at the options' strength. The network's and
        the render's times go into the speeds."""
        network = network_stage(session.name, options.passes)
        after_network = stages_after_network(options.formats)
        megapixels = raw.mosaic.size / 1e6
        network_started = time.perf_counter()
        network_ended = [network_started]
        expected = self.speeds.estimate([network, *after_network], megapixels)

        def tiles(done: int, total: int) -> None:
            network_ended[0] = time.perf_counter()
            spent = network_ended[0] - network_started
            network_left = spent / done * (total - done)
            rest = self.speeds.estimate(after_network, megapixels)
            left = None if rest is None else network_left + rest
            status.set(f"{prefix}network: tile {done} of {total}", left)
            if done == total:  # enhance_raw goes on to white balance and render
                status.set(f"{prefix}rendering", rest)

        status.set(f"{prefix}network: starting", expected)
        try:
            result = enhance_raw(
                raw,
                model=session,
                ratio=options.ratio,
                ev=options.ev,
                passes=options.passes,
                white_balance=options.white_balance,
                dark_frame=dark_frame,
                progress=tiles,
            )
        except DarkFrameError as exc:
            raise DarkFrameError(f"{path.name}: {exc}") from None
        blend = Blend.of(dataclasses.replace(result, frames=merged))
        at_strength = blend.at(options.strength)
        # enhance_raw renders right after the last tile: the network's share is what the tiles took
        self.speeds.measure(network, network_ended[0] - network_started, megapixels)
        self.speeds.measure("render", time.perf_counter() - network_ended[0], megapixels)
        return blend, at_strength


def stages_after_network(formats: Sequence[str]) -> tuple[str, ...]:
    """The stages of a run after the network, in order: render, comparison pictures, keeping the blend, and writing
    each format."""
    return ("render", "comparison", "keep", *map(write_stage, formats))


def measure_network(session: ModelSession, passes: int) -> tuple[float, float]:
    """(seconds, megapixels) of the network's passes over one tile of zeros of the model's tile size, after an
    untimed run (the first run of a session is slower)."""
    side = min(session.default_tile, 256)
    packed = np.zeros((session.in_channels, side, side), np.float32)
    session.run(packed)
    began = time.perf_counter()
    session.run(packed)
    return (time.perf_counter() - began) * passes, 4 * side * side / 1e6


def fit_preview(image: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    """``image`` (H, W, 3) as 8-bit, shrunk so that its long side is at most ``PREVIEW_SIDE``, or to
    ``size`` (width, height)."""
    picture = Image.fromarray(quantize(image, 8))
    if size is not None:
        return np.asarray(picture.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0))
    picture.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return np.asarray(picture)


def naive_preview(path: Path, result: EnhanceResult, size: tuple[int, int]) -> np.ndarray:
    """LibRaw's render of the raw amplified by the result's ratio, with its white balance, at ``size`` (width,
    height): from LibRaw's half-size demosaicking (a quarter of the work) when that is still larger."""
    gains = None if result.white_balance is WhiteBalance.CAMERA else result.gains
    half_size = max(result.raw.shape) >= 2 * max(size)
    return fit_preview(libraw_render(path, result.ratio, white_balance=gains, half_size=half_size), size)


def comparison_previews(path: Path, blend: Blend, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The naive brightening (LibRaw's) and the lightly denoised naive picture the strength control blends in,
    both at ``size``."""
    return naive_preview(path, blend.result, size), fit_preview(blend.soft_picture(), size)


def read_preview(path: Path) -> np.ndarray:
    with Image.open(path) as picture:
        return np.asarray(picture.convert("RGB"))


def write_preview(path: Path, pixels: np.ndarray) -> Path:
    Image.fromarray(pixels).save(path, quality=90)
    return path


def describe(name: str, result: EnhanceResult, seconds: float, strength: float = FULL_STRENGTH) -> dict[str, str]:
    """What the page shows about one result, as column -> text."""
    raw = result.raw
    height, width = raw.shape
    return {
        "file": name,
        **shot_details(raw),
        "ratio": f"{result.ratio:.1f} ({'auto' if result.ratio_is_auto else 'set'})",
        "white balance": white_balance_text(result),
        "size": f"{width} x {height}",
        "model": result.model_label,
        **({"frames": f"{result.frames} merged"} if result.frames > 1 else {}),
        **({"strength": f"{strength:g} %"} if strength < FULL_STRENGTH else {}),
        **({"dark frame": result.dark_frame} if result.dark_frame else {}),
        "seconds": f"{seconds:.1f}",
    }


def shot_details(raw: RawImage) -> dict[str, str]:
    """The raw's capture details as people read them (EXIF): camera, lens, ISO, exposure, aperture, focal length,
    date; "-" where the raw does not say."""
    shot = raw.shot
    return {
        "camera": shot.camera or "unknown",
        "lens": shot.lens or "-",
        "ISO": f"{shot.iso:g}" if shot.iso else "-",
        "exposure": _exposure(shot.exposure_time),
        "aperture": f"f/{shot.f_number:g}" if shot.f_number else "-",
        "focal length": f"{shot.focal_length:g} mm" if shot.focal_length else "-",
        "taken": shot.taken.strftime("%Y-%m-%d %H:%M") if shot.taken else "-",
    }


def white_balance_text(result: EnhanceResult) -> str:
    red, _, blue = result.gains if result.gains is not None else result.raw.white_balance
    names = {WhiteBalance.CAMERA: "as shot", WhiteBalance.AUTO: "auto", WhiteBalance.DAYLIGHT: "daylight"}
    return f"{names.get(result.white_balance, str(result.white_balance))} (R x{red:.2f}, B x{blue:.2f})"


def _exposure(seconds: float | None) -> str:
    if not seconds:
        return "-"
    return f"{seconds:g} s" if seconds >= 1 else f"1/{round(1 / seconds)} s"


def details_markdown(results: Sequence[PageResult], problems: Sequence[str]) -> str:
    """A table per result, one row per detail: it reads on a phone, where a wide table would need scrolling."""
    lines = []
    for result in results:
        lines += [f"| {_cell(result.name)} | |", "|---|---|"]
        lines += [f"| {_cell(k)} | {_cell(v)} |" for k, v in result.details.items() if k != "file"]
        lines.append("")
    lines += [f"- **failed:** {_cell(p)}" for p in problems]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def user_message(exc: BaseException, path: Path) -> str:
    """A one-line message naming the file as the user called it, not by its path on the server."""
    if isinstance(exc, JobTimeError):
        return f"{path.name}: {exc}"
    if isinstance(exc, SeeispError):
        return str(exc).replace(str(path), path.name).replace("\n", " ")
    if isinstance(exc, MemoryError):
        return f"{path.name}: out of memory while processing it"
    return f"{path.name}: could not be processed ({type(exc).__name__})"


def split_uploads(files: Sequence[str] | str | None) -> tuple[list[str], list[str]]:
    """(raws, messages): the uploads whose names say raw, and a line for each of the others."""
    raws, refused = [], []
    for file in [files] if isinstance(files, str) else files or []:
        if is_raw_name(file):
            raws.append(file)
        else:
            refused.append(f"{Path(file).name}: not a raw file from a camera (NEF, CR3, ARW, RAF, DNG...); left out")
    return raws, refused


def run_files(
    enhancer: Enhancer,
    files: Sequence[str] | str | None,
    options: RunOptions,
    session: str = "local",
    max_files: int = MAX_FILES_PER_RUN,
    status: Status | None = None,
    dark_frame: str | None = None,
    warn: Callable[[str], None] | None = None,
) -> PageRun:
    """The Enhance button: every uploaded file in turn, into a new run folder of ``session``; the oldest runs are
    then deleted where the disk caps ask for it.

    Files that fail are listed (and passed to ``warn``) while the others go on; ``SeeispError`` when none
    succeeds (the first problem), when there are no files or too many, and at once for a dark frame that
    cannot be read or saw light.
    """
    status = status or Status()
    paths = [Path(f) for f in ([files] if isinstance(files, str) else files or [])]
    if not paths:
        raise SeeispError("Choose one or more raw files first.")
    if len(paths) > max_files:
        raise SeeispError(f"At most {max_files} files per run, got {len(paths)}.")
    enhancer.session(options.model)  # an unknown model fails before any work
    dark = None
    if dark_frame:
        status.set("reading the dark frame", None)
        try:
            dark = enhancer.read_dark_frame(Path(dark_frame))
        except SeeispError as exc:
            raise SeeispError(f"Dark frame {user_message(exc, Path(dark_frame))}") from None

    folder = enhancer.workspace.new_run(session)
    results: list[PageResult] = []
    problems: list[str] = []
    if options.burst and len(paths) > 1:
        for frame in paths[1:]:  # enhance_upload checks the first
            enhancer.check_upload(frame)
        try:
            result = enhancer.enhance_upload(
                paths[0], options, folder / "00", status, dark, f"{paths[0].name}: ", paths[1:], warn
            )
        except SeeispError as exc:
            enhancer.workspace.trim(folder)
            raise SeeispError(user_message(exc, paths[0])) from None
        enhancer.workspace.trim(folder)
        return PageRun((result,), ())
    for index, path in enumerate(paths):
        prefix = f"{path.name} ({index + 1} of {len(paths)}): " if len(paths) > 1 else f"{path.name}: "
        try:
            results.append(enhancer.enhance_upload(path, options, folder / f"{index:02d}", status, dark, prefix))
        except Exception as exc:
            if not isinstance(exc, SeeispError):
                log.exception("unexpected failure on %s", path)
            problems.append(user_message(exc, path))
            if warn is not None and len(paths) > 1:
                warn(problems[-1])
    if not results:
        others = len(problems) - 1
        more = f" (and {others} more file{'s' if others > 1 else ''} failed)" if others else ""
        enhancer.workspace.trim(folder)
        raise SeeispError(problems[0] + more)
    run = PageRun(tuple(results), tuple(problems))
    if len(run.downloads) > 1:
        status.set("packing the ZIP", None)
        run = PageRun(run.results, run.problems, zip_downloads(folder / ZIP_NAME, run.downloads))
    enhancer.workspace.trim(folder)
    return run


def zip_downloads(path: Path, files: Sequence[Path]) -> Path:
    """Every download in one ZIP, stored as they are (PNG, JPEG and DNG are compressed already)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        taken: set[str] = set()
        for file in files:
            name = file.name
            while name in taken:  # two uploads of one name, from different folders
                name = f"{Path(name).stem}-{len(taken)}{file.suffix}"
            taken.add(name)
            archive.write(file, name)
    return path


def result_at_strength(result: PageResult, percent: float, status: Status | None = None) -> PageResult:
    """``result`` with its downloads and preview at ``percent``, from its kept ``Blend`` (no network).

    The run's own files stay; those of another strength are written once into ``strength-N/`` beside them (same
    names), and the files of any other strength are deleted. ``SeeispError`` when the result has expired.
    """
    if percent == result.strength:
        return result
    expired = SeeispError(f"{result.name}: this result has expired")
    if result.linear is None or not result.linear.is_dir() or result.expired:
        raise expired
    status = status or Status()
    folder = result.linear.parent
    target = folder if percent == result.run_strength else strength_folder(folder, percent)
    downloads = tuple(target / path.name for path in result.downloads)
    if not all(path.is_file() for path in downloads):
        status.set(f"{result.name}: blending at {percent:g} %", None)
        try:
            enhanced = Blend.load(result.linear).at(percent)
            target.mkdir(exist_ok=True)
        except OSError:  # deleted since, to keep the disk within its caps
            raise expired from None
        for path in downloads:
            status.set(f"{result.name}: writing {OUTPUT_FORMATS[path.suffix[1:]].split()[0]} at {percent:g} %", None)
            enhanced.save(path)
    remove_other_strengths(folder, keep=target)
    details = {k: v for k, v in result.details.items() if k not in ("strength", "seconds")}
    if percent < FULL_STRENGTH:
        details["strength"] = f"{percent:g} %"
    details["seconds"] = result.details.get("seconds", "")
    return dataclasses.replace(
        result,
        seeisp_preview=result.preview_at(percent),
        downloads=downloads,
        details=details,
        strength=percent,
    )


def run_at_strength(enhancer: Enhancer, run: PageRun, percent: float, status: Status | None = None) -> PageRun:
    """Every result of ``run`` at ``percent`` (``result_at_strength``), with a ZIP of them when there is one; then
    the oldest runs are deleted where the disk caps ask for it (never this one)."""
    results = tuple(result_at_strength(result, percent, status) for result in run.results)
    kept = [result.linear for result in results if result.linear is not None]
    if not kept:
        return run
    folder = kept[0].parent.parent  # the run's: a folder per result in it, and the run's ZIP
    zip_path = None
    if run.zip_path is not None:
        if all(result.strength == result.run_strength for result in results):
            zip_path = folder / ZIP_NAME
        else:
            if status is not None:
                status.set("packing the ZIP", None)
            target = strength_folder(folder, percent)
            target.mkdir(exist_ok=True)
            zip_path = zip_downloads(target / ZIP_NAME, [p for r in results for p in r.downloads])
        remove_other_strengths(folder, keep=zip_path.parent)
    enhancer.workspace.trim(folder)
    return PageRun(results, run.problems, zip_path)


def strength_folder(folder: Path, percent: float) -> Path:
    return folder / f"{STRENGTH_PREFIX}{percent:g}"


def remove_other_strengths(folder: Path, keep: Path) -> None:
    """Delete the files of ``folder`` at other strengths than ``keep``'s: one other set at most stays on disk."""
    for other in folder.glob(f"{STRENGTH_PREFIX}*"):
        if other != keep:
            shutil.rmtree(other, ignore_errors=True)


@dataclass(frozen=True)
class PageDemo:
    path: Path
    ratio: float


def write_demo_raw_for_page(folder: Path) -> PageDemo | None:
    """The project's own simulated dark raw, for the one-click example; None when it cannot be made."""
    try:
        from ..eval.demo import write_demo_raw

        demo = write_demo_raw(folder)
    except Exception:
        log.exception("the demo raw could not be generated")
        return None
    return PageDemo(demo.raw_path, demo.ratio)
