"""One enhance signature: the input, then keyword-only options by the same names in the library, the CLI, the
benchmark and the demo; ``passes`` (1, 2, 4 or 8) with ``--ensemble`` as the CLI's alias for 8."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest
import tifffile

from seeisp import enhance_file, enhance_raw, read_raw
from seeisp.cli import build_parser, main
from seeisp.session import ModelSession

from conftest import write_dark_dng

OPTIONS = ["model", "ratio", "ev", "passes", "white_balance", "dark_frame", "hot_pixels", "tile", "overlap", "progress"]


@pytest.mark.parametrize("function", [enhance_file, enhance_raw])
def test_options_are_keyword_only_by_the_same_names_in_the_same_order(function) -> None:
    (first, *options) = inspect.signature(function).parameters.values()
    assert first.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert [option.name for option in options] == OPTIONS
    assert all(option.kind is inspect.Parameter.KEYWORD_ONLY for option in options)


def test_an_option_given_by_position_is_refused(tmp_path: Path, model_file: Path) -> None:
    with pytest.raises(TypeError):
        enhance_file(write_dark_dng(tmp_path / "dark.dng"), model_file)  # type: ignore[misc]


def test_the_documented_calls_agree(tmp_path: Path, model_file: Path) -> None:
    dng = write_dark_dng(tmp_path / "dark.dng")
    session = ModelSession(model_file)
    from_file = enhance_file(dng, model=session, ratio=50, passes=2, white_balance="auto")
    from_raw = enhance_raw(read_raw(dng), model=model_file, ratio=50, passes=2, white_balance="auto")
    assert from_file.passes == from_raw.passes == 2 and from_file.model_label == f"{session.name} x2"
    np.testing.assert_array_equal(from_file.image, from_raw.image)


def parsed(argv: list[str]):
    return build_parser(argv).parse_args(argv)


@pytest.mark.parametrize(
    "command",
    [["enhance", "dark.dng"], ["benchmark", "--images", "pictures"], ["demo"]],
    ids=["enhance", "benchmark", "demo"],
)
def test_every_command_takes_passes_and_the_ensemble_alias(command: list[str], capsys: pytest.CaptureFixture) -> None:
    assert parsed(command).passes == 1
    for passes in (1, 2, 4, 8):
        assert parsed([*command, "--passes", str(passes)]).passes == passes
    assert parsed([*command, "--ensemble"]).passes == 8
    for wrong, problem in (("3", "invalid choice: 3 (choose from 1, 2, 4, 8)"), ("x", "invalid int value: 'x'")):
        with pytest.raises(SystemExit) as exit_info:
            parsed([*command, "--passes", wrong])
        assert exit_info.value.code == 2
        assert capsys.readouterr().err.strip().splitlines()[-1].endswith(f"error: argument --passes: {problem}")
    with pytest.raises(SystemExit):
        parsed([*command, "--ensemble", "--passes", "8"])
    assert "not allowed with argument --ensemble" in capsys.readouterr().err


def test_the_cli_names_the_options_as_the_library_does(tmp_path: Path, model_file: Path) -> None:
    dng = write_dark_dng(tmp_path / "dark.dng")
    out = tmp_path / "out.tif"
    argv = ["enhance", str(dng), "-o", str(out), "--model", str(model_file), "--ratio", "50", "--passes", "2"]
    assert main([*argv, "--white-balance", "daylight"]) == 0
    expected = enhance_file(dng, model=model_file, ratio=50, passes=2, white_balance="daylight").image
    np.testing.assert_allclose(tifffile.imread(out) / 65535.0, expected, atol=2e-5)
    assert parsed([*argv, "--wb", "auto"]).white_balance == "auto"  # the short names stay
    assert parsed([*argv, "--dark", "cap.dng"]).dark_frame == parsed([*argv, "--dark-frame", "cap.dng"]).dark_frame
