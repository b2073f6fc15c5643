"""The page's layout: the Gradio components, how their events call ``jobs``, and the server that serves them."""

from __future__ import annotations

import html
import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from ..errors import SeeispError
from ..models import MODELS, available_models
from ..ratio import MAX_RATIO, MIN_RATIO
from ..white_balance import WhiteBalance
from .jobs import FILE_TYPES, Enhancer, PageResult, run_files, show_selected, write_demo_raw_for_page
from .settings import UISettings, check_address
from .workspace import Workspace

QUEUE_SIZE = 32  # requests waiting beyond this are turned away instead of piling up
WHITE_BALANCE_CHOICES = [("As shot", "camera"), ("Auto", "auto"), ("Daylight", "daylight")]
DARK_FRAME_INFO = (
    "optional: a raw shot with the lens cap on, same camera and ISO; measures the sensor's real black level"
)

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
    demo_raw = write_demo_raw_for_page(workspace.root / "demo")
    models = available_models()

    def enhance(
        files,
        auto_ratio,
        ratio,
        model,
        best_quality=False,
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
            passes=8 if best_quality else 1,
            white_balance=white_balance,
            max_files=settings.max_files,
            progress=progress,
            dark_frame=dark_frame,
        )

    def select(results: list[PageResult], evt: gr.SelectData):
        return show_selected(results, evt.index)

    def load_demo(auto_ratio: bool, ratio: float):
        """The demo raw, at the ratio it was darkened by; the user's own ratio settings are kept aside and
        put back once it is enhanced (``restore``)."""
        nonlocal demo_raw
        if demo_raw is None or not demo_raw.path.is_file():  # Gradio's cache cleaner may have removed it
            demo_raw = write_demo_raw_for_page(workspace.root / "demo")
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
                    label="Best quality (8 passes)",
                    info="Averages the network over 8 orientations of the raw: better, and 8 times the work.",
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
