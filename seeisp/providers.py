"""The one place where ONNX Runtime execution providers and thread counts are chosen."""

from __future__ import annotations

import os
from collections.abc import Sequence

import onnxruntime as ort

from .errors import ModelError

# Preferred order: a GPU if the installed onnxruntime build has one, else Apple's CoreML, else the CPU.
PREFERRED_PROVIDERS = ("CUDAExecutionProvider", "CoreMLExecutionProvider", "CPUExecutionProvider")

_ALIASES = {
    "cuda": "CUDAExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "cpu": "CPUExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
    "dml": "DmlExecutionProvider",
}


def choose_providers(requested: Sequence[str] | None = None) -> list[str]:
    """Providers to use, in order. ``requested`` takes short names (cuda, coreml, cpu) or full names."""
    available = ort.get_available_providers()
    if not requested:
        return [p for p in PREFERRED_PROVIDERS if p in available] or ["CPUExecutionProvider"]
    chosen = []
    for name in requested:
        full = _ALIASES.get(name.lower(), name)
        if full not in available:
            raise ModelError(f"execution provider {name!r} is not available here (available: {', '.join(available)})")
        chosen.append(full)
    return chosen


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity mask, where the system has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def session_options(threads: int | None = None) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return options
