"""seeisp ui: serve the web page (needs the 'ui' extra).

The defaults below are ``seeisp.web.UISettings``'s; they are spelled out here so that
``seeisp ui --help`` works before gradio is installed.
"""

from __future__ import annotations

import argparse

EPILOG = """\
The page listens on 127.0.0.1 only; use --host 0.0.0.0 to reach it from other machines
(anyone who can reach the port can use it). Uploads and results live in one temporary
folder that is deleted when the server stops; each browser tab sees only its own results."""


def register(sub: argparse._SubParsersAction, name: str, help_text: str) -> None:
    p = sub.add_parser(
        name, help=help_text, description=help_text, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    p.add_argument("--port", type=int, default=7860, help="port to listen on (default: %(default)s)")
    p.add_argument(
        "--max-file-size",
        default="200MB",
        metavar="SIZE",
        help="largest upload, e.g. 500MB or 1GB (default: %(default)s)",
    )
    p.add_argument(
        "--concurrency",
        type=int,
        default=1,
        metavar="N",
        help="requests processed at once; others wait in a queue (default: %(default)s)",
    )
    p.add_argument(
        "--session-disk",
        default="2GB",
        metavar="SIZE",
        help="results kept per browser tab; its oldest runs are deleted beyond it (default: %(default)s)",
    )
    p.add_argument(
        "--total-disk",
        default="10GB",
        metavar="SIZE",
        help="results kept for everyone together; the oldest runs go first (default: %(default)s)",
    )
    p.add_argument(
        "--job-memory",
        default="16GB",
        metavar="SIZE",
        help="memory one run may take; larger raws are refused before they are decoded (default: %(default)s)",
    )
    p.add_argument(
        "--job-time",
        type=float,
        default=900.0,
        metavar="SECONDS",
        help="time one run may take; it is stopped and reported beyond it (default: %(default)g)",
    )
    p.add_argument(
        "--share",
        choices=("never", "public"),
        default="never",
        help="'public' also opens a temporary *.gradio.live link through Gradio's servers (default: %(default)s)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..web import UISettings, build_app

    settings = UISettings(
        host=args.host,
        port=args.port,
        max_file_size=args.max_file_size,
        concurrency=args.concurrency,
        share=args.share == "public",
        session_disk=args.session_disk,
        total_disk=args.total_disk,
        job_memory=args.job_memory,
        job_time=args.job_time,
    )
    build_app(settings).serve()
    return 0
