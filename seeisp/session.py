"""One ONNX Runtime session of a seeisp network, and tiled inference over frames of any size."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort

from .errors import ModelError
from .models import model_path
from .providers import choose_providers, session_options

ProgressFn = Callable[[int, int], None]  # (tiles done, tiles in all)


class ModelSession:
    """A loaded network: ``run`` maps packed raw (4, h, w) to camera RGB (3, 2h, 2w)."""

    def __init__(self, path: str | Path, providers: Sequence[str] | None = None, threads: int | None = None):
        self.path = Path(path)
        try:
            self.session = ort.InferenceSession(
                str(self.path), sess_options=session_options(threads), providers=choose_providers(providers)
            )
        except ModelError:
            raise
        except Exception as exc:
            raise ModelError(f"{self.path}: not a loadable ONNX model ({exc})") from None
        self.metadata: dict[str, str] = dict(self.session.get_modelmeta().custom_metadata_map)
        self.name = self.metadata.get("seeisp.name", self.path.stem)
        self.pad_multiple = int(self.metadata.get("seeisp.pad_multiple", 16))
        self.input_name = self.session.get_inputs()[0].name
        self.input_type = np.float16 if "float16" in self.session.get_inputs()[0].type else np.float32

    @classmethod
    def from_name(cls, name: str, providers: Sequence[str] | None = None, threads: int | None = None) -> ModelSession:
        return cls(model_path(name), providers, threads)

    @property
    def config(self) -> dict:
        return json.loads(self.metadata.get("seeisp.model_config", "{}"))

    def run(self, packed: np.ndarray) -> np.ndarray:
        """(4, h, w) -> (3, 2h, 2w); pads to the network's multiple by reflection and crops back."""
        _, h, w = packed.shape
        m = self.pad_multiple
        ph, pw = (-h) % m, (-w) % m
        x = np.pad(packed, ((0, 0), (0, ph), (0, pw)), mode="reflect" if min(h, w) > max(ph, pw) else "edge")
        out = self.session.run(None, {self.input_name: x[None].astype(self.input_type)})[0][0]
        return out[:, : 2 * h, : 2 * w].astype(np.float32, copy=False)

    def run_tiled(
        self, packed: np.ndarray, tile: int = 512, overlap: int = 64, progress: ProgressFn | None = None
    ) -> np.ndarray:
        """Like ``run`` but over overlapping tiles, so memory stays bounded on large frames.

        Neighbouring tiles overlap by ``2 * overlap`` packed pixels. Each output pixel comes from
        the tile that sees at least ``overlap`` pixels of context around it; across the line
        where two tiles meet, their outputs are cross-faded over a narrow band, so no seam shows.
        """
        _, h, w = packed.shape
        if h <= tile and w <= tile:
            out = self.run(packed)
            if progress:
                progress(1, 1)
            return out
        ys, xs = _tile_starts(h, tile, overlap), _tile_starts(w, tile, overlap)
        out = np.zeros((3, 2 * h, 2 * w), np.float32)
        weight_sum = np.zeros((2 * h, 2 * w), np.float32)
        total, done = len(ys) * len(xs), 0
        for y in ys:
            for x in xs:
                th, tw = min(tile, h - y), min(tile, w - x)
                result = self.run(packed[:, y : y + th, x : x + tw])
                weight = np.outer(
                    _tile_weights(2 * th, 2 * overlap, y > 0, y + th < h),
                    _tile_weights(2 * tw, 2 * overlap, x > 0, x + tw < w),
                )
                out[:, 2 * y : 2 * (y + th), 2 * x : 2 * (x + tw)] += result * weight
                weight_sum[2 * y : 2 * (y + th), 2 * x : 2 * (x + tw)] += weight
                done += 1
                if progress:
                    progress(done, total)
        out /= weight_sum
        return out


def _tile_starts(size: int, tile: int, overlap: int) -> list[int]:
    if size <= tile:
        return [0]
    step = tile - 2 * overlap
    return sorted(set(range(0, size - tile, step)) | {size - tile})


def _tile_weights(n: int, context: int, fade_in: bool, fade_out: bool) -> np.ndarray:
    """Weights along one axis of an ``n``-pixel tile output: 1 in the middle, 0 within ``context``
    of an inner edge, and a linear ramp of a quarter of ``context`` centred on that boundary.
    Two neighbours' ramps meet on the same line and sum to 1 there."""
    band = max(2, context // 4)
    pos = np.arange(n, dtype=np.float32) + 0.5
    weight = np.ones(n, np.float32)
    if fade_in:
        weight = np.minimum(weight, np.clip((pos - context + band / 2) / band, 0, 1))
    if fade_out:
        weight = np.minimum(weight, np.clip((n - pos - context + band / 2) / band, 0, 1))
    return weight
