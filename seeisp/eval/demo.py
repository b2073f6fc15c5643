"""The demo: a dark raw of the built-in scene, enhanced by seeisp and compared with naive brightening.

The dark raw is simulated exactly as the training pairs are (unprocess, mosaic, sensor noise
of the built-in virtual camera), so it needs nothing outside the package, and is written as a
DNG that LibRaw reads like any camera's raw. The same seeds make the same file on every run.
Used by ``seeisp demo``, the web page and the quickstart notebook.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..enhance import enhance_file
from ..errors import OutputError
from ..models import default_model
from ..output import write_image
from ..ratio import parse_ratio
from ..raw import read_raw
from ..render import render
from ..session import ModelSession
from ..sim.noise import VIRTUAL_SENSOR
from ..sim.scene import draw_scene
from ..sim.synthesis import random_camera, unprocess, write_dark_shot
from ..writable import staged_file
from .baseline import libraw_render
from .metrics import psnr

DEMO_RAW_NAME = "seeisp-demo.dng"
COMPARISON_NAME = "seeisp-demo-comparison.png"
DEFAULT_RATIO = 100.0
DEMO_GAIN = 3.0  # DN per electron: a high-ISO shot of the virtual sensor
DEMO_ISO = 6400
BRIGHT_EXPOSURE_S = 10.0  # the long exposure the dark one is 1/ratio of, as in SID's pairs


@dataclass(frozen=True)
class DemoRaw:
    raw_path: Path
    reference: np.ndarray  # (H, W, 3) float32 sRGB: the clean scene rendered as a perfect enhancer would
    ratio: float


@dataclass(frozen=True)
class DemoReport:
    raw_path: Path
    comparison_path: Path
    ratio: float
    model: str
    naive: np.ndarray  # LibRaw's render of the raw amplified by ``ratio``
    enhanced: np.ndarray  # seeisp's output
    reference: np.ndarray
    naive_psnr: float
    seeisp_psnr: float
    seconds: float  # seeisp's time for the frame

    @property
    def gain_db(self) -> float:
        return self.seeisp_psnr - self.naive_psnr


def write_demo_raw(folder: str | os.PathLike[str], ratio: float = DEFAULT_RATIO, seed: int = 0) -> DemoRaw:
    """Simulate a shot of the built-in scene with ``ratio`` times too little light; write it as a DNG."""
    ratio = _check_ratio(ratio)
    path = _make_folder(folder) / DEMO_RAW_NAME
    rng = np.random.default_rng(seed)
    camera = random_camera(rng)
    clean = unprocess(draw_scene(), camera)
    noise = VIRTUAL_SENSOR.sample(rng, k=DEMO_GAIN)
    try:
        with staged_file(path) as partial:
            write_dark_shot(
                partial,
                clean,
                camera,
                ratio,
                noise,
                rng,
                exposure_time=BRIGHT_EXPOSURE_S / ratio,
                iso=DEMO_ISO,
                make="seeisp",
                model="Demo",
            )
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the demo raw ({exc.strerror or exc})") from None
    # Render with the metadata as LibRaw reads it back, so the reference is exactly what
    # ``render`` makes of a perfect network output.
    return DemoRaw(raw_path=path, reference=render(clean, read_raw(path)), ratio=ratio)


def run_demo(
    out_dir: str | os.PathLike[str],
    model: str | os.PathLike[str] | ModelSession | None = None,
    ratio: float = DEFAULT_RATIO,
    ensemble: bool = False,
    overwrite: bool = False,
) -> DemoReport:
    """Write the demo raw, enhance it, brighten it naively, and save the three side by side.

    ``ensemble``: enhance with the 8-orientation self-ensemble (``seeisp.ensemble``); the model is then
    reported as "NAME x8". The demo's two files in ``out_dir`` are replaced only with ``overwrite``
    (``OutputError`` otherwise, before any work).
    """
    _check_ratio(ratio)
    folder = _check_folder(out_dir)  # cheap checks first: no model loading for a mistyped option
    taken = [folder / name for name in (DEMO_RAW_NAME, COMPARISON_NAME) if (folder / name).exists()]
    if taken and not overwrite:
        raise OutputError(f"{taken[0]} exists (use --overwrite to replace the demo's files)")
    session = model if isinstance(model, ModelSession) else ModelSession.from_name(model or default_model())
    demo = write_demo_raw(out_dir, ratio)
    result = enhance_file(demo.raw_path, ratio=demo.ratio, model=session, ensemble=ensemble)
    naive = libraw_render(demo.raw_path, demo.ratio)
    report = DemoReport(
        raw_path=demo.raw_path,
        comparison_path=demo.raw_path.parent / COMPARISON_NAME,
        ratio=demo.ratio,
        model=result.model_label,
        naive=naive,
        enhanced=result.image,
        reference=demo.reference,
        naive_psnr=float(psnr(naive, demo.reference)),
        seeisp_psnr=float(psnr(result.image, demo.reference)),
        seconds=result.seconds,
    )
    comparison = side_by_side(
        [naive, result.image, demo.reference],
        [
            f"naive brightening x{ratio:g}  {report.naive_psnr:.2f} dB",
            f"seeisp ({report.model})  {report.seeisp_psnr:.2f} dB",
            "clean reference",
        ],
    )
    write_image(report.comparison_path, comparison)
    return report


def side_by_side(images: list[np.ndarray], captions: list[str], gap: int = 8) -> np.ndarray:
    """Float sRGB images of one size -> one float sRGB picture, left to right, a caption on each."""
    height, width = images[0].shape[:2]
    canvas = Image.new("RGB", (len(images) * width + (len(images) - 1) * gap, height), (24, 24, 24))
    font = ImageFont.load_default(size=max(12, height // 30))
    pad = max(4, height // 150)
    for i, (image, caption) in enumerate(zip(images, captions, strict=True)):
        panel = Image.fromarray(np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)).convert("RGBA")
        overlay = Image.new("RGBA", panel.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        left, top, right, bottom = draw.textbbox((2 * pad, 2 * pad), caption, font=font)
        draw.rectangle((left - pad, top - pad, right + pad, bottom + pad), fill=(0, 0, 0, 170))
        draw.text((2 * pad, 2 * pad), caption, fill=(255, 255, 255, 255), font=font)
        canvas.paste(Image.alpha_composite(panel, overlay).convert("RGB"), (i * (width + gap), 0))
    return np.asarray(canvas, np.float32) / 255


def _check_ratio(ratio: float) -> float:
    """The demo's ratio: a number (``parse_ratio``), since the demo makes its own exposure."""
    return parse_ratio(ratio, allow_auto=False)  # type: ignore[return-value]


def _check_folder(folder: str | os.PathLike[str]) -> Path:
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: exists and is not a folder")
    return folder


def _make_folder(folder: str | os.PathLike[str]) -> Path:
    folder = _check_folder(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{folder}: cannot create the output folder ({exc.strerror or exc})") from None
    return folder
