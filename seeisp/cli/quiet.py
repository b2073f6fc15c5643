"""Only a batch command's own lines reach the terminal.

    with quiet_batch() as chatter:
        ...  # read a file
        about_it, other = chatter.take(path)

C libraries write to file descriptor 2 directly (LibRaw: "<file>: Unexpected end of file"): while the batch runs,
that descriptor points at a temporary file, and the command takes what was written after each file, to drop it
(the file's error line says the same) or print it as that file's warning. Python's ``sys.stderr`` keeps reaching
the terminal. Python warnings and tifffile's log lines about damaged headers are kept back, and SIGTERM (what
``timeout`` and service managers send) stops the batch as Ctrl-C does, so no staged file is left behind.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import signal
import sys
import tempfile
import warnings
from collections.abc import Iterator
from types import FrameType


class CapturedStderr:
    """What C code wrote to file descriptor 2 since the last ``take``."""

    def __init__(self, fd: int | None):
        self._fd = fd  # the temporary file's descriptor; None when there is no stderr to capture

    def take(self, path: str | os.PathLike[str] | None = None) -> tuple[list[str], str]:
        """(LibRaw's messages about ``path``, without the name they start with; everything else, as written).

        LibRaw starts each message with the file's name as it was given, which may hold a newline or bytes that
        are not UTF-8: the name is matched as bytes, so such a message is still recognised whole.
        """
        if self._fd is None:
            return [], ""
        os.lseek(self._fd, 0, os.SEEK_SET)
        chunks = []
        while chunk := os.read(self._fd, 1 << 16):
            chunks.append(chunk)
        os.ftruncate(self._fd, 0)
        os.lseek(self._fd, 0, os.SEEK_SET)
        return _split(b"".join(chunks), os.fsencode(path) + b": " if path is not None else None)


def _split(text: bytes, prefix: bytes | None) -> tuple[list[str], str]:
    about: list[str] = []
    other = bytearray()
    while text:
        if prefix and text.startswith(prefix):
            message, _, text = text[len(prefix) :].partition(b"\n")
            about.append(message.decode(errors="backslashreplace").strip())
        else:
            line, newline, text = text.partition(b"\n")
            other += line + newline
    return [message for message in about if message], other.decode(errors="backslashreplace")


@contextlib.contextmanager
def quiet_batch() -> Iterator[CapturedStderr]:
    """Capture C-level stderr, keep library warnings back and take SIGTERM as SIGINT, for the block."""
    with _c_stderr_captured() as chatter, _library_warnings_kept_back(), _sigterm_as_interrupt():
        yield chatter


@contextlib.contextmanager
def _c_stderr_captured() -> Iterator[CapturedStderr]:
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no stderr at all: nothing to keep clean
        yield CapturedStderr(None)
        return
    python_stderr = sys.stderr
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        if _writes_to_fd_2(python_stderr):  # Python's own lines must still reach the terminal
            sys.stderr = io.TextIOWrapper(
                open(saved, "wb", closefd=False),  # noqa: SIM115 - closed with the wrapper below
                encoding=python_stderr.encoding,
                errors="backslashreplace",
                line_buffering=True,
            )
        try:
            yield CapturedStderr(sink.fileno())
        finally:
            if sys.stderr is not python_stderr:
                sys.stderr.flush()
                sys.stderr.close()
                sys.stderr = python_stderr
            os.dup2(saved, 2)
            os.close(saved)


def _writes_to_fd_2(stream: object) -> bool:
    try:
        return stream.fileno() == 2  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):  # a StringIO, or a test's capture
        return False


@contextlib.contextmanager
def _library_warnings_kept_back() -> Iterator[None]:
    tiff_log = logging.getLogger("tifffile")  # "<TiffTag.fromfile> raised TiffFileError(...)" on damaged headers
    was_disabled, tiff_log.disabled = tiff_log.disabled, True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        tiff_log.disabled = was_disabled


class _Terminated(KeyboardInterrupt):
    """SIGTERM, taken as Ctrl-C: the same clean way out."""


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise _Terminated

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: signals are not ours to handle
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
