"""Hostile and unlucky inputs to `seeisp enhance` and the Python API: each is one line about that file, the batch
goes on to its summary, nothing is left behind, and a forged header is refused before any decoding.

Output is captured at the file-descriptor level (capfd), so lines LibRaw prints from C count too.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from dng_edits import drop_tag, set_tag, set_type

from seeisp.cli import main
from seeisp.errors import SeeispError

from conftest import write_dark_dng, write_monochrome_dng

NAME_MAX = 255


def run_batch(capfd: pytest.CaptureFixture[str], *args: object) -> tuple[int, list[str], list[str]]:
    """Run `seeisp enhance ARGS` in this process: (exit code, stdout lines, stderr lines); never a traceback."""
    code = main(["enhance", "-q", *map(str, args)])
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
    return code, out.splitlines(), err.splitlines()


def leftovers(folder: Path) -> list[str]:
    """Hidden staging or probe files a run left in ``folder``."""
    return sorted(p.name for p in folder.rglob(".*") if p.is_file())


def test_a_symlink_loop_among_the_inputs_is_that_files_line(capfd, tmp_path: Path, model_file: Path) -> None:
    good = write_dark_dng(tmp_path / "good.dng")
    loop = tmp_path / "loop.ARW"
    loop.symlink_to(loop.name)
    code, out, err = run_batch(capfd, loop, good, "--model", model_file)
    assert code == 1
    assert err == [f"seeisp: error: {loop}: symlink loop"]
    assert (tmp_path / "good.png").is_file()
    assert out[-1] == "1 written, 0 skipped, 1 failed"


def test_a_symlink_loop_as_the_output_is_one_line(capfd, tmp_path: Path, model_file: Path) -> None:
    good = write_dark_dng(tmp_path / "good.dng")
    loop = tmp_path / "loop.png"
    loop.symlink_to(loop.name)
    code, _, err = run_batch(capfd, good, "-o", loop, "--model", model_file)
    assert code != 0
    assert len(err) == 1 and err[0].startswith("seeisp: error: ") and "symlink loop" in err[0]


def test_a_name_that_is_not_utf8_is_read_and_shown_escaped(capfd, tmp_path: Path, model_file: Path) -> None:
    folder = tmp_path / "shots"
    folder.mkdir()
    odd = Path(os.fsdecode(bytes(folder) + b"/b\xff.dng"))
    write_dark_dng(odd)
    write_dark_dng(folder / "good.dng")
    code, out, err = run_batch(capfd, folder, "--model", model_file)
    assert code == 0, err
    assert os.path.isfile(bytes(folder) + b"/b\xff.png")
    assert any(line.startswith(f"{folder}/b\\xff.dng -> ") for line in out), out
    assert out[-1] == "2 written, 0 skipped, 0 failed"


def test_a_dng_without_a_colour_filter_pattern_gets_the_same_line_whatever_came_before(
    capfd, tmp_path: Path, model_file: Path
) -> None:
    # LibRaw keeps the colour filter of an earlier file for a DNG that states none: the answer must not depend on it.
    no_pattern = drop_tag(drop_tag(write_dark_dng(tmp_path / "nopattern.dng"), 33422), 33421)
    mono = write_monochrome_dng(tmp_path / "mono.dng", np.full((64, 64), 1000, np.uint16))
    code, _, alone = run_batch(capfd, no_pattern, "--model", model_file)
    code_after, _, after = run_batch(capfd, mono, no_pattern, "--model", model_file)
    assert code == code_after == 1
    assert alone == [f"seeisp: error: {no_pattern}: no colour filter pattern (CFAPattern) in this DNG"]
    assert after[-1] == alone[0]


@pytest.mark.parametrize("stem_length", [250, NAME_MAX - 14 - len(".png")])
def test_an_output_name_too_long_for_the_disk_is_refused_while_planning(
    capfd, tmp_path: Path, model_file: Path, stem_length: int
) -> None:
    # 250 + "-seeisp.dng" is over 255; 237 + ".png" fits, but not the staging name's 15 more characters.
    raw = write_dark_dng(tmp_path / ("x" * stem_length + ".dng"))
    fmt = ["--format", "dng"] if stem_length == 250 else []
    started = time.perf_counter()
    code, _, err = run_batch(capfd, raw, *fmt, "--model", model_file)
    assert code == 1
    assert len(err) == 1 and err[0].startswith(f"seeisp: error: {raw}: output name is too long"), err
    assert time.perf_counter() - started < 20  # refused before the network ran (it would also fail after it)
    assert leftovers(tmp_path) == []


def test_names_too_long_for_the_system_are_lines_not_tracebacks(capfd, tmp_path: Path, model_file: Path) -> None:
    good = write_dark_dng(tmp_path / "good.dng")
    missing = tmp_path / ("m" * 300 + ".ARW")
    code, out, err = run_batch(capfd, missing, good, "--model", model_file)
    assert code == 1
    assert err == [f"seeisp: error: {missing}: file name too long"]
    assert out[-1] == "1 written, 0 skipped, 1 failed"
    code, _, err = run_batch(capfd, good, "-o", tmp_path / ("o" * 300 + ".png"), "--model", model_file)
    assert code != 0 and len(err) == 1 and "file name too long" in err[0]
    code, _, err = run_batch(capfd, good, "--dark", tmp_path / ("d" * 300 + ".ARW"), "--model", model_file)
    assert code != 0 and len(err) == 1 and err[0].endswith(".ARW: file name too long")


def test_a_folder_without_search_permission_is_one_line(tmp_path: Path, model_file: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    write_dark_dng(locked / "a.dng")
    good = write_dark_dng(tmp_path / "good.dng")
    locked.chmod(0o600)  # readable, not searchable
    try:
        result = run_child(
            [
                "enhance",
                "-q",
                str(locked / "a.dng"),
                str(good),
                "-o",
                str(tmp_path / "out"),
                "--model",
                str(model_file),
            ],
            permissions_apply=True,
        )
    finally:
        locked.chmod(0o700)
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [f"seeisp: error: {locked / 'a.dng'}: permission denied"]
    assert result.stdout.splitlines()[-1] == "1 written, 0 skipped, 1 failed"


def test_an_unreadable_file_says_so(tmp_path: Path, model_file: Path) -> None:
    secret = write_dark_dng(tmp_path / "secret.dng")
    secret.chmod(0o200)
    args = ["enhance", "-q", str(secret), "-o", str(tmp_path / "out/"), "--model", str(model_file)]
    result = run_child(args, permissions_apply=True)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"seeisp: error: {secret}: cannot be read: permission denied"]


def run_child(args: list[str], *, permissions_apply: bool = False) -> subprocess.CompletedProcess:
    """`seeisp ARGS` in a child process; ``permissions_apply``: with root's override of file permissions dropped."""
    prefix: list[str] = []
    if os.geteuid() == 0 and permissions_apply:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("root reads anything, and setpriv is not here to drop that")
        prefix = [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [*prefix, sys.executable, "-m", "seeisp", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize(
    ("width", "height", "problem"),
    [
        (20000, 20000, "400 megapixels, more than the limit of 250"),
        (8000, 6000, "image data for 48 megapixels"),
    ],
)
def test_a_decompression_bomb_is_refused_from_its_header(
    capfd, tmp_path: Path, model_file: Path, width: int, height: int, problem: str
) -> None:
    bomb = write_dark_dng(tmp_path / "bomb.dng")
    for code, value in ((256, width), (257, height), (278, height), (259, 7)):  # sizes, rows per strip, lossless JPEG
        set_tag(bomb, code, value)
    started = time.perf_counter()
    code, _, err = run_batch(capfd, bomb, "--model", model_file)
    assert time.perf_counter() - started < 10
    assert code == 1
    assert len(err) == 1 and err[0].startswith(f"seeisp: error: {bomb}: ") and problem in err[0], err


def test_the_pixel_limit_can_be_raised(capfd, tmp_path: Path, model_file: Path) -> None:
    raw = write_dark_dng(tmp_path / "dark.dng")  # 0.1 megapixels
    code, _, err = run_batch(capfd, raw, "--max-megapixels", "0.05", "--model", model_file)
    assert code == 1 and "more than the limit of 0.05" in err[0]
    code, _, err = run_batch(capfd, raw, "--max-megapixels", "1", "--model", model_file)
    assert code == 0 and err == []


def test_uncompressed_data_must_be_in_the_file(capfd, tmp_path: Path, model_file: Path) -> None:
    raw = write_dark_dng(tmp_path / "short.dng")
    set_tag(raw, 279, 1000)  # StripByteCounts: far less than 256 x 384 x 2 bytes
    code, _, err = run_batch(capfd, raw, "--model", model_file)
    assert code == 1
    assert err == [
        f"seeisp: error: {raw}: cannot be read (truncated or damaged raw file: 1000 of its 196608 bytes of image data)"
    ]


def test_tifffile_warnings_stay_off_stderr(tmp_path: Path, model_file: Path) -> None:
    for index in range(3):
        damaged = write_dark_dng(tmp_path / f"d{index}.dng")
        set_type(damaged, 50721, 99)  # ColorMatrix1 of a type tifffile does not know: it logs a warning
    write_dark_dng(tmp_path / "good.dng")
    # In a child: pytest's own logging handlers would catch what reaches a plain run's stderr.
    result = run_child(["enhance", "-q", str(tmp_path), "--model", str(model_file)])
    assert result.stderr == ""
    assert (tmp_path / "good.png").is_file()


@pytest.mark.parametrize(("source", "problem"), [("/dev/zero", "a character device"), ("fifo", "a FIFO")])
def test_special_files_say_what_they_are(capfd, tmp_path: Path, model_file: Path, source: str, problem: str) -> None:
    if source == "fifo":
        source = str(tmp_path / "pipe.ARW")
        os.mkfifo(source)
    code, _, err = run_batch(capfd, source, "-o", tmp_path / "out/", "--model", model_file)
    assert code == 1
    assert err == [f"seeisp: error: {source}: not a regular file ({problem})"]


def test_a_name_with_a_newline_stays_on_one_line(capfd, tmp_path: Path, model_file: Path) -> None:
    cut = tmp_path / "cut\nshort.dng"
    data = write_dark_dng(tmp_path / "whole.dng").read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    good = tmp_path / "whole.dng"
    code, out, err = run_batch(capfd, cut, good, "--model", model_file)
    assert code == 1
    assert len(err) == 1, err
    assert err[0].startswith(f"seeisp: error: {tmp_path}/cut\\nshort.dng: ")
    assert out[-1] == "1 written, 0 skipped, 1 failed"


def test_sigterm_while_writing_leaves_no_staging_file(tmp_path: Path, model_file: Path) -> None:
    raw = write_dark_dng(tmp_path / "dark.dng")
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        import png
        from seeisp.cli import main

        original = png.Writer.write_packed
        def write_packed(self, *args):
            os.kill(os.getpid(), signal.SIGTERM)  # what `timeout` sends, while the staged file is open
            return original(self, *args)
        png.Writer.write_packed = write_packed
        sys.exit(main(["enhance", "-q", {str(raw)!r}, "--model", {str(model_file)!r}]))
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 130, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dark.dng"]


@pytest.mark.parametrize("path", [None, 3, b"dark.dng", 2.5])
def test_the_api_refuses_a_path_of_the_wrong_type_as_a_seeisp_error(model_file: Path, path: object) -> None:
    from seeisp.enhance import enhance_file
    from seeisp.raw import read_raw

    with pytest.raises(SeeispError, match=r"path must be a str or os\.PathLike"):
        enhance_file(path, model=model_file)  # type: ignore[arg-type]
    with pytest.raises(SeeispError, match=r"path must be a str or os\.PathLike"):
        read_raw(path)  # type: ignore[arg-type]


@pytest.mark.parametrize(("options", "problem"), [({"ratio": True}, "ratio"), ({"model": 3}, "model")])
def test_the_api_refuses_arguments_of_the_wrong_type(tmp_path: Path, model_file: Path, options, problem) -> None:
    from seeisp.enhance import enhance_file

    with pytest.raises(SeeispError, match=problem):
        enhance_file(write_dark_dng(tmp_path / "dark.dng"), **{"model": model_file, **options})


@pytest.mark.parametrize(("argument", "value"), [("raw", None), ("model", 3)])
def test_enhance_raw_refuses_what_is_not_a_raw_or_a_model(tmp_path: Path, lite_session, argument: str, value) -> None:
    from seeisp.enhance import enhance_raw
    from seeisp.raw import read_raw

    arguments = {"raw": read_raw(write_dark_dng(tmp_path / "dark.dng")), "model": lite_session, argument: value}
    with pytest.raises(SeeispError, match=f"{argument} must be a"):
        enhance_raw(**arguments, ratio=100)


def test_the_library_checks_the_header_before_decoding(tmp_path: Path) -> None:
    from seeisp.errors import RawTooLargeError
    from seeisp.raw import pixel_limit, read_raw

    bomb = write_dark_dng(tmp_path / "bomb.dng")
    for code, value in ((256, 20000), (257, 20000), (278, 20000), (259, 7)):
        set_tag(bomb, code, value)
    with pytest.raises(RawTooLargeError, match=r"400 megapixels, more than the limit of 250$"):
        read_raw(bomb)  # the web page reads through here too
    raw = write_dark_dng(tmp_path / "dark.dng")
    with pytest.raises(RawTooLargeError, match=r"more than the limit of 0\.05$"):
        read_raw(raw, max_megapixels=0.05)
    with pixel_limit(0.05), pytest.raises(RawTooLargeError):
        read_raw(raw)
    assert read_raw(raw).mosaic.shape == (256, 384)


def test_reading_leaves_file_descriptor_2_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Swapping it under a lock serialised threaded reads; LibRaw's chatter is the CLI's to handle (seeisp/cli/quiet.py).
    from concurrent.futures import ThreadPoolExecutor

    from seeisp.raw import read_raw

    def refuse(*args: object) -> None:
        raise AssertionError("read_raw swapped a file descriptor")

    files = [write_dark_dng(tmp_path / f"{index}.dng", seed=index) for index in range(4)]
    cut = tmp_path / "cut.dng"
    cut.write_bytes(files[0].read_bytes()[:5000])
    with monkeypatch.context() as patch:
        patch.setattr(os, "dup2", refuse)
        with ThreadPoolExecutor(4) as pool:
            shapes = list(pool.map(lambda path: read_raw(path).mosaic.shape, files))
        with pytest.raises(SeeispError, match="truncated"):
            read_raw(cut)
    assert shapes == [(256, 384)] * 4


def test_sigterm_handler_is_restored(capfd, tmp_path: Path, model_file: Path) -> None:
    before = signal.getsignal(signal.SIGTERM)
    run_batch(capfd, write_dark_dng(tmp_path / "dark.dng"), "--model", model_file)
    assert signal.getsignal(signal.SIGTERM) is before


def test_what_c_code_writes_to_stderr_is_taken_per_file(capfd) -> None:
    from seeisp.cli.quiet import quiet_batch

    name = Path("shots/cut\nshort\udcff.dng")  # LibRaw writes the name as it was given, newline and bytes included
    with quiet_batch() as chatter:
        os.write(2, os.fsencode(name) + b": Unexpected end of file\n[W:onnxruntime] a warning\n")
        print("seeisp: error: still on stderr", file=sys.stderr)
        about, other = chatter.take(name)
        os.write(2, b"shots/other.dng: Unexpected end of file\n")
        assert chatter.take(name) == ([], "shots/other.dng: Unexpected end of file\n")
    assert about == ["Unexpected end of file"]
    assert other == "[W:onnxruntime] a warning\n"
    assert capfd.readouterr().err == "seeisp: error: still on stderr\n"
    os.write(2, b"after the batch\n")
    assert capfd.readouterr().err == "after the batch\n"
