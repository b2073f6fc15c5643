"""The web page: upload dark raws, see seeisp next to naive brightening, download the result.

    app = build_app(UISettings(port=7860))
    app.serve()          # blocks; or app.launch(prevent_thread_lock=True) ... app.close()

Only glue lives here: reading, enhancing, the LibRaw baseline and writing images are the
library's own functions. Everything the page writes (uploads, results, the demo raw) stays
in one temporary folder per app, which is deleted when the app closes.
"""

from __future__ import annotations

import atexit
import errno
import html
import itertools
import logging
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .baseline import libraw_render
from .dark_frame import DarkFrame, read_dark_frame
from .enhance import EnhanceResult, enhance_file
from .ensemble import ENSEMBLE_SUFFIX
from .errors import ModelError, RawReadError, SeeispError
from .models import MODELS, available_models, model_path
from .output import write_image
from .ratio import MAX_RATIO, MIN_RATIO, parse_ratio
from .raw import RAW_EXTENSIONS, is_raw_name
from .session import ModelSession
from .white_balance import WhiteBalance

# Gradio fixes some of its temporary paths when it is imported, so point them into a folder of
# ours first: the page writes nothing outside it, and it is deleted when the process ends.
PROCESS_DIR = Path(tempfile.mkdtemp(prefix="seeisp-ui-")).resolve()
atexit.register(shutil.rmtree, PROCESS_DIR, ignore_errors=True)
os.environ["GRADIO_TEMP_DIR"] = str(PROCESS_DIR)

import gradio as gr  # noqa: E402

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
DEFAULT_MAX_FILE_SIZE = "200MB"
DEFAULT_CONCURRENCY = 1
MAX_FILES_PER_RUN = 10
KEEP_RUNS = 4  # result folders kept on disk; older runs are deleted as new ones start
QUEUE_SIZE = 32  # requests waiting beyond this are turned away instead of piling up
WHITE_BALANCE_CHOICES = [("As shot", "camera"), ("Auto", "auto"), ("Daylight", "daylight")]
FILE_TYPES = sorted(RAW_EXTENSIONS)  # gradio and the browser both match these case-insensitively
DARK_FRAME_INFO = (
    "optional: a raw shot with the lens cap on, same camera and ISO; measures the sensor's real black level"
)

