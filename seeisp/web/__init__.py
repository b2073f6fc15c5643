"""The web page: upload dark raws, see seeisp next to naive brightening, download the result.

    app = build_app(UISettings(port=7860))
    app.serve()          # blocks; or app.launch(prevent_thread_lock=True) ... app.close()

``settings``: the server's options and their checks; ``workspace``: the temporary folders;
``jobs``: what the buttons do (check, enhance, describe); ``page``: the Gradio layout and server.
Everything the page writes (uploads, results, the demo raw) stays in one temporary folder per app,
which is deleted when the app closes.
"""

# First, before any module that imports gradio: it points gradio's temporary folders into its own.
from .workspace import PROCESS_DIR, Workspace

# isort: split
from .jobs import FILE_TYPES, Enhancer, PageResult, choose_ratio, details_markdown, run_files, show_selected
from .page import WebApp, build_app
from .settings import UISettings, parse_size

__all__ = [
    "FILE_TYPES",
    "PROCESS_DIR",
    "Enhancer",
    "PageResult",
    "UISettings",
    "WebApp",
    "Workspace",
    "build_app",
    "choose_ratio",
    "details_markdown",
    "parse_size",
    "run_files",
    "show_selected",
]
