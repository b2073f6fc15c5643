"""Procedural training pictures: what photographs rarely hold but a raw converter must get right.

Bars down to one pixel wide (in every orientation), sharp-edged flat patches in saturated colours,
dark text on light cards and light text on dark ones, and "dead leaves" (overlapping discs and
rectangles, a classic model of natural-image statistics with edges at every scale). Photographs
that have been resized before they reach the training set are soft at the pixel scale, so a network
trained on them alone never learns, for instance, that one-pixel bars show up in the raw as a
difference between the two green sites of the Bayer quad.

``draw_pattern`` makes an 8-bit sRGB picture from a random generator; the training data mixes
them in with the photographs (``SyntheticPairs.pattern_share``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFont

GLYPHS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.,:;-+=/()#%&@"


def draw_pattern(rng: np.random.Generator, size: int) -> np.ndarray:
    """One random procedural picture, (size, size, 3) uint8 sRGB."""
    kinds: list[Callable[[np.random.Generator, int], np.ndarray]] = [_bars, _dead_leaves, _text, _patches]
    return kinds[int(rng.integers(len(kinds)))](rng, size)


def _colour(rng: np.random.Generator) -> tuple[int, int, int]:
    """Greys half the time (black to white), else any colour, often saturated."""
    if rng.random() < 0.5:
        v = int(rng.integers(0, 256))
        return v, v, v
    c = rng.integers(0, 256, 3)
    if rng.random() < 0.5:  # push towards the gamut's edge
        c = np.where(c > 127, 255 - rng.integers(0, 40, 3), rng.integers(0, 40, 3))
    return int(c[0]), int(c[1]), int(c[2])


def _contrasting_pair(rng: np.random.Generator) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    if rng.random() < 0.5:  # black and white ink, as on a test chart
        dark, light = int(rng.integers(0, 40)), int(rng.integers(200, 256))
        return (dark,) * 3, (light,) * 3
    a, b = _colour(rng), _colour(rng)
    if abs(sum(a) - sum(b)) < 3 * 64:  # too close to tell apart at a glance: black or white, whichever is farther
        b = (0, 0, 0) if sum(a) > 3 * 128 else (255, 255, 255)
    return a, b


def _bars(rng: np.random.Generator, size: int) -> np.ndarray:
    """Groups of parallel bars, 1 to 8 pixels wide, vertical, horizontal or slanted."""
    image = np.empty((size, size, 3), np.uint8)
    image[:] = _colour(rng)
    y, x = np.mgrid[0:size, 0:size]
    for _ in range(int(rng.integers(1, 4))):
        width = int(rng.choice([1, 1, 1, 2, 2, 3, 4, 6, 8]))
        a, b = _contrasting_pair(rng)
        orientation = rng.integers(4)
        if orientation == 0:
            coord = x
        elif orientation == 1:
            coord = y
        else:
            angle = rng.uniform(0, np.pi)
            coord = np.floor(x * np.cos(angle) + y * np.sin(angle)).astype(np.int64)
        bars = ((coord + int(rng.integers(0, 2 * width))) // width) % 2 == 0
        top, left = rng.integers(0, size // 2, 2)
        bottom, right = top + rng.integers(size // 4, size), left + rng.integers(size // 4, size)
        region = (y >= top) & (y < bottom) & (x >= left) & (x < right)
        image[region & bars] = a
        image[region & ~bars] = b
    return image


def _dead_leaves(rng: np.random.Generator, size: int) -> np.ndarray:
    """Overlapping discs and rectangles with sizes spread over scales (a power law)."""
    canvas = Image.new("RGB", (size, size), _colour(rng))
    draw = ImageDraw.Draw(canvas)
    for _ in range(int(rng.integers(200, 500))):
        radius = float(np.clip((rng.pareto(2.0) + 1) * 3.0, 1, size / 2))
        cx, cy = rng.uniform(-radius, size + radius, 2)
        box = (cx - radius, cy - radius, cx + radius, cy + radius)
        if rng.random() < 0.5:
            draw.ellipse(box, fill=_colour(rng))
        else:
            draw.rectangle(box, fill=_colour(rng))
    return np.asarray(canvas)


def _text(rng: np.random.Generator, size: int) -> np.ndarray:
    """Lines of random characters at random sizes, dark on light or light on dark."""
    ink, paper = _contrasting_pair(rng)
    if rng.random() < 0.5:
        ink, paper = paper, ink
    canvas = Image.new("RGB", (size, size), paper)
    draw = ImageDraw.Draw(canvas)
    y = float(rng.uniform(-4, 4))
    while y < size:
        px = int(rng.integers(6, 24))
        line = "".join(rng.choice(list(GLYPHS + "  "), int(2 * size / px)))
        draw.text((float(rng.uniform(-8, 4)), y), line, fill=ink, font=ImageFont.load_default(size=px))
        y += px * rng.uniform(1.1, 1.8)
    return np.asarray(canvas)


def _patches(rng: np.random.Generator, size: int) -> np.ndarray:
    """A grid of flat colour patches on a dark or light frame, like a colour chart."""
    canvas = Image.new("RGB", (size, size), _colour(rng))
    draw = ImageDraw.Draw(canvas)
    cells = int(rng.integers(2, 7))
    cell = size / cells
    gap = rng.uniform(0.03, 0.15) * cell
    for row in range(cells):
        for col in range(cells):
            box = (col * cell + gap, row * cell + gap, (col + 1) * cell - gap, (row + 1) * cell - gap)
            draw.rectangle(box, fill=_colour(rng))
    return np.asarray(canvas)
