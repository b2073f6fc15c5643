"""The page's temporary folders: one per process (Gradio's cache too), one per app inside it, one per run."""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import tempfile
import threading
from pathlib import Path

from .settings import KEEP_RUNS

# Gradio fixes some of its temporary paths when it is imported, so point them into a folder of
# ours first: the page writes nothing outside it, and it is deleted when the process ends.
PROCESS_DIR = Path(tempfile.mkdtemp(prefix="seeisp-ui-")).resolve()
atexit.register(shutil.rmtree, PROCESS_DIR, ignore_errors=True)
os.environ["GRADIO_TEMP_DIR"] = str(PROCESS_DIR)


class Workspace:
    """The app's one temporary folder: Gradio's upload cache, the demo raw and a folder per run."""

    def __init__(self, keep_runs: int = KEEP_RUNS):
        PROCESS_DIR.mkdir(exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix="app-", dir=PROCESS_DIR))
        self.keep_runs = keep_runs
        self._runs = self.root / "results"
        self._runs.mkdir()
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        atexit.register(self.close)

    def new_run(self) -> Path:
        """A fresh folder for one request's outputs; the oldest runs beyond ``keep_runs`` are deleted."""
        with self._lock:
            folder = self._runs / f"run-{next(self._counter):06d}"
            folder.mkdir()
            for old in sorted(self._runs.iterdir())[: -self.keep_runs]:
                shutil.rmtree(old, ignore_errors=True)
        return folder

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
