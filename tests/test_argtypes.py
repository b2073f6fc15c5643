"""seeisp.cli.argtypes: the argparse types the commands, training tools and benchmark scripts share."""

from __future__ import annotations

import argparse

import pytest

from seeisp.cli.argtypes import non_empty_path, number_from, whole_number


def parse(kind, text: str):
    """``--x=TEXT`` parsed with ``kind`` ("=": a value such as -inf is not taken for an option)."""
    parser = argparse.ArgumentParser(prog="prog", exit_on_error=False)
    parser.add_argument("--x", type=kind)
    return parser.parse_args([f"--x={text}"]).x


def refusal(kind, text: str) -> str:
    with pytest.raises(argparse.ArgumentError) as info:
        parse(kind, text)
    return str(info.value)


def test_whole_number() -> None:
    assert parse(whole_number(1), "3") == 3
    assert refusal(whole_number(1), "0") == "argument --x: must be at least 1, got 0"
    assert refusal(whole_number(1), "1.5") == "argument --x: not a whole number: '1.5'"


def test_number_from_takes_both_ends_and_refuses_nan() -> None:
    share = number_from(0, 1)
    assert [parse(share, text) for text in ("0", "0.5", "1")] == [0.0, 0.5, 1.0]
    for text in ("-0.1", "1.01", "nan", "inf"):
        assert refusal(share, text) == f"argument --x: must be from 0 to 1, got {text!r}"
    assert refusal(share, "half") == "argument --x: not a number: 'half'"


def test_non_empty_path() -> None:
    assert parse(non_empty_path, "dark.dng") == "dark.dng"
    for text in ("", "  "):
        assert refusal(non_empty_path, text) == "argument --x: an empty path"
