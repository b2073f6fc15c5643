"""Fujifilm X-Trans raws, served by the Bayer networks: the 6x6 mosaic is resampled onto an RGGB grid.

seeisp has no network that reads X-Trans natively (SID's X-Trans model packs each 6x6 cell into 9 channels at a
third of the resolution; none is trained here). Instead every site of a Bayer grid of the frame's own size takes
the X-Trans value there where the colours agree, else the mean of the nearest X-Trans sites of its colour
(``resampling_table``); a red or blue site also takes half of the green detail between it and those sites
(``GREEN_DETAIL``). No demosaicking: the network still sees raw values with nearly white noise, and its
full-resolution camera RGB is the picture, pixel for pixel.

The Bayer grid is anchored to the X-Trans cell, not to the frame's corner: ``phase`` finds where the frame starts
in the reference cell, so a crop that shifts the pattern shifts the Bayer grid with it (up to the cell's own
symmetry, see ``phase``).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools

import numpy as np

from .hot_pixels import remove_hot_pixels
from .raw import CFA, RawImage, XTransCFA

# The X-Trans cell at the top-left of a Fujifilm X-T30 II frame (its XTransLayout, as rawspeed's camera list and
# LibRaw give it). Every X-Trans body uses this layout; crops and sensor margins only shift it.
REFERENCE = XTransCFA("GGRGGBGGBGGRBRGRBGGGBGGRGGRGGBRBGBRG")
SIDE = 6  # pixels per side of the X-Trans cell
_REACH = 2  # pixels: the farthest an X-Trans site may lie from the Bayer site it is averaged into
# How much of the green difference between a red or blue Bayer site and the X-Trans sites it averages is added to
# it (0: their plain mean, 1: full colour-difference interpolation). All of it recovers the most detail, but
# carries the greens' noise into red and blue as noise the networks were not trained on; half measured best at
# every ratio (docs/PERFORMANCE.md, X-Trans).
GREEN_DETAIL = 0.5


def phase(cfa: XTransCFA) -> tuple[int, int]:
    """(rows, columns) by which the frame starts into ``REFERENCE``: the frame's site (y, x) has the colour of
    the reference's site ((y + rows) % 6, (x + columns) % 6). (0, 0) for a 6x6 layout that is not X-Trans's,
    which is then served from its own top-left corner.

    The X-Trans cell is itself again 3 rows down and 3 columns across, so two phases fit every frame; the one
    with ``rows < 3`` is taken. Of the 36 crops of a raw, the 18 whose true phase is the other get the Bayer
    grid one site off in both directions (BGGR where the others have RGGB): the same picture, sampled apart."""
    for dy, dx in itertools.product(range(SIDE), repeat=2):
        if all(cfa.value[6 * y + x] == _letter(REFERENCE, y + dy, x + dx) for y in range(6) for x in range(6)):
            return dy, dx
    return 0, 0


def bayer_cfa(cfa: XTransCFA) -> CFA:
    """The phase of the Bayer grid a frame with this X-Trans cell is resampled to: RGGB at the reference's corner."""
    dy, dx = phase(cfa)
    return CFA("".join("RGGB"[2 * ((y + dy) % 2) + (x + dx) % 2] for y in range(2) for x in range(2)))


@functools.cache
def resampling_table(cfa: XTransCFA) -> dict[tuple[int, int], tuple[tuple[int, int], ...]]:
    """For each site (y, x) of the 6x6 cell, the offsets of the X-Trans sites whose mean its Bayer site takes:
    those of the Bayer site's colour nearest to it (the site itself where the colours agree)."""
    bayer = bayer_cfa(cfa)
    return {
        (y, x): _nearest(cfa, y, x, bayer.value[2 * (y % 2) + x % 2])
        for y, x in itertools.product(range(SIDE), repeat=2)
    }


@functools.cache
def _green_table(cfa: XTransCFA) -> dict[tuple[int, int], tuple[tuple[int, int], ...]]:
    """For each site of the 6x6 cell, the offsets of its nearest green X-Trans sites (itself on a green site)."""
    return {(y, x): _nearest(cfa, y, x, "G") for y, x in itertools.product(range(SIDE), repeat=2)}


def _nearest(cfa: XTransCFA, y: int, x: int, colour: str) -> tuple[tuple[int, int], ...]:
    offsets = [
        (oy, ox)
        for oy, ox in itertools.product(range(-_REACH, _REACH + 1), repeat=2)
        if _letter(cfa, y + oy, x + ox) == colour
    ]
    nearest = min(oy * oy + ox * ox for oy, ox in offsets)
    return tuple(offset for offset in offsets if offset[0] ** 2 + offset[1] ** 2 == nearest)


