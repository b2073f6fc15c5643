"""The built-in test scene of ``seeisp demo``: drawn here, so the project ships no third-party pictures.

A 24-patch colour chart, a Siemens star, colour and grey gradients, fine text and line pairs:
colour, resolution, smooth tones and small detail, the things a low-light ISP must get right.
The layout scales with the requested size; the default is 768 x 1152.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# The ColorChecker's 24 patches in 8-bit sRGB (D65), row by row as the chart is printed.
COLOR_CHECKER_SRGB8 = np.array(
    [
        [115, 82, 68], [194, 150, 130], [98, 122, 157], [87, 108, 67], [133, 128, 177], [103, 189, 170],
        [214, 126, 44], [80, 91, 166], [193, 90, 99], [94, 60, 108], [157, 188, 64], [224, 163, 46],
        [56, 61, 150], [70, 148, 73], [175, 54, 60], [231, 199, 31], [187, 86, 149], [8, 133, 161],
        [243, 243, 242], [200, 200, 200], [160, 160, 160], [122, 122, 121], [85, 85, 85], [52, 52, 52],
    ],
    dtype=np.uint8,
)  # fmt: skip
CHART_ROWS, CHART_COLUMNS = 4, 6

BACKGROUND = 0.42  # sRGB grey behind everything
TEXT = "The quick brown fox jumps over the lazy dog. 0123456789"
STAR_SPOKES = 36  # black/white pairs
LINE_PAIR_WIDTHS = (1, 2, 3, 4, 6)  # pixels per bar

# Where each part goes, as fractions of (height, width): (top, left, bottom, right).
LAYOUT: dict[str, tuple[float, float, float, float]] = {
    "chart": (0.04, 0.03, 0.52, 0.55),
    "star": (0.04, 0.60, 0.52, 0.97),
    "hue": (0.56, 0.03, 0.63, 0.97),
    "grey": (0.64, 0.03, 0.69, 0.97),
    "text": (0.73, 0.03, 0.96, 0.60),
    "lines": (0.73, 0.63, 0.96, 0.97),
}
Box = tuple[int, int, int, int]  # top, left, bottom, right in pixels


def draw_scene(height: int = 768, width: int = 1152) -> np.ndarray:
    """The test scene as float32 sRGB in [0, 1], shape (height, width, 3). The same pixels every call."""
    if height < 64 or width < 64:
        raise ValueError(f"the scene needs at least 64 x 64 pixels, got {height} x {width}")
    scene = np.full((height, width, 3), BACKGROUND, np.float32)
    boxes = regions(height, width)
    _draw_chart(scene, boxes["chart"])
    _draw_star(scene, boxes["star"])
    _draw_hue_gradient(scene, boxes["hue"])
    _draw_grey_ramp(scene, boxes["grey"])
    _draw_text(scene, boxes["text"])
    _draw_line_pairs(scene, boxes["lines"])
    return scene


def regions(height: int = 768, width: int = 1152) -> dict[str, Box]:
    """Each part's (top, left, bottom, right) box in pixels, by name (see ``LAYOUT``)."""
    return {
        name: (round(top * height), round(left * width), round(bottom * height), round(right * width))
        for name, (top, left, bottom, right) in LAYOUT.items()
    }


