"""One ONNX Runtime session of a seeisp network, and tiled inference over frames of any size."""

from __future__ import annotations

import itertools
import json
import numbers
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort

from .errors import InvalidOptionError, ModelError
from .models import default_tile, model_path
from .pack import INPUT_RANGE
from .providers import choose_providers, session_options

ProgressFn = Callable[[int, int], None]  # (tiles done, tiles in all)
# Packed pixels of context each tile sees beyond the part of the output it gives, at least (see tile_overlap).
# The trained networks read about this far: with less, tiled and whole-frame outputs differ more at the seams
# (lite, whose extra convs read further, more than full).
DEFAULT_OVERLAP = 96
MIN_TILE = 64  # packed pixels: smaller tiles would be mostly overlap
# Packed pixels of the input mirrored around it before every network call. The networks' convolutions pad
# with zeros, which leaves a frame's outermost pixels worse than the rest;
# mirrored context gives them what they lack. Chosen on training pictures (0, 8, 16, 24, 32, 48 tried).
CONTEXT_BORDER = 8


def mirror_context(packed: np.ndarray, multiple: int) -> np.ndarray:
    """(..., h, w) with ``CONTEXT_BORDER`` pixels mirrored all round, and the bottom and right padded on (by
    reflection too) to a multiple of ``multiple``: what every network call reads. Training's validation uses it
    as well, so that it scores what inference gives."""
    h, w = packed.shape[-2:]
    b = CONTEXT_BORDER
    ph, pw = b + (-(h + 2 * b)) % multiple, b + (-(w + 2 * b)) % multiple  # bottom and right: the border and the rest
    mode = "reflect" if min(h, w) > max(ph, pw) else "edge"
    return np.pad(packed, [(0, 0)] * (packed.ndim - 2) + [(b, ph), (b, pw)], mode=mode)


def drop_context(output: np.ndarray, packed_size: tuple[int, int]) -> np.ndarray:
    """The network's (..., 2H, 2W) output of ``mirror_context``'s input, cut back to the (h, w) packed input's
    own (..., 2h, 2w)."""
    (h, w), b = packed_size, CONTEXT_BORDER
    return output[..., 2 * b : 2 * (b + h), 2 * b : 2 * (b + w)]


