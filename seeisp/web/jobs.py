"""The work behind the page's buttons: check and enhance the uploads, describe the results, write the demo raw.

Only glue lives here: reading, enhancing, the LibRaw baseline and writing images are the
library's own functions.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import gradio as gr

from ..dark_frame import DarkFrame, read_dark_frame
from ..enhance import EnhanceResult, enhance_file
from ..ensemble import ensemble_suffix
from ..errors import ModelError, RawReadError, SeeispError
from ..eval.baseline import libraw_render
from ..models import MODELS, available_models, model_path
from ..output import write_image
from ..ratio import parse_ratio
from ..raw import RAW_EXTENSIONS, is_raw_name
from ..session import ModelSession
from ..white_balance import WhiteBalance
from .settings import MAX_FILES_PER_RUN
from .workspace import Workspace

log = logging.getLogger(__name__)

FILE_TYPES = sorted(RAW_EXTENSIONS)  # gradio and the browser both match these case-insensitively


@dataclass(frozen=True)
class PageResult:
    """One enhanced upload: the two images the slider compares, the downloads and a line of details."""

    name: str
    naive_png: Path
    seeisp_png: Path
    downloads: tuple[Path, ...]  # 16-bit TIFF, PNG, JPEG, linear DNG
    details: dict[str, str] = field(default_factory=dict)


class Enhancer:
    """Turns uploaded files into ``PageResult``s; keeps one ONNX session per model file."""

    def __init__(self, workspace: Workspace, max_file_bytes: int):
        self.workspace = workspace
        self.max_file_bytes = max_file_bytes
        self._sessions: dict[tuple[str, int], ModelSession] = {}
        self._lock = threading.Lock()
        self._own_files: set[tuple[str, int]] = set()  # (name, size) of files the page made: no upload limit

    def allow(self, path: Path) -> None:
        """Take ``path``, a file the page made itself (the demo raw), whatever the upload limit."""
        self._own_files.add((path.name, path.stat().st_size))

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
                f"{path.name}: {size / 1e6:.0f} MB is over the {self.max_file_bytes / 1e6:g} MB upload limit"
            )

    def read_dark_frame(self, path: Path) -> DarkFrame:
        """Check and measure an uploaded dark frame (``seeisp.dark_frame``); raises ``SeeispError`` when it is bad."""
        self.check_upload(path)
        return read_dark_frame(path)

    def enhance_upload(
        self,
        path: Path,
        ratio: float | None,
        session: ModelSession,
        folder: Path,
        progress: Callable[[float, str], None] | None = None,
        passes: int = 1,
        white_balance: WhiteBalance = WhiteBalance.CAMERA,
        dark_frame: DarkFrame | None = None,
    ) -> PageResult:
        """Enhance one uploaded raw, render the naive brightening at the same ratio, write both and the downloads.

        ``progress(fraction, description)`` is called with this file's fraction done. ``passes``: as in
        ``seeisp.enhance_file`` (8 for the best-quality box). The naive
        brightening gets the same ``white_balance`` gains, so the two pictures compare like for like.
        ``dark_frame``: its black level is taken off the raw before the network (not off the naive brightening,
        which stays LibRaw's own render); ``DarkFrameError`` when it does not fit this raw.
        """
        say = progress or (lambda fraction, desc: None)
        self.check_upload(path)
        label = "seeisp" + ensemble_suffix(passes)
        result = enhance_file(
            path,
            model=session,
            ratio=ratio,
            passes=passes,
            white_balance=white_balance,
            dark_frame=dark_frame,
            progress=lambda done, total: say(0.7 * done / total, f"{label}: tile {done}/{total}"),
        )
        say(0.7, f"naive brightening x{result.ratio:.3g}")
        gains = None if result.white_balance is WhiteBalance.CAMERA else result.gains
        naive = libraw_render(path, result.ratio, white_balance=gains)
        say(0.85, "writing TIFF, PNG, JPEG and DNG")
        folder.mkdir(parents=True, exist_ok=True)
        stem = path.stem
        naive_png = write_image(folder / f"{stem}-naive.png", naive)
        downloads = tuple(result.save(folder / f"{stem}-seeisp{suffix}") for suffix in (".tif", ".png", ".jpg", ".dng"))
        return PageResult(
            name=path.name,
            naive_png=naive_png,
            seeisp_png=downloads[1],
            downloads=downloads,
            details=describe(path.name, result),
        )


def describe(name: str, result: EnhanceResult) -> dict[str, str]:
    """What the page shows about one result, as column -> text."""
    raw = result.raw
    height, width = raw.shape
    return {
        "file": name,
        "camera": raw.shot.camera or "unknown",
        "ISO": f"{raw.shot.iso:g}" if raw.shot.iso else "-",
        "exposure": _exposure(raw.shot.exposure_time),
        "ratio": f"{result.ratio:.1f} ({'auto' if result.ratio_is_auto else 'set'})",
        "size": f"{width} x {height}",
        "model": result.model_label,
        **({"dark frame": result.dark_frame} if result.dark_frame else {}),
        "seconds": f"{result.seconds:.2f}",
    }


def _exposure(seconds: float | None) -> str:
    if not seconds:
        return "-"
    return f"{seconds:g} s" if seconds >= 1 else f"1/{round(1 / seconds)} s"


def details_markdown(results: Sequence[PageResult], problems: Sequence[str]) -> str:
    lines = []
    if results:
        columns = list(dict.fromkeys(c for r in results for c in r.details))  # every result's, in order
        lines += ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(_cell(r.details.get(c, "-")) for c in columns) + " |" for r in results]
    lines += [f"- **failed:** {_cell(p)}" for p in problems]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def choose_ratio(auto: bool, ratio: float | str | None) -> float | None:
    """The ratio to enhance with: None to estimate it (the auto box), else a number within the slider's range."""
    return None if auto else parse_ratio(ratio, allow_auto=False)


def _user_message(exc: BaseException, path: Path) -> str:
    """A one-line message naming the file as the user called it, not by its path on the server."""
    if isinstance(exc, SeeispError):
        return str(exc).replace(str(path), path.name).replace("\n", " ")
    if isinstance(exc, MemoryError):
        return f"{path.name}: out of memory while processing it"
    return f"{path.name}: could not be processed ({type(exc).__name__})"


def read_dark_upload(
    enhancer: Enhancer, file: str | None, progress: Callable[..., object] | None = None
) -> DarkFrame | None:
    """The uploaded dark frame, or None; ``gr.Error`` with a one-line message when it cannot be used."""
    if not file:
        return None
    if progress is not None:
        progress(0, desc="reading the dark frame")
    path = Path(file)
    try:
        return enhancer.read_dark_frame(path)
    except SeeispError as exc:
        raise gr.Error(f"Dark frame {_user_message(exc, path)}", duration=None, print_exception=False) from None


def run_files(
    enhancer: Enhancer,
    files: Sequence[str] | str | None,
    auto_ratio: bool,
    ratio: float | None,
    model: str | None,
    passes: int = 1,
    white_balance: str = WhiteBalance.CAMERA.value,
    max_files: int = MAX_FILES_PER_RUN,
    progress: Callable[..., object] | None = None,
    dark_frame: str | None = None,
) -> tuple[tuple[str, str] | None, str, list[str], list[tuple[str, str]], list[PageResult]]:
    """The Enhance button: every uploaded file in turn (``passes``: 8 for the best-quality box;
    ``white_balance``: camera, auto or daylight; ``dark_frame``: an uploaded dark frame, read once for all).

    Returns the slider pair (naive, seeisp) of the first result, the details table, the
    downloads, the gallery and the results. Files that fail are listed (and toasted) while the
    others go on; when none succeeds the first problem is raised as ``gr.Error``, as it is at once for
    a dark frame that cannot be read or saw light.
    """
    paths = [Path(f) for f in ([files] if isinstance(files, str) else files or [])]
    if not paths:
        raise gr.Error("Choose one or more raw files first.", duration=None, print_exception=False)
    if len(paths) > max_files:
        raise gr.Error(f"At most {max_files} files per run, got {len(paths)}.", duration=None, print_exception=False)
    try:
        wanted = choose_ratio(auto_ratio, ratio)
        session = enhancer.session(model)
        balance = WhiteBalance.parse(white_balance)
    except SeeispError as exc:
        raise gr.Error(str(exc), duration=None, print_exception=False) from None
    dark = read_dark_upload(enhancer, dark_frame, progress)

    folder = enhancer.workspace.new_run()
    results: list[PageResult] = []
    problems: list[str] = []
    for index, path in enumerate(paths):

        def say(fraction: float, desc: str, index: int = index, name: str = path.name) -> None:
            if progress is not None:
                progress((index + fraction) / len(paths), desc=f"{name} ({index + 1}/{len(paths)}): {desc}")

        try:
            results.append(
                enhancer.enhance_upload(
                    path,
                    wanted,
                    session,
                    folder / f"{index:02d}",
                    say,
                    passes=passes,
                    white_balance=balance,
                    dark_frame=dark,
                )
            )
        except Exception as exc:
            if not isinstance(exc, SeeispError):
                log.exception("unexpected failure on %s", path)
            problems.append(_user_message(exc, path))
            if len(paths) > 1:
                gr.Warning(problems[-1])
    if not results:
        others = len(problems) - 1
        more = f" (and {others} more file{'s' if others > 1 else ''} failed)" if others else ""
        raise gr.Error(problems[0] + more, duration=None, print_exception=False)

    first = results[0]
    return (
        (str(first.naive_png), str(first.seeisp_png)),
        details_markdown(results, problems),
        [str(p) for r in results for p in r.downloads],
        [(str(r.seeisp_png), r.name) for r in results],
        results,
    )


def show_selected(results: Sequence[PageResult], index: int) -> tuple[str, str] | None:
    """The slider pair of the gallery item the user clicked."""
    if not 0 <= index < len(results):
        return None
    return (str(results[index].naive_png), str(results[index].seeisp_png))


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
