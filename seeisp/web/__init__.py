"""The web page: upload dark raws, see seeisp next to naive brightening, download the result.

    app = build_app(UISettings(port=7860))
    app.serve()          # blocks; or app.launch(prevent_thread_lock=True) ... app.close()

``settings``: the server's options and their checks; ``workspace``: the temporary folders, per browser session
and within disk caps; ``jobs``: what the buttons do (check, enhance, describe, with named stages and the time
left); ``page``: the Gradio layout and server. Everything the page writes (uploads, results, the demo raw) stays
in one temporary folder per app, which is deleted when the app closes.
"""

# First, before any module that imports gradio: it points gradio's temporary folder into its own.
from .workspace import PROCESS_DIR, Workspace

# isort: split
from .jobs import (
    DEFAULT_FORMATS,
    FILE_TYPES,
    OUTPUT_FORMATS,
    QUALITY_PASSES,
    Enhancer,
    PageResult,
    PageRun,
    RunOptions,
    Status,
    choose_ratio,
    details_markdown,
    run_files,
    run_options,
)
from .page import WebApp, build_app
from .settings import UISettings, parse_size

__all__ = [
    "DEFAULT_FORMATS",
    "FILE_TYPES",
    "OUTPUT_FORMATS",
    "PROCESS_DIR",
    "QUALITY_PASSES",
    "Enhancer",
    "PageResult",
    "PageRun",
    "RunOptions",
    "Status",
    "UISettings",
    "WebApp",
    "Workspace",
    "build_app",
    "choose_ratio",
    "details_markdown",
    "parse_size",
    "run_files",
    "run_options",
]
