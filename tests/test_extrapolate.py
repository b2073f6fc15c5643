"""extrapolate's command line: file and data errors are one line (no usage block), refused before any scoring."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from seeisp.training import extrapolate as module  # noqa: E402
from seeisp.training.model import SIDUNet, UNetConfig  # noqa: E402

PROG = "python -m seeisp.training.extrapolate"


@pytest.fixture
def scored(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[float]:
    """Stands in for the models and the validation crops; returns the list of PSNRs scored (empty: none was)."""
    config = UNetConfig(width=4)
    calls: list[float] = []

    def validate(model: SIDUNet, samples: list, device: torch.device) -> float:
        calls.append(20.0)
        return 20.0

    monkeypatch.setattr(module, "describe", lambda path: (config, {"step": 1}))
    monkeypatch.setattr(module, "weights_of", lambda path, config: SIDUNet(config).state_dict())
    monkeypatch.setattr(module, "validation_set", lambda validation: ["a sample"])
    monkeypatch.setattr(module, "validate", validate)
    for name in ("anchor.pt", "final.pt"):
        (tmp_path / name).write_bytes(b"stand-in")
    return calls


def argv(tmp_path: Path, out: Path, *extra: str) -> list[str]:
    return [str(tmp_path / "anchor.pt"), str(tmp_path / "final.pt"), "-o", str(out), *extra]


def one_line_refusal(capsys: pytest.CaptureFixture[str], args: list[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        module.main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{PROG}: error: "), err  # no usage block, no traceback
    return lines[0]


def test_the_stand_ins_score_and_save(scored: list[float], tmp_path: Path) -> None:
    out = tmp_path / "sub" / "x.pt"
    assert module.main(argv(tmp_path, out, "--alphas", "2")) == 0
    assert len(scored) == 2 and torch.load(out, weights_only=False)["extrapolation"]["alpha"] == 1.0


def test_an_output_whose_folder_is_a_file_fails_before_any_scoring(
    scored: list[float], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    for out in (blocker / "x.pt", blocker / "deeper" / "x.pt"):
        line = one_line_refusal(capsys, argv(tmp_path, out))
        assert "blocker is not a folder" in line
    assert scored == [] and blocker.read_text() == "a file"


def test_an_existing_output_is_a_one_line_refusal(
    scored: list[float], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.pt"
    out.write_bytes(b"precious")
    assert "refusing to overwrite" in one_line_refusal(capsys, argv(tmp_path, out))
    assert out.read_bytes() == b"precious" and scored == []


def test_file_errors_are_one_line_without_the_usage_block(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = [str(tmp_path / "none.pt"), str(tmp_path / "none.pt"), "-o", str(tmp_path / "x.pt")]
    assert "none.pt: no such file" in one_line_refusal(capsys, missing)
    assert not (tmp_path / "x.pt").exists()


@pytest.mark.parametrize("alpha", ["nan", "inf", "-inf"])
def test_non_finite_alphas_are_refused(
    scored: list[float], tmp_path: Path, capsys: pytest.CaptureFixture[str], alpha: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        module.main(argv(tmp_path, tmp_path / "x.pt", f"--alphas={alpha}"))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "not a finite number" in err and "Traceback" not in err
    assert scored == [] and not (tmp_path / "x.pt").exists()

    with pytest.raises(ValueError, match="finite"):  # the library call refuses them too
        module.run(tmp_path / "anchor.pt", tmp_path / "final.pt", [float(alpha)], tmp_path / "x.pt", None)
    assert scored == []
