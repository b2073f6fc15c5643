"""The exceptions seeisp raises. Every one carries a message fit for a one-line error."""

from __future__ import annotations

import errno


def one_line(exc: BaseException) -> str:
    """An error's message on one line, as every tool prints it after "NAME: error: ".

    An error raised in one of torch's DataLoader workers comes back as "Caught X in DataLoader worker process 0."
    plus the worker's traceback: its own message is then the traceback's last line, after "module.X: ".
    """
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    lines = text.splitlines()
    if "Original Traceback" in text:
        kind, _, message = lines[-1].partition(": ")
        return message if message and " " not in kind else lines[-1]
    return lines[0]


def printable(text: str) -> str:
    """``text`` safe to print as one line on any terminal: control characters (a newline in a file name) and bytes
    of a name that is not UTF-8 are written as escapes ("a\\nb.dng", "b\\xff.dng"), never printed as they are."""
    escaped = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return escaped.translate(_CONTROL_ESCAPES)


_CONTROL_ESCAPES = {code: repr(chr(code))[1:-1] for code in [*range(32), 127]}


def os_problem(exc: BaseException) -> str:
    """What an operating-system error says, without the file name it would repeat: "permission denied",
    "file name too long", "symlink loop" (which ``Path.resolve`` raises as a ``RuntimeError``)."""
    if isinstance(exc, RuntimeError) and "symlink loop" in str(exc).lower():
        return "symlink loop"
    if isinstance(exc, OSError) and exc.errno == errno.ELOOP:
        return "symlink loop"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    return one_line(exc)


class SeeispError(Exception):
    """Base class: anything the user can fix (bad file, bad option)."""


class RawReadError(SeeispError):
    """The file is missing, empty, truncated or not a raw image LibRaw can read."""


class RawTooLargeError(RawReadError):
    """The raw's header claims more pixels than the limit, or more than its data can hold: refused before decoding."""


class MemoryBudgetError(RawTooLargeError):
    """The raw would take more memory than is free (``seeisp.budget``): refused before decoding."""


class UnsupportedSensorError(SeeispError):
    """The raw is readable but neither a 2x2 Bayer nor a 6x6 X-Trans mosaic (Foveon, sRAW, linear DNG, monochrome)."""


class InvalidOptionError(SeeispError, ValueError):
    """An option's value is not one seeisp takes: passes, white balance, tile size."""


class InvalidArgumentTypeError(InvalidOptionError, TypeError):
    """A Python caller passed an argument of a type seeisp does not take (a path of None, a ratio of True)."""


class InvalidRatioError(InvalidOptionError):
    """The amplification ratio is neither 'auto' nor a number from 1 to 300."""


class OutputError(SeeispError):
    """The output cannot be written (unwritable folder, would overwrite an input, unknown format)."""


class ModelError(SeeispError):
    """A model name is unknown or its ONNX file is missing or malformed."""


class DarkFrameError(SeeispError):
    """A dark frame saw light, or does not fit the picture (another colour filter, camera or ISO)."""


class PictureReadError(SeeispError):
    """A clean picture (training or benchmark) is missing or cannot be read."""