def chart_patch_centres(height: int = 768, width: int = 1152) -> list[tuple[int, int]]:
    """(y, x) of each colour patch's centre, in the order of ``COLOR_CHECKER_SRGB8``."""
    return [((y0 + y1) // 2, (x0 + x1) // 2) for y0, x0, y1, x1 in _chart_patches(regions(height, width)["chart"])]


def _chart_patches(box: Box) -> list[Box]:
    y0, x0, y1, x1 = box
    cell_h, cell_w = (y1 - y0) / CHART_ROWS, (x1 - x0) / CHART_COLUMNS
    gap = max(1, round(0.08 * min(cell_h, cell_w)))
    patches = []
    for row in range(CHART_ROWS):
        for col in range(CHART_COLUMNS):
            top, left = round(y0 + row * cell_h), round(x0 + col * cell_w)
            bottom, right = round(y0 + (row + 1) * cell_h), round(x0 + (col + 1) * cell_w)
            patches.append((top + gap, left + gap, bottom - gap, right - gap))
    return patches


def _draw_chart(scene: np.ndarray, box: Box) -> None:
    y0, x0, y1, x1 = box
    scene[y0:y1, x0:x1] = 0.08  # the chart's dark frame
    for (top, left, bottom, right), colour in zip(_chart_patches(box), COLOR_CHECKER_SRGB8, strict=True):
        scene[top:bottom, left:right] = colour / np.float32(255)


def _draw_star(scene: np.ndarray, box: Box, supersample: int = 4) -> None:
    """A Siemens star, anti-aliased by averaging a finer grid so only the centre aliases."""
    y0, x0, y1, x1 = box
    radius = min(y1 - y0, x1 - x0) / 2
    cy, cx = (y0 + y1) / 2, (x0 + x1) / 2
    top, left, size = int(cy - radius), int(cx - radius), int(2 * radius)
    offsets = (np.arange(size * supersample) + 0.5) / supersample
    ys, xs = np.meshgrid(top + offsets - cy, left + offsets - cx, indexing="ij")
    spokes = (np.floor((np.arctan2(ys, xs) + np.pi) / (np.pi / STAR_SPOKES)) % 2).astype(np.float32)
    inside = (np.hypot(ys, xs) <= radius).astype(np.float32)
    value = 0.05 + 0.9 * spokes

    def average(a: np.ndarray) -> np.ndarray:
        return a.reshape(size, supersample, size, supersample).mean(axis=(1, 3))

    coverage = average(inside)
    star = average(value * inside) / np.maximum(coverage, 1e-6)
    region = scene[top : top + size, left : left + size]
    region[:] = region * (1 - coverage[..., None]) + (star * coverage)[..., None]


def _hsv_to_rgb(hue: np.ndarray, saturation: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Vectorised HSV -> RGB, all in [0, 1]."""
    k = (np.array([5.0, 3.0, 1.0]) + hue[..., None] * 6) % 6
    ramp = np.clip(np.minimum(k, 4 - k), 0, 1)
    return (value[..., None] * (1 - saturation[..., None] * ramp)).astype(np.float32)


def _draw_hue_gradient(scene: np.ndarray, box: Box) -> None:
    """Hue across, saturation falling from full at the top to a pastel at the bottom."""
    y0, x0, y1, x1 = box
    hue, saturation = np.meshgrid(np.linspace(0, 1, x1 - x0), np.linspace(1.0, 0.25, y1 - y0))
    scene[y0:y1, x0:x1] = _hsv_to_rgb(hue, saturation, np.full_like(hue, 0.9))


def _draw_grey_ramp(scene: np.ndarray, box: Box) -> None:
    y0, x0, y1, x1 = box
    scene[y0:y1, x0:x1] = np.linspace(0, 1, x1 - x0, dtype=np.float32)[None, :, None]


def _draw_text(scene: np.ndarray, box: Box) -> None:
    """Lines of dark text on a light card, from large to small, drawn with Pillow's built-in font."""
    y0, x0, y1, x1 = box
    scene[y0:y1, x0:x1] = 0.92
    mask = Image.new("L", (x1 - x0, y1 - y0), 0)
    draw = ImageDraw.Draw(mask)
    scale = (y1 - y0) / 177  # the sizes below fill the card at the default scene size
    y = 6 * scale
    for size in (22, 18, 14, 12, 10, 8):
        px = max(6, round(size * scale))
        draw.text((8 * scale, y), TEXT, fill=255, font=ImageFont.load_default(size=px))
        y += px * 1.8
    ink = np.asarray(mask, np.float32)[..., None] / 255
    scene[y0:y1, x0:x1] = scene[y0:y1, x0:x1] * (1 - ink) + 0.06 * ink


def _draw_line_pairs(scene: np.ndarray, box: Box) -> None:
    """Groups of black and white bars, ever finer: vertical bars above, horizontal bars below."""
    y0, x0, y1, x1 = box
    scene[y0:y1, x0:x1] = 0.92
    groups = len(LINE_PAIR_WIDTHS)
    group_w = (x1 - x0) / groups
    mid = (y0 + y1) // 2
    margin = max(2, round(0.08 * group_w))
    for i, bar in enumerate(LINE_PAIR_WIDTHS):
        left, right = round(x0 + i * group_w) + margin, round(x0 + (i + 1) * group_w) - margin
        columns = (np.arange(right - left) // bar) % 2 == 0
        scene[y0 + margin : mid - margin // 2, left:right][:, columns] = 0.06
        rows = (np.arange(y1 - margin - (mid + margin // 2)) // bar) % 2 == 0
        scene[mid + margin // 2 : y1 - margin, left:right][rows] = 0.06
