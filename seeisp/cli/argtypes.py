"""argparse types and options shared by the ``seeisp`` commands and the scripts in benchmarks/."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from ..ensemble import PASSES


def whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least ``minimum`` (a count of pictures, threads, pixels)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def number_from(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a number from ``low`` to ``high``, both included (NaN is refused)."""

    def parse(text: str) -> float:
        value = _number(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low:g} to {high:g}, got {text!r}")
        return value

    return parse


def non_empty_path(text: str) -> str:
    """An argparse type: a path that is not empty or blank (which would name the current folder or nothing)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path")
    return text


def add_passes_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    """``--passes N`` (1, 2, 4 or 8, default 1: the ``passes`` of ``seeisp.enhance_file``) and ``--ensemble``, its
    alias for ``--passes 8``; the two exclude each other."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--passes", type=int, choices=PASSES, default=1, metavar="N", help=help_text)
    group.add_argument(
        "--ensemble", action="store_const", const=PASSES[-1], dest="passes", help="the same as --passes 8"
    )


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
