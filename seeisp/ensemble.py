"""The network over an RGGB mosaic: one pass, or the geometric self-ensemble ("x8").

The self-ensemble averages the network's output over the 8 orientations of the dihedral group
of the square (transpose x upside down x left-right), each turned back to the frame's own
orientation: better quality for 8 times the work (measured in weights/MODEL_CARD.md). Fewer orientations
give part of the gain for less (``orientation_set``): 2 passes (as is and turned 180 degrees) or 4.

The network reads RGGB only, so each orientation must keep that phase exactly:

* transposing an RGGB mosaic gives RGGB again (the two greens swap places, both green);
* flipping an even RGGB mosaic left-right gives GRBG; dropping its first and last column makes
  it RGGB again, two columns narrower. Its output, flipped back, covers the frame's columns
  1 to W-2 only: the two border columns get no weight from that pass, the passes without the
  flip cover them. Upside down is the same with rows.
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .errors import InvalidOptionError
from .noise_level import NoiseLevel, noise_plane
from .pack import INPUT_RANGE, amplify, pack
from .session import ModelSession, ProgressFn

MIN_FLIPPED_SIDE = 4  # a flip drops two rows (columns) of the mosaic; fewer than 4 would leave less than a 2x2 cell


@dataclass(frozen=True)
class Orientation:
    """One element of the dihedral group, as it acts on an even RGGB mosaic (or an image of its size).

    ``forward`` transposes first (if asked), then flips upside down and/or left-right and drops the
    first and last row/column of each flipped axis, so that the result reads RGGB again. ``inverse``
    turns an output of the network back; it covers ``region`` of the frame, where this orientation's
    weight is 1 (0 on the dropped border).
    """

    transpose: bool = False
    flip_rows: bool = False  # upside down, after the transpose
    flip_cols: bool = False  # left-right, after the transpose

    def forward(self, image: np.ndarray) -> np.ndarray:
        """(H, W, ...) -> the same seen in this orientation, (H', W', ...) with H', W' the sides less the
        dropped border; a view. On an even RGGB mosaic the result is an even RGGB mosaic."""
        x = image.swapaxes(0, 1) if self.transpose else image
        if self.flip_rows:
            x = x[::-1][1:-1]
        if self.flip_cols:
            x = x[:, ::-1][:, 1:-1]
        return x

    def inverse(self, output: np.ndarray) -> np.ndarray:
        """The network's output (H', W', ...) for ``forward(mosaic)`` -> frame orientation; a view that
        covers ``region(mosaic.shape)`` of the frame."""
        x = output
        if self.flip_rows:
            x = x[::-1]
        if self.flip_cols:
            x = x[:, ::-1]
        return x.swapaxes(0, 1) if self.transpose else x

    @property
    def crops(self) -> tuple[bool, bool]:
        """Whether the frame's first and last row, and its first and last column, are dropped."""
        return (self.flip_cols, self.flip_rows) if self.transpose else (self.flip_rows, self.flip_cols)

    def region(self, shape: tuple[int, int]) -> tuple[slice, slice]:
        """The rows and columns of an (H, W) frame that this orientation's output covers (weight 1)."""
        (rows, cols), (crop_rows, crop_cols) = shape[:2], self.crops
        return (slice(1, rows - 1) if crop_rows else slice(rows), slice(1, cols - 1) if crop_cols else slice(cols))

    def fits(self, shape: tuple[int, int]) -> bool:
        """Whether a frame of this shape is large enough to flip as this orientation does."""
        return all(n >= MIN_FLIPPED_SIDE for n, crop in zip(shape[:2], self.crops, strict=True) if crop)


IDENTITY = Orientation()
ORIENTATIONS: tuple[Orientation, ...] = tuple(
    Orientation(transpose, flip_rows, flip_cols)
    for transpose, flip_rows, flip_cols in itertools.product((False, True), repeat=3)
)
TURNED = Orientation(flip_rows=True, flip_cols=True)  # turned 180 degrees
TRANSPOSED = Orientation(transpose=True)

# The self-ensembles offered, by number of passes: each set was the best of its size when measured (the table and
# benchmarks/ensemble_passes.py left the repository; git keeps them, commit 2bc20a4).
PASSES = (1, 2, 4, 8)
_SETS: dict[int, tuple[Orientation, ...]] = {
    1: (IDENTITY,),
    2: (IDENTITY, TURNED),
    4: (IDENTITY, TURNED, TRANSPOSED, Orientation(transpose=True, flip_rows=True, flip_cols=True)),
    8: ORIENTATIONS,
}


