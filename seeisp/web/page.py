"""The page's layout: the Gradio components, how their events call ``jobs``, and the server that serves them.

Above the fold (1366x768 and a 390x844 phone): the upload box, the few settings people change and Enhance;
the rest of the settings fold away under "More settings". A run shows its stage and the seconds left on one
line while the previous result stays on screen; the new result then replaces it and is scrolled into view.
"""

from __future__ import annotations

import html
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import gradio as gr
from gradio.utils import NamedString

from ..errors import SeeispError
from ..models import available_models
from ..ratio import MAX_RATIO, MIN_RATIO
from ..white_balance import WhiteBalance
from .jobs import (
    DEFAULT_FORMATS,
    LOUPE_SIZE,
    OUTPUT_FORMATS,
    Enhancer,
    PageResult,
    PageRun,
    Status,
    details_markdown,
    run_at_strength,
    run_files,
    run_options,
    split_uploads,
    write_demo_raw_for_page,
)
from .settings import UISettings, check_address
from .strength import FULL_STRENGTH
from .workspace import Workspace

QUEUE_SIZE = 32  # requests waiting beyond this are turned away instead of piling up
STATUS_EVERY_S = 0.5  # how often a running request redraws its status line
WHITE_BALANCE_CHOICES = [("As shot", "camera"), ("Auto", "auto"), ("Daylight", "daylight")]
QUALITY_CHOICES = [("Fast", "fast"), ("Better (2 passes)", "better"), ("Best (8 passes)", "best")]
MODEL_LABELS = {  # plain words for the registered models
    "full": "Full: most detail",
    "lite": "Lite: faster",
    "full-int8": "Full, compact: faster on a processor",
    "lite-int8": "Lite, compact: fastest on a processor",
    "full-fp16": "Full, half precision: for graphics cards",
    "lite-fp16": "Lite, half precision: for graphics cards",
}
EXPIRED = (
    "**{name}**: this result has expired. Its files were deleted to keep the server's disk within its limit; "
    "upload the raw again to remake it."
)

INTRO = """\
## seeisp: see in the dark
Drop **dark raw files** from a camera; seeisp brightens them and takes the noise away. The slider compares
it with plain brightening.
"""

# Results: names wrap instead of being cut; the details read as a two-column list; the status line stands out.
CSS = """
#downloads a { overflow-wrap: anywhere; }
#downloads li { margin-bottom: 4px; }
#gallery .caption-label, #gallery .caption { white-space: normal; overflow-wrap: anywhere; }
#comparison label, #loupe label, #navigator label {
    white-space: normal; overflow-wrap: anywhere; max-width: calc(100% - 100px); height: auto;
}
#details table { width: 100%; }
#details td { overflow-wrap: anywhere; }
#status p, #zoom-hint p { margin: 0; }
#zoom-hint { font-size: var(--block-info-text-size); color: var(--block-info-text-color); }
#navigator img { cursor: crosshair; }
#loupe .image-container, #loupe .image-frame { overflow: hidden; display: flex; justify-content: center; }
#loupe img { width: auto !important; height: auto !important; max-width: none !important;
    max-height: none !important; object-fit: none !important; flex: none; cursor: move; }
"""

# Gradio 6 leaves the upload box's "add files" button labelled with its untranslated key, "common.upload"; and a
# file dropped on the box once it lists files is ignored (only its empty drop area and that button take files):
# such a drop is handed to the button's file input, which adds it to the list.
PAGE_JS = """() => {
    const name = () => document.querySelectorAll('button[aria-label="common.upload"]').forEach(button => {
        button.setAttribute('aria-label', 'Add files');
        button.setAttribute('title', 'Add files');
    });
    new MutationObserver(name).observe(document.body, {childList: true, subtree: true});
    name();
    const listingBox = event => {
        const box = event.target.closest && event.target.closest('#raw-files');
        return box && !event.target.closest('.upload-container') ? box : null;
    };
    document.addEventListener('dragover', event => { if (listingBox(event)) event.preventDefault(); });
    document.addEventListener('drop', event => {
        const box = listingBox(event);
        const input = box && box.querySelector('input[type=file]');
        if (!input || !event.dataTransfer || !event.dataTransfer.files.length) return;
        event.preventDefault();
        input.files = event.dataTransfer.files;
        input.dispatchEvent(new Event('change', {bubbles: true}));
    });
}"""