def to_bayer(mosaic: np.ndarray, cfa: XTransCFA) -> np.ndarray:
    """An X-Trans mosaic (H, W) with the cell ``cfa`` -> a Bayer mosaic (H, W) in the phase ``bayer_cfa(cfa)``.

    Each Bayer site takes the mean of ``resampling_table``'s sites; a red or blue one that is not itself such a
    site adds ``GREEN_DETAIL`` of the difference between the green at it and the mean green at those sites."""
    h, w = mosaic.shape
    if min(h, w) < SIDE:
        raise ValueError(f"an X-Trans mosaic needs at least {SIDE} x {SIDE} pixels, got {h} x {w}")
    padded = _pad_by_cells(mosaic.astype(np.float32, copy=False), _REACH)
    green = _site_means(padded, (h, w), _green_table(cfa))  # the green at every site: its own, else its nearest's
    padded_green = _pad_by_cells(green, _REACH)
    bayer = bayer_cfa(cfa)
    out = np.empty((h, w), np.float32)
    for (y, x), offsets in resampling_table(cfa).items():
        colour = bayer.value[2 * (y % 2) + x % 2]
        if colour == "G":
            out[y::SIDE, x::SIDE] = green[y::SIDE, x::SIDE]
            continue
        value = _mean_at(padded, y, x, offsets, out[y::SIDE, x::SIDE].shape)
        if offsets != ((0, 0),):
            detail = green[y::SIDE, x::SIDE] - _mean_at(padded_green, y, x, offsets, value.shape)
            value += np.float32(GREEN_DETAIL) * detail
        out[y::SIDE, x::SIDE] = value
    return out


def _site_means(
    padded: np.ndarray, shape: tuple[int, int], table: dict[tuple[int, int], tuple[tuple[int, int], ...]]
) -> np.ndarray:
    """The (``shape``) mosaic, given padded by ``_REACH``, with each site replaced by the mean of the sites
    ``table`` gives for its place in the cell."""
    out = np.empty(shape, np.float32)
    for (y, x), offsets in table.items():
        out[y::SIDE, x::SIDE] = _mean_at(padded, y, x, offsets, out[y::SIDE, x::SIDE].shape)
    return out


def _mean_at(
    padded: np.ndarray, y: int, x: int, offsets: tuple[tuple[int, int], ...], shape: tuple[int, int]
) -> np.ndarray:
    """The mean over ``offsets`` of the sites at (y, x) of every cell, read from a mosaic padded by ``_REACH``."""
    rows, cols = shape
    total = np.zeros((rows, cols), np.float32)
    for oy, ox in offsets:
        total += padded[_REACH + y + oy :: SIDE, _REACH + x + ox :: SIDE][:rows, :cols]
    return total / np.float32(len(offsets))


def as_bayer(raw: RawImage, hot_pixels: bool = True) -> RawImage:
    """An X-Trans raw as the Bayer raw the networks read (``to_bayer``), its hot sites replaced first
    (``seeisp.hot_pixels``, one X-Trans cell apart) unless ``hot_pixels=False``. Everything else is kept: the
    network's camera RGB for it is that of the X-Trans raw, and renders with the X-Trans raw's metadata."""
    if not isinstance(raw.cfa, XTransCFA):
        raise ValueError(f"not an X-Trans raw: colour filter {raw.cfa.value}")
    mosaic = remove_hot_pixels(raw.mosaic, period=SIDE) if hot_pixels else raw.mosaic
    return dataclasses.replace(raw, mosaic=to_bayer(mosaic, raw.cfa), cfa=bayer_cfa(raw.cfa))


def shifted(cfa: XTransCFA, rows: int, cols: int) -> XTransCFA:
    """The cell a crop ``rows`` lower and ``cols`` further right starts with."""
    return XTransCFA("".join(_letter(cfa, y + rows, x + cols) for y in range(SIDE) for x in range(SIDE)))


def _letter(cfa: XTransCFA, y: int, x: int) -> str:
    return cfa.value[SIDE * (y % SIDE) + x % SIDE]


def _pad_by_cells(mosaic: np.ndarray, pad: int) -> np.ndarray:
    """The mosaic with ``pad`` more rows and columns on every side, each a copy of the row (column) one cell
    inside, so that every site keeps its colour."""
    h, w = mosaic.shape
    rows = np.concatenate([mosaic[SIDE - pad : SIDE], mosaic, mosaic[h - SIDE : h - SIDE + pad]])
    return np.concatenate([rows[:, SIDE - pad : SIDE], rows, rows[:, w - SIDE : w - SIDE + pad]], axis=1)
