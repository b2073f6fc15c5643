"""seeisp.writable: one check, before any work, that an output can be written; nothing of the user's is touched."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from seeisp.errors import OutputError
from seeisp.writable import check_writable, check_writable_folder, staged_file

from conftest import read_only_folder, write_dark_dng


def listing(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def test_a_new_file_in_a_writable_folder_passes_and_nothing_is_left_behind(tmp_path: Path) -> None:
    (tmp_path / "other.txt").write_text("mine")
    assert check_writable(tmp_path / "out.json") == tmp_path / "out.json"
    assert check_writable(str(tmp_path / "new" / "deeper" / "out.pt"), make_folders=True) == (
        tmp_path / "new" / "deeper" / "out.pt"
    )
    assert listing(tmp_path) == ["other.txt"]  # no probe file, no folder made: it only checks


def test_an_existing_file_needs_overwrite_and_is_never_touched(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    out.write_text("precious")
    with pytest.raises(OutputError, match=r"out\.json: already exists; refusing to overwrite it$"):
        check_writable(out)
    with pytest.raises(OutputError, match=r"out\.json: already exists; use --force to replace it$"):
        check_writable(out, replace_with="--force")
    assert check_writable(out, overwrite=True) == out
    assert out.read_text() == "precious" and listing(tmp_path) == ["out.json"]


def test_a_dangling_link_counts_as_an_existing_file(tmp_path: Path) -> None:
    link = tmp_path / "out.json"
    link.symlink_to(tmp_path / "nowhere")
    with pytest.raises(OutputError, match="already exists"):
        check_writable(link)
    assert link.is_symlink()


def test_a_folder_is_refused_even_with_overwrite(tmp_path: Path) -> None:
    (tmp_path / "out.png").mkdir()
    for overwrite in (False, True):
        with pytest.raises(OutputError, match=r"out\.png: is a folder, not a file$"):
            check_writable(tmp_path / "out.png", overwrite=overwrite)
    assert listing(tmp_path) == ["out.png"]


def test_a_camera_raw_is_refused_even_with_overwrite(tmp_path: Path) -> None:
    raw = write_dark_dng(tmp_path / "night.dng")
    before = raw.read_bytes()
    for overwrite in (False, True):
        with pytest.raises(OutputError, match=r"night\.dng: is a camera raw; seeisp never writes over one$"):
            check_writable(raw, overwrite=overwrite)
    assert raw.read_bytes() == before and listing(tmp_path) == ["night.dng"]


def test_a_missing_folder_is_refused_unless_the_caller_makes_it(tmp_path: Path) -> None:
    out = tmp_path / "nope" / "out.png"
    with pytest.raises(OutputError, match=re.escape(f"{out}: folder {out.parent} does not exist")):
        check_writable(out)
    assert check_writable(out, make_folders=True) == out
    assert listing(tmp_path) == []


def test_a_file_where_a_folder_should_be_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    cases = [(blocker / "out.pt", False), (blocker / "out.pt", True), (blocker / "deeper" / "out.pt", True)]
    for out, make_folders in cases:
        with pytest.raises(OutputError, match=re.escape(f"{out}: {blocker} is not a folder")):
            check_writable(out, make_folders=make_folders)
    with pytest.raises(OutputError, match=re.escape(f"folder {blocker / 'deeper'} does not exist")):
        check_writable(blocker / "deeper" / "out.pt")
    assert blocker.read_text() == "a file" and listing(tmp_path) == ["blocker"]


def test_an_unwritable_folder_is_refused_and_named(tmp_path: Path) -> None:
    locked = read_only_folder(tmp_path)
    with pytest.raises(OutputError, match=re.escape(f"out.json: cannot write in folder {locked} (Permission denied)")):
        check_writable(locked / "out.json")
    # a chain of folders to make: the nearest that exists is the one that must be writable
    with pytest.raises(OutputError, match=re.escape(f"cannot write in folder {locked} (")):
        check_writable(locked / "a" / "b" / "out.json", make_folders=True)
    assert os.listdir(locked) == []


def test_a_folder_even_root_cannot_write_in_is_refused() -> None:
    if not Path("/sys/kernel").is_dir():
        pytest.skip("no /sys")
    with pytest.raises(OutputError, match=r"/sys/out\.json: cannot write in folder /sys \("):
        check_writable("/sys/out.json")  # os.access says yes to root here


def test_an_output_folder_must_be_a_writable_folder_or_one_that_can_be_made(tmp_path: Path) -> None:
    assert check_writable_folder(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert check_writable_folder(tmp_path) == tmp_path
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    with pytest.raises(OutputError, match=r"blocker: exists and is not a folder$"):
        check_writable_folder(blocker)
    with pytest.raises(OutputError, match=re.escape(f"{blocker / 'sub'}: {blocker} is not a folder")):
        check_writable_folder(blocker / "sub")
    assert blocker.read_text() == "a file" and listing(tmp_path) == ["blocker"]


def test_an_unwritable_output_folder_is_refused(tmp_path: Path) -> None:
    locked = read_only_folder(tmp_path)
    with pytest.raises(OutputError, match=r"locked: cannot write in it \(Permission denied\)$"):
        check_writable_folder(locked)
    with pytest.raises(OutputError, match=re.escape(f"{locked / 'sub'}: cannot write in folder {locked} (")):
        check_writable_folder(locked / "sub")
    assert os.listdir(locked) == []


def test_a_staged_file_is_moved_into_place_whole_or_not_at_all(tmp_path: Path) -> None:
    out = tmp_path / "model.onnx"
    (tmp_path / "model.onnx.tmp").write_text("the user's")  # a name a fixed staging scheme would take
    with staged_file(out) as temp:
        assert temp.parent == tmp_path and temp.name.startswith(".model.onnx.")
        temp.write_text("new")
    assert out.read_text() == "new"
    with pytest.raises(RuntimeError), staged_file(out) as temp:
        temp.write_text("half")
        raise RuntimeError("the writer failed")
    assert out.read_text() == "new"  # the old file stands, and the half-written one is gone
    assert listing(tmp_path) == ["model.onnx", "model.onnx.tmp"]


def test_a_file_that_happens_to_have_the_staging_name_is_never_touched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("seeisp.writable.secrets.token_hex", lambda n: "0" * (2 * n))
    squatter = tmp_path / ".out.json.00000000.part"
    squatter.write_text("someone else's")
    with pytest.raises(FileExistsError), staged_file(tmp_path / "out.json"):
        pass
    assert squatter.read_text() == "someone else's" and listing(tmp_path) == [squatter.name]