SCROLL_TO_RESULT = """() => {
    document.querySelector('#comparison')?.scrollIntoView({behavior: 'smooth', block: 'start'});
}"""


@dataclass
class WebApp:
    """The page plus its workspace and settings. ``close`` stops the server and deletes the workspace."""

    blocks: gr.Blocks
    workspace: Workspace
    settings: UISettings
    enhancer: Enhancer
    demo_raw: Path | None = None
    warm_up: threading.Thread | None = None  # measures this machine's speeds once the server is up

    def launch(self, prevent_thread_lock: bool = True) -> str:
        """Start serving; returns the local URL. Raises ``SeeispError`` when the port cannot be opened."""
        s = self.settings
        check_address(s.host, s.port)
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
                js=PAGE_JS,
            )
        except OSError:
            raise SeeispError(
                f"cannot listen on {s.host}:{s.port} (port in use or address not available; try another --port)"
            ) from None
        if self.warm_up is not None and not self.warm_up.is_alive() and self.warm_up.ident is None:
            self.warm_up.start()
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
        if self.warm_up is not None and self.warm_up.is_alive():
            self.warm_up.join()  # ONNX Runtime aborts the process if it ends during a run
        self.workspace.close()


def _theme() -> gr.themes.Base:
    # System fonts: the default theme would fetch fonts from Google, which a local tool should not need.
    return gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])


def raw_files(**options) -> gr.File:
    """A ``gr.File`` for raws, without the browser's type check, whose error state sticks (the page's ``upload``
    event drops what is not a raw instead, with a message, and the box stays usable), and without the empty
    temporary file Gradio 6 makes, and never uses, for each file of each request (they piled up in the cache)."""
    box = gr.File(**options)
    box._process_single_file = lambda f: NamedString(f.path)  # the one step that made them
    return box


def file_url(path: Path) -> str:
    return "gradio_api/file=" + quote(str(path))


def downloads_html(results: Sequence[PageResult], zip_path: Path | None = None) -> str:
    """Links to each result's files, sizes in MiB, and the ZIP of all of them; expired ones say so; the strength
    they were written at when it is not 100 %."""
    items = [f"<li>written at strength {r.strength:g} %</li>" for r in results[:1] if r.strength < FULL_STRENGTH]
    for result in results:
        if result.expired:
            items.append(f"<li>{html.escape(result.name)}: expired (deleted to free disk space)</li>")
            continue
        for path in result.downloads:
            items.append(_link(path, OUTPUT_FORMATS[path.suffix[1:]]))
    if zip_path is not None and zip_path.is_file():
        items.append(_link(zip_path, "all of them", strong=True))
    return "<ul>" + "".join(items) + "</ul>" if items else ""


def _link(path: Path, kind: str, strong: bool = False) -> str:
    size = path.stat().st_size / 2**20
    name = html.escape(path.name)
    link = f'<a href="{file_url(path)}" download="{name}">{name}</a>'
    return f"<li>{'<strong>' + link + '</strong>' if strong else link} ({html.escape(kind)}, {size:.1f} MiB)</li>"


def slider_label(result: PageResult) -> str:
    return f"{result.name}: plain brightening (left), seeisp (right)"


def gallery_items(results: Sequence[PageResult]) -> list[tuple[str, str]]:
    return [(str(r.seeisp_preview), r.name) for r in results]


def loupe_label(result: PageResult, strength: float) -> str:
    return f"{result.name} at 100 % (1:1 pixels), strength {strength:g} %: click it to move"


def loupe_view(result: PageResult, strength: float, centre: tuple[float, float] | None) -> gr.Image:
    """The 1:1 view's picture and label, or an empty view when the result has expired."""
    try:
        return gr.Image(value=result.loupe(strength, centre), label=loupe_label(result, strength))
    except SeeispError:
        return gr.Image(value=None, label="1:1 view: this result has expired")


