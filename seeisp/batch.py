"""Turn command-line inputs (files, folders, globs) and ``-o`` into a list of jobs: what to read, where to write.

    jobs = plan_jobs(["shots/", "extra/*.NEF"], output="out/", fmt="png")
    for job in jobs:
        if job.action is Action.ENHANCE: ...

Planning never touches an existing file; it only creates the ``-o`` folder (or the parent
folder of an ``-o`` file) when it is missing.
"""

from __future__ import annotations

import enum
import glob
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import OutputError, os_problem
from .output import FORMATS, SUFFIXES, check_bits, format_of
from .raw import holds_camera_raw, is_raw_name, is_seeisp_dng
from .writable import check_writable, make_folder, name_problem

DEFAULT_FORMAT = "png"


class Action(enum.Enum):
    ENHANCE = "enhance"
    SKIP = "skip"  # the output exists and --overwrite was not given
    FAIL = "fail"  # the input cannot be processed; ``reason`` says why


@dataclass(frozen=True)
class Job:
    source: Path  # as the user named it (or a folder/glob that matched nothing)
    output: Path | None
    action: Action
    reason: str = ""  # one line naming the file, for SKIP and FAIL


def collect_inputs(specs: Sequence[str]) -> list[Path | Job]:
    """Expand files, folders (their raw files, not recursive) and globs, in order, without duplicates.

    An explicit file is taken whatever its suffix (reading it says whether it is a raw); folders and
    globs contribute only files with a raw suffix, and not seeisp's own DNG pictures. A spec that
    yields nothing becomes a FAIL job.
    """
    found: list[Path | Job] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        try:
            key = path.resolve()
        except (OSError, RuntimeError):  # a symlink loop: planning says so
            key = path.absolute()
        if key not in seen:
            seen.add(key)
            found.append(path)

    for spec in specs:
        path = Path(spec)
        try:
            _collect(spec, path, add, found)
        except (OSError, RuntimeError) as exc:  # a name too long, a folder without search permission, a loop
            found.append(Job(path, None, Action.FAIL, f"{spec}: {os_problem(exc)}"))
    return found


def _collect(spec: str, path: Path, add: Callable[[Path], None], found: list[Path | Job]) -> None:
    """Add the raws that one command-line input names, or a FAIL job when it names none."""
    if path.is_dir():
        raws = sorted(p for p in path.iterdir() if p.is_file() and _is_raw_to_enhance(p))
        if not raws:
            found.append(Job(path, None, Action.FAIL, f"{spec}: no raw files in this folder"))
        for raw in raws:
            add(raw)
    elif not path.exists() and _is_glob(spec):
        matches = sorted(Path(m) for m in glob.glob(spec, recursive=True))
        raws = [m for m in matches if m.is_file() and _is_raw_to_enhance(m)]
        if not raws:
            found.append(Job(path, None, Action.FAIL, f"{spec}: no raw files match"))
        for raw in raws:
            add(raw)
    else:
        add(path)  # a missing file is reported when planning


def _is_raw_to_enhance(path: Path) -> bool:
    """A file a folder or glob contributes: a raw by its name, and not a DNG picture seeisp wrote under another."""
    return is_raw_name(path) and not (path.suffix.lower() == ".dng" and is_seeisp_dng(path))


def plan_jobs(
    specs: Sequence[str],
    output: str | None = None,
    fmt: str | None = None,
    bits: int | None = None,
    overwrite: bool = False,
) -> list[Job]:
    """One job per input file: enhance it into its output, skip it, or fail with a reason.

    ``output`` is None (write next to each input), a folder (a trailing slash, an existing
    folder, or any name when there are several inputs) or a file name (one input only).
    ``fmt`` (png, tiff, jpeg, dng) sets the suffix of outputs; an ``-o`` file's own suffix decides
    otherwise. Raises ``OutputError`` for an ``-o``, format or bit depth that cannot work for the whole batch.
    """
    if fmt is not None and fmt not in SUFFIXES:
        raise OutputError(f"unknown output format {fmt!r}; use one of {', '.join(SUFFIXES)}")
    collected = collect_inputs(specs)
    sources = [item for item in collected if isinstance(item, Path)]
    inputs = {_identity(p) for p in sources if _exists(p)}
    try:
        folder, single_file = _output_target(output, len(sources), fmt, bits, inputs)
    except (OSError, RuntimeError) as exc:  # a name too long, a symlink loop, a folder without search permission
        raise OutputError(f"-o {output}: {os_problem(exc)}") from None
    suffix = SUFFIXES[fmt or DEFAULT_FORMAT]

    jobs: list[Job] = []
    claimed: dict[object, Path] = {}  # output identity -> the source that writes it
    for item in collected:
        if isinstance(item, Job):
            jobs.append(item)
            continue
        target = single_file or (folder or item.parent) / (item.stem + suffix)
        jobs.append(_plan_one(item, target, inputs, claimed, overwrite))
    return jobs


