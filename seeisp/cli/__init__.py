"""The ``seeisp`` command. Each subcommand lives in its own module with ``register(subparsers, name, help_text)``.

Modules are imported lazily by name so that ``seeisp enhance`` never pays for (or needs) torch or gradio.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .. import __version__
from ..errors import SeeispError, one_line

# subcommand -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "enhance": ("seeisp.cli.enhance", "turn dark raw files into clean, bright images"),
    "demo": ("seeisp.cli.demo", "simulate a dark raw of a built-in scene and enhance it"),
    "ui": ("seeisp.cli.ui", "start the web page (needs the 'ui' extra)"),
    "train": ("seeisp.cli.train", "train a model (needs the 'train' extra)"),
    "export": (
        "seeisp.cli.export",
        "export a checkpoint to ONNX fp32/fp16/int8, or an fp32 model to fp16/int8 (needs the 'train' extra)",
    ),
    "benchmark": ("seeisp.cli.benchmark", "PSNR/SSIM of seeisp vs LibRaw on simulated low-light pairs"),
}


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seeisp", description="Low-light raw to clean sRGB, on ONNX Runtime.")
    parser.add_argument("--version", action="version", version=f"seeisp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    wanted = next((a for a in argv if not a.startswith("-")), None)
    for name, (module, help_text) in COMMANDS.items():
        if name == wanted:
            importlib.import_module(module).register(sub, name, help_text)
        else:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SeeispError as exc:
        print(f"seeisp: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        extra = {"torch": "train", "gradio": "ui", "scipy": "ui", "onnx": "train", "skimage": "bench"}.get(
            str(exc.name).split(".")[0]
        )
        if extra is None:
            raise
        print(f"seeisp: error: '{args.command}' needs {exc.name}: pip install 'seeisp[{extra}]'", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("seeisp: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