def replace_in(history: Sequence[PageResult], results: Sequence[PageResult]) -> list[PageResult]:
    """``history`` with each of ``results`` in place of its older self (the same kept ``Blend``)."""
    newer = {r.linear: r for r in results if r.linear is not None}
    return [newer.get(r.linear, r) if r.linear is not None else r for r in history]


def build_app(settings: UISettings | None = None, warm_up: bool = True) -> WebApp:
    """Build the page. Its uploads and results live in a fresh temporary folder. ``warm_up`` enhances the demo raw
    once in the background, so the first run's estimate of the time left already has this machine's speeds."""
    settings = settings or UISettings()
    workspace = Workspace(settings.session_bytes, settings.total_bytes)
    # Gradio reads this when components are made and when the server starts: its cache is our folder, so the
    # uploads land in it, and the results, already inside it, are served where they are instead of copied.
    os.environ["GRADIO_TEMP_DIR"] = str(workspace.root)
    enhancer = Enhancer(workspace, settings.max_file_bytes, settings.job_bytes)
    demo = write_demo_raw_for_page(workspace.root / "demo")
    models = available_models()
    if demo is not None:
        enhancer.allow(demo.path)
    warming = None
    if warm_up and demo is not None and models:
        warming = threading.Thread(target=enhancer.warm_up, args=(demo.path, models[0]), daemon=True)

    def accept_uploads(files):
        """Keep the raws of an upload; each other file goes with a message, and the box stays ready for more."""
        raws, refused = split_uploads(files)
        for message in refused:
            gr.Warning(message, duration=15)
        if isinstance(files, str):  # the dark frame's box holds one file
            return raws[0] if raws else None
        return raws or None

    def enhance(
        files,
        auto_ratio,
        ratio,
        model,
        quality="fast",
        white_balance="camera",
        formats=DEFAULT_FORMATS,
        dark_frame=None,
        strength=FULL_STRENGTH,
        history=None,
        ev=0.0,
        burst=False,
        request: gr.Request = None,
    ) -> Iterator[tuple]:
        """The Enhance button: a status line every half second while the run works, then the results."""
        try:
            options = run_options(auto_ratio, ratio, model, quality, white_balance, formats, strength, ev, burst)
        except SeeispError as exc:
            raise gr.Error(str(exc), duration=None, print_exception=False) from None
        session = getattr(request, "session_hash", None) or "local"
        status = Status(settings.job_time)
        outcome: dict[str, object] = {}
        warnings: list[str] = []

        def work() -> None:
            try:
                outcome["run"] = run_files(
                    enhancer, files, options, session, settings.max_files, status, dark_frame, warnings.append
                )
            except Exception as exc:  # handed to the request's thread, which shows it
                outcome["error"] = exc

        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        shown = 0
        while worker.is_alive():
            for message in warnings[shown:]:
                gr.Warning(message, duration=None)
            shown = len(warnings)
            yield (gr.skip(), status.text(), *[gr.skip()] * 11)
            worker.join(STATUS_EVERY_S)
        for message in warnings[shown:]:
            gr.Warning(message, duration=None)
        if "error" in outcome:
            error = outcome["error"]
            message = str(error) if isinstance(error, SeeispError) else f"failed ({type(error).__name__})"
            raise gr.Error(message, duration=None, print_exception=False)
        run: PageRun = outcome["run"]  # type: ignore[assignment]
        yield show_run(run, list(history or []), auto_ratio)

    def show_run(run: PageRun, history: list[PageResult], auto_ratio: bool) -> tuple:
        first = run.results[0]
        history = list(run.results) + [r for r in history if not r.expired]
        used = f"Amplification ratio: x{first.ratio:.1f} used ({'estimated' if auto_ratio else 'as set'})"
        return (
            gr.ImageSlider(value=(str(first.naive_preview), str(first.seeisp_preview)), label=slider_label(first)),
            f"Done: {len(run.results)} file{'s' if len(run.results) > 1 else ''} enhanced"
            + (f", {len(run.problems)} failed" if run.problems else "")
            + ".",
            details_markdown(run.results, run.problems),
            downloads_html(run.results, run.zip_path),
            [str(p) for p in run.downloads],
            gallery_items(history),
            gr.Slider(value=round(first.ratio), label=used),
            history,
            first,
            run,
            gr.Image(value=str(first.seeisp_preview)),
            loupe_view(first, first.strength, None),
            None,
        )

    def select(history: list[PageResult], evt: gr.SelectData):
        if not 0 <= evt.index < len(history):
            return (gr.skip(),) * 10
        chosen = history[evt.index]  # the gallery shows the history as it was after the last run
        if chosen.expired:  # deleted since the gallery was drawn
            return gr.skip(), EXPIRED.format(name=html.escape(chosen.name)), *(gr.skip(),) * 8
        pair = (str(chosen.naive_preview), str(chosen.seeisp_preview))
        return (
            gr.ImageSlider(value=pair, label=slider_label(chosen)),
            f"Showing {chosen.name}.",
            details_markdown([chosen], []),
            downloads_html([chosen]),
            chosen,
            PageRun((chosen,)),
            gr.Slider(value=chosen.strength),  # the strength its files have
            gr.Image(value=str(chosen.seeisp_preview)),
            loupe_view(chosen, chosen.strength, None),
            None,  # the 1:1 view starts in the middle
        )

    def preview_strength(shown: PageResult | None, strength: float, centre):
        """The comparison and the 1:1 view at another strength at once, from the two previews and the kept blend;
        the files follow when the slider is let go (``write_strength``)."""
        if shown is None:
            return gr.skip(), gr.skip(), gr.skip()
        if shown.expired:
            return gr.skip(), EXPIRED.format(name=html.escape(shown.name)), gr.skip()
        pair = (str(shown.naive_preview), str(shown.preview_at(strength)))
        note = f"Strength {strength:g} %: shown; the files follow when you let go of the slider."
        return gr.ImageSlider(value=pair, label=slider_label(shown)), note, loupe_view(shown, strength, centre)

    def write_strength(listed: PageRun | None, strength: float, history: list[PageResult]):
        """The listed downloads written again at the slider's strength, from each result's kept blend (no network)."""
        if listed is None or all(r.strength == strength for r in listed.results):
            yield (gr.skip(),) * 8
            return
        writing = f"Writing the files at strength {strength:g} % (no network)…"
        yield (writing, gr.skip(), f"<p>{writing}</p>", *(gr.skip(),) * 5)
        try:
            run = run_at_strength(enhancer, listed, strength)
        except SeeispError:
            names = ", ".join(r.name for r in listed.results)
            yield (
                EXPIRED.format(name=html.escape(names)),
                gr.skip(),
                downloads_html(listed.results),
                *(gr.skip(),) * 5,
            )
            return
        history = replace_in(history or [], run.results)
        yield (
            f"Files written at strength {strength:g} %.",
            details_markdown(run.results, run.problems),
            downloads_html(run.results, run.zip_path),
            [str(p) for p in run.downloads],
            gallery_items(history),
            history,
            run.results[0],
            run,
        )

    def look_at(shown: PageResult | None, strength: float, evt: gr.SelectData):
        """A click on the navigator (the whole picture, small): the 1:1 view shows that place."""
        if shown is None or not isinstance(evt.index, (list, tuple)):
            return gr.skip(), gr.skip()
        centre = shown.full_size_point(*evt.index[:2])
        return loupe_view(shown, strength, centre), centre

    def pan(shown: PageResult | None, strength: float, centre, evt: gr.SelectData):
        """A click on the 1:1 view: the place clicked becomes its middle."""
        if shown is None or not isinstance(evt.index, (list, tuple)):
            return gr.skip(), gr.skip()
        top, left, _, _ = shown.loupe_box(centre)
        centre = (left + evt.index[0], top + evt.index[1])
        return loupe_view(shown, strength, centre), centre

    def run_demo(model, quality, white_balance, formats, strength, history, request: gr.Request):
        """The demo raw at the ratio it was darkened by; the user's files and settings stay as they are."""
        nonlocal demo
        if demo is None or not demo.path.is_file():  # Gradio's cache cleaner may have removed it
            demo = write_demo_raw_for_page(workspace.root / "demo")
        if demo is None:
            raise gr.Error("The demo raw could not be generated.", duration=None, print_exception=False)
        enhancer.allow(demo.path)
        choices = (model, quality, white_balance, formats)
        yield from enhance([str(demo.path)], False, demo.ratio, *choices, None, strength, history, request=request)

    def busy():
        waiting = "Waiting for the server (other runs go first)…"  # until the run's own first status line
        return gr.Button("Working…", interactive=False), gr.Button(interactive=False), waiting

    def idle():
        return gr.Button("Enhance", interactive=True), gr.Button(interactive=True)

    def forget_session(request: gr.Request):
        if request is not None and request.session_hash:
            workspace.forget(request.session_hash)

    with gr.Blocks(title="seeisp", analytics_enabled=False, delete_cache=(900, 3600)) as blocks:
        gr.Markdown(INTRO, elem_id="intro")
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=300):
                files = raw_files(label="Dark raw files", file_count="multiple", height=120, elem_id="raw-files")
                burst = gr.Checkbox(
                    value=False,
                    label="Merge the files as one burst (frames of one scene)",
                    elem_id="burst",
                    visible=False,  # shown once several files are chosen
                )
                with gr.Row(elem_id="exposure"):
                    auto = gr.Checkbox(value=True, label="Auto brightness", elem_id="auto", min_width=100, scale=0)
                    ratio = gr.Slider(
                        MIN_RATIO,
                        MAX_RATIO,
                        value=100,
                        step=1,
                        label="Amplification ratio",
                        interactive=False,
                        elem_id="ratio",
                        scale=2,
                    )
                    ev = gr.Slider(
                        -3,
                        3,
                        value=0,
                        step=0.1,
                        label="Exposure, EV",
                        info="stops on top of the ratio",
                        elem_id="ev",
                        scale=1,
                    )
                with gr.Row():
                    quality = gr.Radio(QUALITY_CHOICES, value="fast", label="Quality", elem_id="quality", min_width=200)
                    white_balance = gr.Radio(
                        WHITE_BALANCE_CHOICES,
                        value=WhiteBalance.CAMERA.value,
                        label="White balance",
                        elem_id="white-balance",
                        min_width=200,
                    )
                with gr.Row():
                    run = gr.Button("Enhance", variant="primary", elem_id="enhance", scale=2)
                    demo_button = gr.Button("Try the demo", elem_id="demo", visible=demo is not None, scale=1)
                status = gr.Markdown("", label="Status", elem_id="status")
                with gr.Accordion("More settings", open=False, elem_id="more"):
                    formats = gr.CheckboxGroup(
                        [(label, fmt) for fmt, label in OUTPUT_FORMATS.items()],
                        value=list(DEFAULT_FORMATS),
                        label="Files to download",
                        elem_id="formats",
                    )
                    model = gr.Dropdown(
                        [(MODEL_LABELS.get(m, m), m) for m in models],
                        value=models[0] if models else None,
                        label="Model",
                        info=None if models else "No model is installed: see the README.",
                        elem_id="model",
                    )
                    dark_frame = raw_files(label="Dark frame", file_count="single", height=100, elem_id="dark-frame")
                    gr.Markdown(
                        "A dark frame is a raw shot with the lens cap on, same camera and ISO: it measures the "
                        "sensor's real black level, which makes very dark pictures cleaner.",
                        elem_id="dark-frame-info",
                    )
                    gr.Markdown(
                        f"Up to {settings.max_files} files per run, {settings.max_file_size} per file. Your results "
                        "stay here while this page is open (the oldest go when the server's disk fills)."
                    )
            with gr.Column(scale=2, min_width=300):
                slider = gr.ImageSlider(
                    label="Plain brightening (left), seeisp (right)",
                    type="filepath",
                    interactive=False,
                    buttons=["fullscreen", "download"],
                    max_height=620,
                    elem_id="comparison",
                )
                gr.Markdown(
                    "Drag the handle to compare; scroll or pinch on the picture to zoom, or open it full screen "
                    "with the button at its top right. Below, the result at 100 % (1:1 pixels): click the navigator "
                    "to choose where.",
                    elem_id="zoom-hint",
                )
                with gr.Row(equal_height=False, elem_id="zoom"):
                    navigator = gr.Image(
                        label="Navigator",
                        type="filepath",
                        interactive=False,
                        height=LOUPE_SIZE[1] // 2,
                        buttons=[],
                        elem_id="navigator",
                        scale=1,
                        min_width=140,
                    )
                    loupe = gr.Image(
                        label="1:1 view (100 %)",
                        interactive=False,
                        format="png",
                        height=LOUPE_SIZE[1],
                        buttons=["fullscreen"],
                        elem_id="loupe",
                        scale=3,
                        min_width=280,
                    )
                strength = gr.Slider(
                    0,
                    FULL_STRENGTH,
                    value=FULL_STRENGTH,
                    step=5,
                    label="Strength of the noise removal, %",
                    info="Less keeps some of the grain: seeisp's picture blended with plain brightening, lightly "
                    "smoothed. Shown at once; the files follow when you let go (no new run).",
                    elem_id="strength",
                )
                downloads = gr.HTML("", label="Downloads", elem_id="downloads", padding=False)
                download_files = gr.File(
                    label="Files", file_count="multiple", visible=False
                )  # the same files, for the API
                details = gr.Markdown(label="Details", elem_id="details")
                gallery = gr.Gallery(
                    label="Your results (choose one to compare it)",
                    columns=4,
                    height=200,
                    object_fit="contain",
                    allow_preview=False,
                    elem_id="gallery",
                )
        history = gr.State([])
        shown = gr.State(None)  # the result in the comparison
        listed = gr.State(None)  # the PageRun whose downloads are listed: the strength's files follow it
        loupe_centre = gr.State(None)  # x, y in the full-size picture of the 1:1 view; None: its middle

        # Queued, as the messages about refused files travel with the queue's events
        files.upload(accept_uploads, files, files, api_visibility="private", show_progress="hidden")
        dark_frame.upload(accept_uploads, dark_frame, dark_frame, api_visibility="private", show_progress="hidden")
        files.change(
            lambda f: gr.Checkbox(visible=len(f or []) > 1), files, burst, queue=False, api_visibility="private"
        )
        auto.change(lambda a: gr.Slider(interactive=not a), auto, ratio, queue=False, api_visibility="private")
        outputs = [slider, status, details, downloads, download_files, gallery, ratio, history, shown, listed]
        outputs += [navigator, loupe, loupe_centre]
        quiet = {"show_progress": "hidden"}  # the status line is the progress: the old result stays visible
        inputs = [files, auto, ratio, model, quality, white_balance, formats, dark_frame, strength, history, ev, burst]
        for button, handler, handler_inputs, name in (
            (run, enhance, inputs, "enhance"),
            (demo_button, run_demo, [model, quality, white_balance, formats, strength, history], "demo"),
        ):
            started = button.click(busy, None, [run, demo_button, status], queue=False, api_visibility="private")
            finished = started.then(handler, handler_inputs, outputs, api_name=name, **quiet)
            finished.success(idle, None, [run, demo_button], queue=False, api_visibility="private").then(
                None, js=SCROLL_TO_RESULT, api_visibility="private"
            )
            finished.failure(idle, None, [run, demo_button], queue=False, api_visibility="private")
        chosen = [slider, status, details, downloads, shown, listed, strength, navigator, loupe, loupe_centre]
        gallery.select(select, history, chosen, api_visibility="private")
        strength.change(
            preview_strength,
            [shown, strength, loupe_centre],
            [slider, status, loupe],
            api_visibility="private",
            trigger_mode="always_last",
            **quiet,
        )
        strength.release(
            write_strength,
            [listed, strength, history],
            [status, details, downloads, download_files, gallery, history, shown, listed],
            api_visibility="private",
            trigger_mode="always_last",
            **quiet,
        )
        navigator.select(look_at, [shown, strength], [loupe, loupe_centre], api_visibility="private", **quiet)
        loupe.select(pan, [shown, strength, loupe_centre], [loupe, loupe_centre], api_visibility="private", **quiet)
        blocks.unload(forget_session)

    return WebApp(blocks, workspace, settings, enhancer, demo.path if demo else None, warming)