def check_passes(passes: int) -> int:
    """``passes`` as an int once it is one of ``PASSES``; else ``InvalidOptionError``, one line."""
    if isinstance(passes, bool | np.bool_) or not isinstance(passes, numbers.Integral) or passes not in PASSES:
        raise InvalidOptionError(f"passes must be {', '.join(map(str, PASSES[:-1]))} or {PASSES[-1]}, not {passes!r}")
    return int(passes)


def orientation_set(passes: int, shape: tuple[int, int]) -> tuple[Orientation, ...]:
    """The orientations of a ``passes``-pass ensemble that a frame of ``shape`` fits: all of them, fewer when a
    side is under ``MIN_FLIPPED_SIDE`` (never none)."""
    return tuple(o for o in _SETS[check_passes(passes)] if o.fits(shape))


def ensemble_suffix(passes: int) -> str:
    """How a model run as a self-ensemble is named: "lite" + " x8"; "" for a single pass."""
    return f" x{passes}" if passes > 1 else ""


def coverage(orientations: Sequence[Orientation], shape: tuple[int, int]) -> np.ndarray:
    """(H, W) float32: the summed weights of the orientations at each pixel (8 inside the frame for all 8)."""
    total = np.zeros(shape[:2], np.float32)
    for orientation in orientations:
        total[orientation.region(shape)] += 1
    return total


def network_planes(
    mosaic: np.ndarray,
    ratio: float,
    input_range: tuple[float, float] = INPUT_RANGE,
    noise: NoiseLevel | None = None,
) -> np.ndarray:
    """An even RGGB mosaic (H, W) -> the network's input: (4, H/2, W/2) packed and amplified, and with ``noise``
    (the raw's noise level) a fifth plane, the expected noise of each pixel (``seeisp.noise_level.noise_plane``)."""
    packed = amplify(pack(mosaic), ratio, input_range)
    if noise is None:
        return packed
    return np.concatenate([packed, noise_plane(packed, noise, ratio)])


def single_pass(
    mosaic: np.ndarray,
    session: ModelSession,
    ratio: float,
    tile: int | None = None,
    overlap: int | None = None,
    progress: ProgressFn | None = None,
    noise: NoiseLevel | None = None,
) -> np.ndarray:
    """An even RGGB mosaic (H, W) -> the network's linear camera RGB (H, W, 3), float32 (a view).

    ``noise`` is the raw's noise level, which a session with a noise plane needs and any other does not take.
    """
    if session.noise_plane != (noise is not None):
        needs = "needs the raw's noise level" if session.noise_plane else "reads no noise level"
        raise ValueError(f"{session.name}: this network {needs}")
    packed = network_planes(mosaic, ratio, session.input_range, noise)
    return session.run_tiled(packed, tile=tile, overlap=overlap, progress=progress).transpose(1, 2, 0)


def self_ensemble(
    mosaic: np.ndarray,
    session: ModelSession,
    ratio: float,
    tile: int | None = None,
    overlap: int | None = None,
    progress: ProgressFn | None = None,
    orientations: Sequence[Orientation] | None = None,
    noise: NoiseLevel | None = None,
) -> np.ndarray:
    """Like ``single_pass``, averaged over ``orientations`` (default: every one the frame fits, 8 in practice).

    Each pass runs through ``ModelSession.run_tiled``; ``progress`` counts tiles over all passes.
    The sum is kept in one float32 (H, W, 3) array and divided in place, so memory stays a few
    frames' worth: one output of a pass, the sum, and the (H, W) coverage.
    """
    h, w = mosaic.shape
    if h % 2 or w % 2:
        raise ValueError(f"the self-ensemble needs an even-sized RGGB mosaic, got {h} x {w}")
    chosen = tuple(orientation_set(8, (h, w)) if orientations is None else orientations)
    if not chosen or not all(o.fits((h, w)) for o in chosen):
        raise ValueError(f"a {h} x {w} mosaic is too small for the orientations asked for (a flipped side needs 4)")
    views = [o.forward(mosaic) for o in chosen]
    counts = [session.tile_count(v.shape[0] // 2, v.shape[1] // 2, tile, overlap) for v in views]
    total, done = sum(counts), 0
    summed = np.zeros((h, w, 3), np.float32)
    for orientation, view, count in zip(chosen, views, counts, strict=True):

        def report(tiles: int, _: int, before: int = done) -> None:
            if progress:
                progress(before + tiles, total)

        output = single_pass(view, session, ratio, tile, overlap, report, noise)
        summed[orientation.region((h, w))] += orientation.inverse(output)
        del output  # before the next pass allocates its own
        done += count
    summed /= coverage(chosen, (h, w))[..., None]
    return summed