def tile_overlap(tile: int) -> int:
    """The overlap used with a tile size when none is given: an eighth of the tile but at least
    ``DEFAULT_OVERLAP``, and at most 3/8 of it for small tiles.

    Large tiles afford more context for the same share of recomputed work. Lite's 1024 tiles get 128, which
    makes its seams smaller than 96 does and adds no tiles at 12 or 24 MP, since tiles are sized to share the
    frame evenly.
    """
    return min(max(DEFAULT_OVERLAP, tile // 8), 3 * tile // 8)


class ModelSession:
    """A loaded network: ``run`` maps packed raw (4, h, w) to camera RGB (3, 2h, 2w); a network with a noise plane
    (``seeisp.noise_plane`` = 1 in its metadata) reads (5, h, w), the fifth plane each pixel's expected noise
    (``seeisp.ensemble.network_planes`` makes it)."""

    input_range: tuple[float, float] = INPUT_RANGE  # where the amplified input is clipped; set from the metadata
    noise_plane: bool = False  # whether the network reads a fifth plane, the noise of each pixel; from the metadata

    def __init__(self, path: str | Path, providers: Sequence[str] | None = None, threads: int | None = None):
        self.path = Path(path)
        if not self.path.is_file():
            raise ModelError(f"{self.path}: no such model file")
        try:
            self.session = ort.InferenceSession(
                str(self.path), sess_options=session_options(threads), providers=choose_providers(providers)
            )
        except ModelError:
            raise
        except Exception as exc:
            raise ModelError(f"{self.path}: not a loadable ONNX model ({exc})") from None
        self.metadata: dict[str, str] = dict(self.session.get_modelmeta().custom_metadata_map)
        self.noise_plane = self.metadata.get("seeisp.noise_plane", "0") == "1"
        _check_signature(self.session, self.path, self.in_channels)
        self.name = self.metadata.get("seeisp.name", self.path.stem)
        self.pad_multiple = int(self.metadata.get("seeisp.pad_multiple", 16))
        self.width = _model_width(self.metadata)
        self.input_range = _input_range(self.metadata)
        self.input_name = self.session.get_inputs()[0].name
        self.input_type = np.float16 if "float16" in self.session.get_inputs()[0].type else np.float32

    @classmethod
    def from_name(
        cls, name: str | os.PathLike[str], providers: Sequence[str] | None = None, threads: int | None = None
    ) -> ModelSession:
        return cls(model_path(name), providers, threads)

    @property
    def config(self) -> dict:
        return json.loads(self.metadata.get("seeisp.model_config", "{}"))

    @property
    def default_tile(self) -> int:
        """The tile ``run_tiled`` uses when given none: set by the network's width (``seeisp.models.default_tile``)."""
        return default_tile(self.width)

    @property
    def in_channels(self) -> int:
        """The planes the network reads: the packed raw's 4, and the noise plane where it has one."""
        return 5 if self.noise_plane else 4

    def run(self, packed: np.ndarray) -> np.ndarray:
        """(4, h, w), or (5, h, w) with a noise plane -> (3, 2h, 2w). Mirrors ``CONTEXT_BORDER`` pixels around
        the input, pads it to the network's multiple by reflection, runs it and crops back."""
        x = mirror_context(packed, self.pad_multiple)
        try:
            out = self.session.run(None, {self.input_name: x[None].astype(self.input_type)})[0][0]
        except Exception as exc:  # onnxruntime's own errors: a graph that cannot take this input
            raise ModelError(f"{self.path}: the network failed on a {x.shape[1]}x{x.shape[2]} input ({exc})") from None
        if out.shape != (3, 2 * x.shape[1], 2 * x.shape[2]):
            raise ModelError(
                f"{self.path}: gave {_shape_text(out.shape)} for a {_shape_text(x.shape)} input, not "
                f"{_shape_text((3, 2 * x.shape[1], 2 * x.shape[2]))}: not a seeisp network"
            )
        return drop_context(out, packed.shape[-2:]).astype(np.float32, copy=False)

    def tile_count(self, h: int, w: int, tile: int | None = None, overlap: int | None = None) -> int:
        """How many network calls ``run_tiled`` makes on a (4, h, w) input: the total its progress counts to."""
        tile, overlap = self.tiling(tile, overlap)
        if h <= tile and w <= tile:
            return 1
        rows, cols = _tile_spans(h, tile, overlap, self.pad_multiple), _tile_spans(w, tile, overlap, self.pad_multiple)
        return len(rows) * len(cols)

    def tiling(self, tile: int | None, overlap: int | None) -> tuple[int, int]:
        """(tile, overlap) with the defaults filled in; ``InvalidOptionError`` for a tile under ``MIN_TILE``, a
        negative overlap, or a tile that cannot hold the overlap."""
        tile = self.default_tile if tile is None else tile
        if not _whole(tile) or tile < MIN_TILE:
            raise InvalidOptionError(f"tile must be a whole number of at least {MIN_TILE} packed pixels, not {tile!r}")
        overlap = tile_overlap(tile) if overlap is None else overlap
        if not _whole(overlap) or overlap < 0:
            raise InvalidOptionError(f"overlap must be a whole number of packed pixels, 0 or more, not {overlap!r}")
        tile, overlap = int(tile), int(overlap)
        if tile <= 2 * overlap:
            raise InvalidOptionError(f"tile ({tile}) must be more than twice the overlap ({overlap})")
        return tile, overlap

    def run_tiled(
        self,
        packed: np.ndarray,
        tile: int | None = None,
        overlap: int | None = None,
        progress: ProgressFn | None = None,
    ) -> np.ndarray:
        """Like ``run`` but over overlapping tiles, so memory stays bounded on large frames.

        ``tile`` defaults to the model's ``default_tile``, ``overlap`` to ``tile_overlap(tile)``.
        Tiles of at most ``tile`` packed pixels are spread evenly over the frame, sized to the
        network's pad multiple, and neighbours overlap by at least ``2 * overlap``. Across the middle
        of each overlap the two outputs are cross-faded over a narrow band (weights summing to 1), so
        every output pixel comes from a tile that sees about ``overlap`` pixels of context around it
        or more, and no seam shows.
        """
        _, h, w = packed.shape
        tile, overlap = self.tiling(tile, overlap)
        if h <= tile and w <= tile:
            out = self.run(packed)
            if progress:
                progress(1, 1)
            return out
        rows, cols = _tile_spans(h, tile, overlap, self.pad_multiple), _tile_spans(w, tile, overlap, self.pad_multiple)
        ramp = max(2, overlap // 2)  # output pixels
        row_weights, col_weights = _tile_weights(rows, ramp), _tile_weights(cols, ramp)
        out = np.zeros((3, 2 * h, 2 * w), np.float32)
        total, done = len(rows) * len(cols), 0
        for (y0, y1), wy in zip(rows, row_weights, strict=True):
            for (x0, x1), wx in zip(cols, col_weights, strict=True):
                result = self.run(packed[:, y0:y1, x0:x1])
                out[:, 2 * y0 : 2 * y1, 2 * x0 : 2 * x1] += result * np.outer(wy, wx)
                done += 1
                if progress:
                    progress(done, total)
        return out


def _model_width(metadata: dict[str, str]) -> int | None:
    """The network's base width from its metadata (``seeisp.width``, else the model config); None when absent."""
    width = metadata.get("seeisp.width")
    if width is None:
        try:
            width = json.loads(metadata.get("seeisp.model_config", "{}")).get("width")
        except (ValueError, AttributeError):
            return None
    try:
        return int(width)
    except (TypeError, ValueError):
        return None


def _tile_spans(size: int, tile: int, overlap: int, multiple: int) -> list[tuple[int, int]]:
    """(start, end) of tiles of one length covering ``size``, neighbours overlapping by ``2 * overlap`` (the
    last pair by more). The length is the smallest, in steps of ``multiple``, that needs no more tiles than
    ``tile`` does, so little is computed twice; starts stay on the network's pooling grid (multiples of
    ``multiple`` when ``tile`` and ``overlap`` are), as in a whole-frame pass, except the last one."""
    if size <= tile:
        return [(0, size)]

    def starts(length: int) -> list[int]:
        return sorted(set(range(0, size - length, length - 2 * overlap)) | {size - length})

    fewest, length = len(starts(tile)), tile
    while length - multiple > 2 * overlap and len(starts(length - multiple)) == fewest:
        length -= multiple
    return [(start, start + length) for start in starts(length)]


def _tile_weights(spans: list[tuple[int, int]], ramp: int) -> list[np.ndarray]:
    """Per tile, the weights of its output pixels (twice its span) along one axis: 1 in the middle,
    a linear cross-fade ``ramp`` output pixels wide centred on the middle of each overlap with a
    neighbour, 0 beyond it. A neighbour's fade is the complement, so the weights sum to 1 everywhere.
    Where seams lie closer than ``ramp`` (three or more tiles over one stretch), the ramp narrows to
    their distance: two fades of one tile must not overlap, or the weights there would sum to more than 1."""
    centres = [spans[i - 1][1] + spans[i][0] for i in range(1, len(spans))]
    if len(centres) > 1:
        ramp = max(1, min(ramp, min(b - a for a, b in itertools.pairwise(centres))))
    weights = []
    for i, (start, end) in enumerate(spans):
        pos = np.arange(2 * start, 2 * end, dtype=np.float32) + 0.5
        weight = np.ones(pos.size, np.float32)
        if i > 0:
            centre = spans[i - 1][1] + start  # twice the middle of the overlap, in output pixels
            weight = np.minimum(weight, np.clip((pos - centre) / ramp + 0.5, 0, 1))
        if i + 1 < len(spans):
            centre = end + spans[i + 1][0]
            weight = np.minimum(weight, np.clip((centre - pos) / ramp + 0.5, 0, 1))
        weights.append(weight)
    return weights


def _whole(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _input_range(metadata: dict[str, str]) -> tuple[float, float]:
    """Where the network's amplified input is clipped: ``seeisp.input_range`` ("-1,1"), else ``INPUT_RANGE``."""
    text = metadata.get("seeisp.input_range")
    if text is None:
        return INPUT_RANGE
    try:
        low, high = (float(bound) for bound in text.split(","))
    except ValueError:
        raise ModelError(f"seeisp.input_range {text!r} in the model's metadata is not 'low,high'") from None
    return low, high


def _check_signature(session: ort.InferenceSession, path: Path, in_channels: int = 4) -> None:
    """``ModelError`` unless the network takes packed raw (N, 4, h, w) (``in_channels`` 5: with a noise plane) and
    gives camera RGB (N, 3, H, W), as every seeisp network does; caught at load, before any picture is read, instead
    of as a failure deep in inference."""
    inputs, outputs = session.get_inputs(), session.get_outputs()

    def channels(shape: Sequence[int | str | None], count: int) -> bool:  # a named or unknown size fits any count
        return len(shape) == 4 and (not isinstance(shape[1], int) or shape[1] == count)

    if not (len(inputs) == 1 and channels(inputs[0].shape, in_channels) and outputs and channels(outputs[0].shape, 3)):
        takes = ", ".join(_shape_text(i.shape) for i in inputs)
        gives = ", ".join(_shape_text(o.shape) for o in outputs)
        raise ModelError(
            f"{path}: not a seeisp network: it takes {takes} and gives {gives}; a seeisp network takes packed raw "
            f"(N, {in_channels}, h, w) and gives camera RGB (N, 3, 2h, 2w)"
        )


def _shape_text(shape: Sequence[int | str | None]) -> str:
    """(1, 4, 'height', 'width') as "(1, 4, height, width)"."""
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + ")"