def _plan_one(source: Path, target: Path, inputs: set[object], claimed: dict[object, Path], overwrite: bool) -> Job:
    try:
        return _plan_checked(source, target, inputs, claimed, overwrite)
    except (OSError, RuntimeError) as exc:  # the OS refused to say (no search permission, a symlink loop, ...)
        return Job(source, None, Action.FAIL, f"{source}: {os_problem(exc)}")


def _plan_checked(source: Path, target: Path, inputs: set[object], claimed: dict[object, Path], overwrite: bool) -> Job:
    try:
        source.stat()
    except FileNotFoundError:
        return Job(source, None, Action.FAIL, f"{source}: no such file")
    problem = name_problem(target)
    if problem:
        return Job(source, None, Action.FAIL, f"{source}: output {problem}")
    if source.is_dir():
        return Job(source, None, Action.FAIL, f"{source}: is a folder, not a raw file")
    key = _identity(target)
    if key == _identity(source) and not is_raw_name(source):
        # Only a picture (photo.png -> photo.png) can be its own output: say what is wrong with it first.
        kind = source.suffix.lstrip(".").upper()  # never empty: the output always has a suffix
        return Job(source, None, Action.FAIL, f"{source}: a {kind} file, not a camera raw; refusing to overwrite it")
    if key in inputs:
        return Job(source, None, Action.FAIL, f"{source}: output {target} is an input file; refusing to overwrite it")
    if key in claimed:
        return Job(source, None, Action.FAIL, f"{source}: output {target} is {claimed[key]}'s output too; use -o")
    claimed[key] = source
    if target.is_dir():
        return Job(source, None, Action.FAIL, f"{source}: output {target} is a folder")
    if target.exists() and not overwrite:
        return Job(source, target, Action.SKIP, f"{target} exists (use --overwrite to replace it)")
    if holds_camera_raw(target):
        return Job(source, None, Action.FAIL, f"{source}: output {target} is a camera raw; refusing to overwrite it")
    try:
        check_writable(target, overwrite=True)  # a folder it cannot write in fails now, not after the network
    except OutputError as exc:
        return Job(source, None, Action.FAIL, f"{source}: {exc}")
    return Job(source, target, Action.ENHANCE)


def _output_target(
    output: str | None, n_inputs: int, fmt: str | None, bits: int | None, inputs: set[object]
) -> tuple[Path | None, Path | None]:
    """(folder, single file) for ``-o``; both None means next to each input. Creates missing folders."""
    if output is None:
        check_bits(fmt or DEFAULT_FORMAT, bits)
        return None, None
    path = Path(output)
    is_folder = output.endswith(("/", os.sep)) or path.is_dir()
    if not is_folder and n_inputs > 1:
        if path.suffix.lower() in FORMATS:
            raise OutputError(f"-o {output}: a file name, but there are {n_inputs} inputs; give a folder")
        is_folder = True
    if not is_folder and not path.suffix:
        is_folder = True  # '-o results' for one input: a folder, as for several
    if is_folder:
        check_bits(fmt or DEFAULT_FORMAT, bits)
        make_folder(path)
        return path, None
    if _identity(path) in inputs:
        raise OutputError(f"-o {output}: that is an input file; refusing to overwrite it")
    own = format_of(path)
    if fmt is not None and fmt != own:
        raise OutputError(f"-o {output}: the suffix says {own} but --format says {fmt}")
    check_bits(own, bits)
    make_folder(path.parent)
    return None, path


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether two names are of the same file."""
    return _identity(Path(a)) == _identity(Path(b))


def _identity(path: Path) -> object:
    """A key that is equal for two names of the same file (symlinks, '..', case on case-insensitive disks)."""
    try:
        stat = path.stat()
    except OSError:
        return path.resolve()
    return (stat.st_dev, stat.st_ino)


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, RuntimeError):
        return False


def _is_glob(spec: str) -> bool:
    return any(char in spec for char in "*?[")
