"""The web server's settings and their checks: address, port, upload limit, concurrency, files per run, disk caps."""

from __future__ import annotations

import errno
import re
import socket
from dataclasses import dataclass

from ..errors import SeeispError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
DEFAULT_MAX_FILE_SIZE = "200MB"
DEFAULT_CONCURRENCY = 1
MAX_FILES_PER_RUN = 10
DEFAULT_SESSION_DISK = "2GB"  # results kept per browser session; its oldest runs are deleted beyond it
DEFAULT_TOTAL_DISK = "10GB"  # results kept for all sessions together; the oldest runs anywhere go first
DEFAULT_JOB_MEMORY = "16GB"  # the memory one run may take: a raw too large for it is refused before it is decoded
DEFAULT_JOB_TIME = 900.0  # seconds one run may take: it is stopped at the next tile or stage beyond them

_SIZE_UNITS = {"": 1, "B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "KIB": 1024, "MIB": 1024**2, "GIB": 1024**3}


def parse_size(text: str | int) -> int:
    """'200MB', '1.5 GB', '512KiB' or a number of bytes -> bytes. ``ValueError`` when it is not a size."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(text))
    unit = match.group(2).upper() if match else ""
    if not match or unit not in _SIZE_UNITS or float(match.group(1)) <= 0:
        raise ValueError(f"not a file size: {text!r} (use e.g. 200MB, 1GB)")
    return int(float(match.group(1)) * _SIZE_UNITS[unit])


@dataclass(frozen=True)
class UISettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    max_file_size: str = DEFAULT_MAX_FILE_SIZE
    concurrency: int = DEFAULT_CONCURRENCY
    share: bool = False  # a public *.gradio.live link through Gradio's servers
    max_files: int = MAX_FILES_PER_RUN
    session_disk: str = DEFAULT_SESSION_DISK
    total_disk: str = DEFAULT_TOTAL_DISK
    job_memory: str = DEFAULT_JOB_MEMORY
    job_time: float = DEFAULT_JOB_TIME

    def __post_init__(self) -> None:
        for option, value in (
            ("--max-file-size", self.max_file_size),
            ("--session-disk", self.session_disk),
            ("--total-disk", self.total_disk),
            ("--job-memory", self.job_memory),
        ):
            try:
                parse_size(value)
            except ValueError as exc:
                raise SeeispError(f"{option}: {exc}") from None
        if not 0 < self.port < 65536:
            raise SeeispError(f"--port must be between 1 and 65535, got {self.port}")
        if self.concurrency < 1:
            raise SeeispError(f"--concurrency must be at least 1, got {self.concurrency}")
        if self.max_files < 1:
            raise SeeispError("the files per run must be at least 1")
        if not self.job_time > 0:
            raise SeeispError(f"--job-time must be a number of seconds above 0, got {self.job_time}")

    @property
    def max_file_bytes(self) -> int:
        return parse_size(self.max_file_size)

    @property
    def session_bytes(self) -> int:
        return parse_size(self.session_disk)

    @property
    def total_bytes(self) -> int:
        return parse_size(self.total_disk)

    @property
    def job_bytes(self) -> int:
        return parse_size(self.job_memory)


def check_address(host: str, port: int) -> None:
    """One line saying why the page cannot listen on ``host:port``, before gradio's server starts (whose own log
    lines would come first, and whose error does not tell a busy port from an address this machine lacks)."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise SeeispError(f"cannot listen on {host}:{port}: no such address ({reason}); try --host 127.0.0.1") from None
    failure: OSError | None = None
    for family, kind, proto, _, address in addresses:  # "localhost" may give ::1 first, where IPv6 is off
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: a closing port is free
            try:
                probe.bind(address)
                return
            except OSError as exc:
                failure = exc
    assert failure is not None  # getaddrinfo gives at least one address or raises
    if failure.errno == errno.EADDRINUSE:
        raise SeeispError(f"cannot listen on {host}:{port}: the port is in use; try another --port")
    if failure.errno == errno.EADDRNOTAVAIL:
        raise SeeispError(f"cannot listen on {host}:{port}: this machine has no such address")
    raise SeeispError(f"cannot listen on {host}:{port} ({failure.strerror or failure})")
