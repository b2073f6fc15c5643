"""repack never touches its source, never overwrites without --force, and says what is wrong in one line."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from seeisp.sim.pictures import load_srgb
from seeisp.training.repack import main

PROG = "python -m seeisp.training.repack"


def picture(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (24, 32, 3), dtype=np.uint8)


@pytest.fixture
def src(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    for folder in ("big", "small"):
        (root / folder).mkdir(parents=True)
        iio.imwrite(root / folder / "a.png", picture())
    return root


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def refused(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """Runs repack expecting a refusal: exit 2 and one line on stderr, no traceback; returns that line."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{PROG}: error: "), err
    return lines[0]


def test_repacking_into_the_source_or_inside_it_is_refused(
    src: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(src)
    for dst in (src, src / "big" / ".." / "big" / "..", src / "packed", src / "big"):
        for force in ([], ["--force"]):
            line = refused(capsys, [str(src), str(dst), "--halve", "big", *force])
            assert "would overwrite the pictures it reads" in line
    assert snapshot(src) == before  # the user's pictures are untouched, nothing is added

    # A destination around the source is refused too, even with --force: its outputs could land in SRC.
    line = refused(capsys, [str(src / "big"), str(tmp_path), "--force"])
    assert "holds" in line
    assert snapshot(src) == before


def test_an_existing_destination_needs_force_and_keeps_other_files(
    src: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dst = tmp_path / "dst"
    (dst / "big").mkdir(parents=True)
    (dst / "notes.txt").write_text("mine")
    (dst / "big" / "a.webp").write_bytes(b"old")
    line = refused(capsys, [str(src), str(dst)])
    assert "not empty" in line and "--force" in line
    assert snapshot(dst) == {"big/a.webp": b"old", "notes.txt": b"mine"}

    assert main([str(src), str(dst), "--force"]) == 0
    assert "2 pictures" in capsys.readouterr().out
    assert (dst / "notes.txt").read_text() == "mine"
    np.testing.assert_array_equal(load_srgb(dst / "big" / "a.webp"), picture())

    empty = tmp_path / "empty"
    empty.mkdir()
    assert main([str(src), str(empty)]) == 0  # an empty folder is no loss
    assert sorted(snapshot(empty)) == ["big/a.webp", "small/a.webp"]


def test_pictures_that_would_share_an_output_name_are_refused(
    src: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    iio.imwrite(src / "small" / "dup.png", picture(1))
    iio.imwrite(src / "small" / "dup.jpg", picture(2))
    line = refused(capsys, [str(src), str(tmp_path / "dst")])
    assert "dup.jpg" in line and "dup.png" in line and "dup.webp" in line
    assert not (tmp_path / "dst").exists()


def test_a_destination_that_is_a_file_is_a_one_line_error(
    src: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dst = tmp_path / "dst"
    dst.write_text("keep me")
    for force in ([], ["--force"]):
        assert "not a folder" in refused(capsys, [str(src), str(dst), *force])
    assert dst.read_text() == "keep me"
    assert "Traceback" not in capsys.readouterr().err
    assert f"{dst / 'sub' / 'out'}: {dst} is not a folder" in refused(capsys, [str(src), str(dst / "sub" / "out")])


def test_a_damaged_picture_is_a_one_line_error_and_leaves_no_partial_output(
    src: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (src / "small" / "z-broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    dst = tmp_path / "new" / "deeper" / "dst"
    line = refused(capsys, [str(src), str(dst)])
    assert "z-broken.png" in line
    assert not (tmp_path / "new").exists()  # nor the folders made for it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]

    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "keep.txt").write_text("x")
    refused(capsys, [str(src), str(existing), "--force"])
    assert snapshot(existing) == {"keep.txt": b"x"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing", "src"]  # no staging folder left


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--quality", "0"], "--quality 0: must be from 1 to 100"),
        (["--quality", "101"], "--quality 101: must be from 1 to 100"),
        (["--halve", "bigg"], "--halve bigg: no such subfolder"),
        (["--jpeg", "big", "nope"], "--jpeg nope: no such subfolder"),
    ],
)
def test_bad_options_are_refused_before_writing(
    src: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str], message: str
) -> None:
    assert message in refused(capsys, [str(src), str(tmp_path / "dst"), *options])
    assert not (tmp_path / "dst").exists()


def test_an_empty_or_missing_source_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    assert "no pictures" in refused(capsys, [str(tmp_path / "empty"), str(tmp_path / "dst")])
    assert "no such folder" in refused(capsys, [str(tmp_path / "missing"), str(tmp_path / "dst")])
    assert not (tmp_path / "dst").exists()