_SIZE_UNITS = {"": 1, "B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "KIB": 1024, "MIB": 1024**2, "GIB": 1024**3}


def parse_size(text: str | int) -> int:
    """'200MB', '1.5 GB', '512KiB' or a number of bytes -> bytes. ``ValueError`` when it is not a size."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(text))
    unit = match.group(2).upper() if match else ""
    if not match or unit not in _SIZE_UNITS or float(match.group(1)) <= 0:
        raise ValueError(f"not a file size: {text!r} (use e.g. 200MB, 1GB)")
    return int(float(match.group(1)) * _SIZE_UNITS[unit])


@dataclass(frozen=True)
class UISettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    max_file_size: str = DEFAULT_MAX_FILE_SIZE
    concurrency: int = DEFAULT_CONCURRENCY
    share: bool = False  # a public *.gradio.live link through Gradio's servers
    max_files: int = MAX_FILES_PER_RUN
    keep_runs: int = KEEP_RUNS

    def __post_init__(self) -> None:
        try:
            parse_size(self.max_file_size)
        except ValueError as exc:
            raise SeeispError(f"--max-file-size: {exc}") from None
        if not 0 < self.port < 65536:
            raise SeeispError(f"--port must be between 1 and 65535, got {self.port}")
        if self.concurrency < 1:
            raise SeeispError(f"--concurrency must be at least 1, got {self.concurrency}")
        if self.max_files < 1 or self.keep_runs < 1:
            raise SeeispError("the files per run and the runs kept must be at least 1")

    @property
    def max_file_bytes(self) -> int:
        return parse_size(self.max_file_size)


class Workspace:
    """The app's one temporary folder: Gradio's upload cache, the demo raw and a folder per run."""

    def __init__(self, keep_runs: int = KEEP_RUNS):
        PROCESS_DIR.mkdir(exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix="app-", dir=PROCESS_DIR))
        self.keep_runs = keep_runs
        self._runs = self.root / "results"
        self._runs.mkdir()
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        atexit.register(self.close)

    def new_run(self) -> Path:
        """A fresh folder for one request's outputs; the oldest runs beyond ``keep_runs`` are deleted."""
        with self._lock:
            folder = self._runs / f"run-{next(self._counter):06d}"
            folder.mkdir()
            for old in sorted(self._runs.iterdir())[: -self.keep_runs]:
                shutil.rmtree(old, ignore_errors=True)
        return folder

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


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
        ensemble: bool = False,
        white_balance: WhiteBalance = WhiteBalance.CAMERA,
        dark_frame: DarkFrame | None = None,
    ) -> PageResult:
        """Enhance one uploaded raw, render the naive brightening at the same ratio, write both and the downloads.

        ``progress(fraction, description)`` is called with this file's fraction done. ``ensemble``: the
        8-orientation self-ensemble of ``seeisp.ensemble`` (8 passes, better quality). The naive
        brightening gets the same ``white_balance`` gains, so the two pictures compare like for like.
        ``dark_frame``: its black level is taken off the raw before the network (not off the naive brightening,
        which stays LibRaw's own render); ``DarkFrameError`` when it does not fit this raw.
        """
        say = progress or (lambda fraction, desc: None)
        self.check_upload(path)
        label = "seeisp" + (ENSEMBLE_SUFFIX if ensemble else "")
        result = enhance_file(
            path,
            ratio,
            session,
            progress=lambda done, total: say(0.7 * done / total, f"{label}: tile {done}/{total}"),
            ensemble=ensemble,
            white_balance=white_balance,
            dark_frame=dark_frame,
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
    ensemble: bool = False,
    white_balance: str = WhiteBalance.CAMERA.value,
    max_files: int = MAX_FILES_PER_RUN,
    progress: Callable[..., object] | None = None,
    dark_frame: str | None = None,
) -> tuple[tuple[str, str] | None, str, list[str], list[tuple[str, str]], list[PageResult]]:
    """The Enhance button: every uploaded file in turn (``ensemble``: the best-quality box, 8 passes each;
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
                    path, wanted, session, folder / f"{index:02d}", say, bool(ensemble), balance, dark
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


INTRO = """\
# seeisp: see in the dark
Drop one or more **dark raw files** (ARW, NEF, CR2, CR3, DNG, ORF, RW2, RAF, ...). seeisp brightens
them by the amplification ratio and removes the noise; the slider compares it with **naive
brightening** (LibRaw's own render of the raw amplified by the same ratio).
"""


@dataclass
class WebApp:
    """The page plus its workspace and settings. ``close`` stops the server and deletes the workspace."""

    blocks: gr.Blocks
    workspace: Workspace
    settings: UISettings
    demo_raw: Path | None = None

    def launch(self, prevent_thread_lock: bool = True) -> str:
        """Start serving; returns the local URL. Raises ``SeeispError`` when the port cannot be opened."""
        s = self.settings
        _check_address(s.host, s.port)
        try:
            self.blocks.queue(default_concurrency_limit=s.concurrency, max_size=QUEUE_SIZE).launch(
                server_name=s.host,
                server_port=s.port,
                share=s.share,
                max_file_size=s.max_file_bytes,
                allowed_paths=[str(self.workspace.root)],
                prevent_thread_lock=prevent_thread_lock,
                ssr_mode=False,
                quiet=True,
                theme=_theme(),
                css=CSS,
            )
        except OSError:
            raise SeeispError(
                f"cannot listen on {s.host}:{s.port} (port in use or address not available; try another --port)"
            ) from None
        return str(self.blocks.local_url)

    def serve(self) -> None:
        """Serve until Ctrl-C or SIGTERM, then clean up."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            print(f"seeisp web page: {self.launch()}", flush=True)
            if self.blocks.share_url:
                print(f"public link (anyone who has it can use the page): {self.blocks.share_url}", flush=True)
            print("press Ctrl-C to stop", flush=True)
            self.blocks.block_thread()
        finally:
            self.close()

    def close(self) -> None:
        self.blocks.close()
        self.workspace.close()


def _check_address(host: str, port: int) -> None:
    """One line saying why the page cannot listen on ``host:port``, before gradio's server starts (whose own log
    lines would come first, and whose error does not tell a busy port from an address this machine lacks)."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise SeeispError(f"cannot listen on {host}:{port}: no such address ({reason}); try --host 127.0.0.1") from None
    failure: OSError | None = None
    for family, kind, proto, _, address in addresses:  # "localhost" may give ::1 first, where IPv6 is off
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: a closing port is free
            try:
                probe.bind(address)
                return
            except OSError as exc:
                failure = exc
    assert failure is not None  # getaddrinfo gives at least one address or raises
    if failure.errno == errno.EADDRINUSE:
        raise SeeispError(f"cannot listen on {host}:{port}: the port is in use; try another --port")
    if failure.errno == errno.EADDRNOTAVAIL:
        raise SeeispError(f"cannot listen on {host}:{port}: this machine has no such address")
    raise SeeispError(f"cannot listen on {host}:{port} ({failure.strerror or failure})")


# The details table scrolls sideways on a narrow screen instead of wrapping its cells a letter per line.
CSS = "#details table { display: block; overflow-x: auto; } #details th, #details td { white-space: nowrap; }"


def _theme() -> gr.themes.Base:
    # System fonts: the default theme would fetch fonts from Google, which a local tool should not need.
    return gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])


def build_app(settings: UISettings | None = None) -> WebApp:
    """Build the page. Its uploads and results live in a fresh temporary folder."""
    settings = settings or UISettings()
    workspace = Workspace(settings.keep_runs)
    # Gradio reads this when components are made and when the server starts: keep its cache in our folder.
    os.environ["GRADIO_TEMP_DIR"] = str(workspace.root)
    enhancer = Enhancer(workspace, settings.max_file_bytes)
    demo_raw = _write_demo(workspace.root / "demo")
    models = available_models()

    def enhance(
        files,
        auto_ratio,
        ratio,
        model,
        ensemble=False,
        white_balance="camera",
        dark_frame=None,
        progress=gr.Progress(),  # noqa: B008 - gradio's idiom
    ):
        return run_files(
            enhancer,
            files,
            auto_ratio,
            ratio,
            model,
            ensemble,
            white_balance,
            settings.max_files,
            progress,
            dark_frame,
        )

    def select(results: list[PageResult], evt: gr.SelectData):
        return show_selected(results, evt.index)

    def load_demo(auto_ratio: bool, ratio: float):
        """The demo raw, at the ratio it was darkened by; the user's own ratio settings are kept aside and
        put back once it is enhanced (``restore``)."""
        nonlocal demo_raw
        if demo_raw is None or not demo_raw.path.is_file():  # Gradio's cache cleaner may have removed it
            demo_raw = _write_demo(workspace.root / "demo")
        if demo_raw is None:
            raise gr.Error("The demo raw could not be generated.", duration=None, print_exception=False)
        enhancer.allow(demo_raw.path)
        return [str(demo_raw.path)], False, demo_raw.ratio, (auto_ratio, ratio)

    def restore(saved: tuple[bool, float] | None):
        if not saved:
            return gr.Checkbox(), gr.Slider()  # unchanged
        auto_ratio, ratio = saved
        return auto_ratio, gr.Slider(value=ratio, interactive=not auto_ratio)

    with gr.Blocks(title="seeisp", analytics_enabled=False, delete_cache=(900, 3600)) as blocks:
        gr.Markdown(INTRO)
        with gr.Row():
            with gr.Column(scale=1):
                files = gr.File(
                    label="Dark raw files", file_count="multiple", file_types=FILE_TYPES, elem_id="raw-files"
                )
                auto = gr.Checkbox(value=True, label="Estimate the amplification ratio (auto)", elem_id="auto")
                ratio = gr.Slider(
                    MIN_RATIO, MAX_RATIO, value=100, step=1, label="Amplification ratio", interactive=False
                )
                model = gr.Dropdown(
                    models, value=models[0] if models else None, label="Model", info=_model_info(models)
                )
                ensemble = gr.Checkbox(
                    value=False,
                    label="Best quality (8 passes, about 8x slower)",
                    info="Averages the network over 8 orientations of the raw: about +0.5 dB PSNR.",
                    elem_id="ensemble",
                )
                white_balance = gr.Radio(
                    WHITE_BALANCE_CHOICES,
                    value=WhiteBalance.CAMERA.value,
                    label="White balance",
                    info="Auto takes the cast of street lights or candles off, estimated from the denoised picture.",
                    elem_id="white-balance",
                )
                dark_frame = gr.File(
                    label="Dark frame", file_count="single", file_types=FILE_TYPES, height=130, elem_id="dark-frame"
                )
                gr.HTML(_info_text(DARK_FRAME_INFO), elem_id="dark-frame-info", padding=False)
                run = gr.Button("Enhance", variant="primary", elem_id="enhance")
                demo_button = gr.Button("Try the demo raw", elem_id="demo", visible=demo_raw is not None)
                gr.Markdown(
                    f"Up to {settings.max_files} files per run, {settings.max_file_size} per file. "
                    "Files are processed one request at a time and deleted when the server stops."
                )
            with gr.Column(scale=2):
                slider = gr.ImageSlider(
                    label="Naive brightening (left) | seeisp (right)",
                    format="png",
                    type="filepath",
                    interactive=False,
                    elem_id="comparison",
                )
        details = gr.Markdown(label="Details", elem_id="details")
        with gr.Row():
            downloads = gr.File(
                label="Downloads: 16-bit TIFF, PNG, JPEG, linear DNG (for a raw editor)",
                file_count="multiple",
                interactive=False,
                elem_id="downloads",
                scale=1,
                min_width=320,  # on a phone the two go one above the other, file names whole
            )
            gallery = gr.Gallery(
                label="Results (click one to compare it)",
                columns=4,
                height=240,
                format="png",
                fit_columns=False,
                object_fit="contain",
                elem_id="gallery",
                scale=2,
                min_width=320,
            )
        results = gr.State([])
        before_demo = gr.State(None)  # the user's (auto, ratio) while the demo raw runs

        outputs = [slider, details, downloads, gallery, results]
        auto.change(lambda a: gr.Slider(interactive=not a), auto, ratio, queue=False, api_visibility="private")
        inputs = [files, auto, ratio, model, ensemble, white_balance, dark_frame]
        run.click(enhance, inputs, outputs, api_name="enhance")
        demo_button.click(load_demo, [auto, ratio], [files, auto, ratio, before_demo], api_name="demo").then(
            enhance, inputs, outputs, api_visibility="private"
        ).then(restore, before_demo, [auto, ratio], api_visibility="private")
        gallery.select(select, results, slider, api_visibility="private")

    return WebApp(blocks, workspace, settings, demo_raw.path if demo_raw else None)


def _info_text(text: str) -> str:
    """``text`` styled as the info line under a setting; gr.File has no ``info`` of its own."""
    style = "color: var(--block-info-text-color); font-size: var(--block-info-text-size); margin-top: -8px"
    return f'<div style="{style}">{html.escape(text)}</div>'


def _model_info(models: list[str]) -> str:
    if not models:
        return "No model is installed: put an ONNX file in weights/ (see the README)."
    base = [f"{m}: {MODELS[m].description}" for m in models if "-" not in m]
    hints = {"int8": "-int8: fastest on a CPU", "fp16": "-fp16: for GPUs"}
    variants = [hint for suffix, hint in hints.items() if any(m.endswith(f"-{suffix}") for m in models)]
    return "; ".join(base + variants)


@dataclass(frozen=True)
class _Demo:
    path: Path
    ratio: float


def _write_demo(folder: Path) -> _Demo | None:
    """The project's own simulated dark raw, for the one-click example; None when it cannot be made."""
    try:
        from .demo import write_demo_raw

        demo = write_demo_raw(folder)
    except Exception:
        log.exception("the demo raw could not be generated")
        return None
    return _Demo(demo.raw_path, demo.ratio)
