"""Writing outputs safely: whether one can be written, asked before the work that makes it (one ``OutputError``
line if not), and staging it so that it appears whole or not at all.

    check_writable("scores.json", overwrite=args.force, replace_with="--force")  # before the benchmark runs
    check_writable(out, make_folders=True)  # the caller makes the missing folders when it writes
    check_writable_folder(dst)  # a folder to fill with files, made with its parents if missing
    with staged_file(out) as temp: ...  # written beside it under a fresh hidden name, moved into place whole

The checks write nothing but a probe file, created beside the output and removed at once: ``os.access`` says
yes to root even where writing fails (read-only mounts, /sys). No torch: ``seeisp enhance`` imports this.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import OutputError
from .raw import holds_camera_raw


def check_writable(
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    make_folders: bool = False,
    replace_with: str | None = None,
) -> Path:
    """``path`` as a ``Path``, once a file can be written there; else ``OutputError``, one line.

    Refused: a folder; a camera raw (never written over, even with ``overwrite``); an existing file (or link)
    unless ``overwrite``, the message naming the option ``replace_with`` (e.g. "--force") when given; a folder
    to write in that does not exist (with ``make_folders``, which the caller makes: whose nearest existing
    ancestor is not a folder), or that this process cannot create files in.
    """
    path = Path(path)
    problem = name_problem(path)
    if problem:
        raise OutputError(f"{path}: {problem}")
    if path.is_dir():
        raise OutputError(f"{path}: is a folder, not a file")
    if holds_camera_raw(path):
        raise OutputError(f"{path}: is a camera raw; seeisp never writes over one")
    if not overwrite and (path.exists() or path.is_symlink()):
        advice = f"use {replace_with} to replace it" if replace_with else "refusing to overwrite it"
        raise OutputError(f"{path}: already exists; {advice}")
    _check_folder(path, path.parent, make_folders)
    return path


def name_problem(path: Path) -> str:
    """What keeps a file of this name from being written, found before any work ("" if nothing): a name longer
    than its file system takes, once the staging name's characters are added (``staged_file``), or one that cannot
    be encoded for it."""
    try:
        name = os.fsencode(path.name)
    except UnicodeEncodeError:
        return "name cannot be encoded for the file system"
    if b"\x00" in os.fsencode(path):
        return "name holds a NUL character"
    longest = _longest_name(path.parent) - STAGING_EXTRA
    if len(name) > longest:
        return f"name is too long for the file system ({len(name)} bytes, at most {longest} here)"
    return ""


def _longest_name(folder: Path) -> int:
    """The longest file name (bytes) the file system of ``folder``, or of its nearest existing ancestor, takes."""
    for candidate in (folder, *folder.parents):
        try:
            return os.pathconf(candidate, "PC_NAME_MAX")
        except (OSError, ValueError):
            continue
    return 255


def check_writable_folder(folder: str | os.PathLike[str]) -> Path:
    """``folder`` as a ``Path``, once files can be written in it, or it can be made with its missing parents;
    else ``OutputError``: it is not a folder, an ancestor to make it in is not a folder, or cannot be written."""
    folder = Path(folder)
    if (folder.exists() or folder.is_symlink()) and not folder.is_dir():
        raise OutputError(f"{folder}: exists and is not a folder")
    _check_folder(folder, folder, make=True)
    return folder


def make_folder(folder: Path) -> None:
    """Make the output folder ``folder`` with its missing parents; ``OutputError`` in one line where it cannot be."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{folder}: cannot use it as the output folder, a file is in the way") from None
    except OSError as exc:
        raise OutputError(f"{folder}: cannot create the output folder ({exc.strerror or exc})") from None


def _check_folder(subject: Path, folder: Path, make: bool) -> None:
    """``OutputError`` about ``subject`` unless files can be created in ``folder`` (``make``: or it can be made)."""
    if make:
        while not folder.exists() and not folder.is_symlink() and folder != folder.parent:
            folder = folder.parent
    elif not folder.exists():
        raise OutputError(f"{subject}: folder {folder} does not exist")
    if not folder.is_dir():
        raise OutputError(f"{subject}: {folder} is not a folder")
    probe = folder / f".seeisp-probe-{secrets.token_hex(4)}"
    try:
        with open(probe, "x"):  # "x": never touches a file that happens to have this name
            pass
    except OSError as exc:
        where = "it" if folder == subject else f"folder {folder}"
        raise OutputError(f"{subject}: cannot write in {where} ({exc.strerror or exc})") from None
    probe.unlink()


@contextmanager
def staged_file(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A new, empty file under a fresh hidden name beside ``path``, for the caller to write; moved onto ``path`` when
    the block ends without error, removed in any case, so no run leaves half a file. It is made with "x", so a file
    that happens to have that name is never touched, and with the umask's mode (not tempfile's private 0600), which
    the file keeps when a writer opens it again by name."""
    path = Path(path)
    temp = path.with_name(_staging_name(path.name, secrets.token_hex(4)))
    made = False
    try:
        with open(temp, "x"):
            made = True
        yield temp
        os.replace(temp, path)
    finally:
        if made:  # an interrupt (SIGINT, or SIGTERM as seeisp enhance takes it) ends up here too
            temp.unlink(missing_ok=True)


def _staging_name(name: str, token: str) -> str:
    return f".{name}.{token}.part"


STAGING_EXTRA = len(_staging_name("", secrets.token_hex(4)))  # characters the staging name adds to the file's
