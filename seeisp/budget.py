"""The memory a run will take, estimated from the raw's header before decoding, against what this machine has free.

The estimate is a fixed part (Python, ONNX Runtime, a loaded model), the frame's float copies (mosaic, camera RGB,
rendered picture: a number of bytes per raw pixel) and ONNX Runtime's buffers, which grow with the network's width
times the tile's area. The constants are fitted to the peaks measured in docs/PERFORMANCE.md ("End to end", "Tiles
and memory") and rounded up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import MemoryBudgetError

FIXED_BYTES = 400e6
FRAME_BYTES_PER_PIXEL = 40
TILE_BYTES_PER_WIDTH = 26  # per packed pixel of the tile and per channel of the network's base width
MEMINFO = Path("/proc/meminfo")


@dataclass(frozen=True)
class MemoryBudget:
    """The memory free for a run, and what it takes besides the frame: checked against a raw's pixel count."""

    free_bytes: float
    fixed_bytes: float
    bytes_per_pixel: float = FRAME_BYTES_PER_PIXEL

    def needed(self, pixels: int) -> float:
        return self.fixed_bytes + self.bytes_per_pixel * pixels

    def max_megapixels(self) -> float:
        """The largest raw that fits, in megapixels."""
        return max(0.0, self.free_bytes - self.fixed_bytes) / self.bytes_per_pixel / 1e6

    def check(self, path: Path, pixels: int) -> None:
        """``MemoryBudgetError`` when a raw of ``pixels`` would take more memory than is free."""
        needed = self.needed(pixels)
        if needed > self.free_bytes:
            raise MemoryBudgetError(
                f"{path}: needs about {needed / 1e9:.1f} GB of memory, {self.free_bytes / 1e9:.1f} GB is free "
                "(a smaller tile needs less)"
            )


def memory_budget(tile: int, width: int | None) -> MemoryBudget | None:
    """The budget of a run with tiles of ``tile`` packed pixels through a network of base ``width`` (32 when
    unknown); None where this system does not say how much memory is free."""
    free = free_bytes()
    return None if free is None else MemoryBudget(free, fixed_bytes(tile, width))


def fixed_bytes(tile: int, width: int | None) -> float:
    """What a run takes besides the frame: Python, ONNX Runtime and the model, and the buffers of one tile of
    ``tile`` packed pixels through a network of base ``width`` (32 when unknown)."""
    return FIXED_BYTES + TILE_BYTES_PER_WIDTH * (width or 32) * tile**2


def free_bytes() -> float | None:
    """The memory the kernel says new work can take (Linux's MemAvailable), or None where it does not say."""
    try:
        for line in MEMINFO.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None
