"""The page's temporary folders: one per process (Gradio's cache too), one per app inside it, one per browser
session inside that, one per run inside the session's; bounded in bytes per session and overall, oldest run first."""

from __future__ import annotations

import atexit
import hashlib
import itertools
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

# Gradio fixes some of its temporary paths when it is imported, so point them into a folder of
# ours first: the page writes nothing outside it, and it is deleted when the process ends.
PROCESS_DIR = Path(tempfile.mkdtemp(prefix="seeisp-ui-")).resolve()
atexit.register(shutil.rmtree, PROCESS_DIR, ignore_errors=True)
os.environ["GRADIO_TEMP_DIR"] = str(PROCESS_DIR)

RUN_PREFIX = "run-"


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def session_folder_name(session: str) -> str:
    """A folder name for a browser session's id: the id itself when it is tame, else a digest of it."""
    if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", session):
        return session
    return hashlib.sha256(session.encode()).hexdigest()[:32]


class Workspace:
    """The app's one temporary folder: Gradio's upload cache, the demo raw and the results of each session.

    Results are kept while a session's runs take at most ``session_bytes`` and all sessions' at most
    ``total_bytes``; beyond that the oldest runs are deleted first (never the run just made).
    """

    def __init__(self, session_bytes: int, total_bytes: int):
        PROCESS_DIR.mkdir(exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix="app-", dir=PROCESS_DIR))
        self.session_bytes = session_bytes
        self.total_bytes = total_bytes
        self.results = self.root / "results"
        self.results.mkdir()
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        atexit.register(self.close)

    def new_run(self, session: str) -> Path:
        """A fresh folder for one request's outputs, inside the session's own."""
        with self._lock:
            folder = self.results / session_folder_name(session) / f"{RUN_PREFIX}{next(self._counter):06d}"
            folder.mkdir(parents=True)
        return folder

    def runs(self) -> list[Path]:
        """Every run folder of every session, oldest first."""
        return sorted(self.results.glob(f"*/{RUN_PREFIX}*"), key=lambda run: run.name)

    def trim(self, keep: Path) -> list[Path]:
        """Delete the oldest runs until the session of ``keep`` and all sessions fit their caps; ``keep``, the run
        just made, stays whatever its size. Returns the runs deleted."""
        with self._lock:
            sizes = {run: folder_bytes(run) for run in self.runs()}
            deleted = []
            for run in list(sizes):
                mine = run.parent == keep.parent
                session_used = sum(size for r, size in sizes.items() if r.parent == keep.parent)
                over_session = mine and session_used > self.session_bytes
                over_total = sum(sizes.values()) > self.total_bytes
                if run != keep and (over_session or over_total):
                    shutil.rmtree(run, ignore_errors=True)
                    deleted.append(run)
                    del sizes[run]
            return deleted

    def forget(self, session: str) -> None:
        """Delete a session's results (its browser tab was closed)."""
        shutil.rmtree(self.results / session_folder_name(session), ignore_errors=True)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
