"""The demo: a dark raw of the built-in scene, enhanced by seeisp and compared with naive brightening.

The dark raw is simulated exactly as the training pairs are (unprocess, mosaic, sensor noise
of the built-in virtual camera), so it needs nothing outside the package, and is written as a
DNG that LibRaw reads like any camera's raw. The same seeds make the same file on every run, and a run
replaces the demo's own two files of an earlier one (never any other file).
Used by ``seeisp demo``, the web page and the quickstart notebook.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..enhance import Model, enhance_file, load_session
from ..errors import OutputError, SeeispError
from ..output import quantize, write_image
from ..ratio import parse_ratio
from ..raw import read_raw
from ..render import render
from ..sim.noise import VIRTUAL_SENSOR
from ..sim.scene import draw_scene
from ..sim.synthesis import random_camera, unprocess, write_dark_shot
from ..writable import check_writable_folder, make_folder, staged_file
from .baseline import libraw_render
from .metrics import psnr

DEMO_RAW_NAME = "seeisp-demo.dng"
DEMO_CAMERA = ("seeisp", "Demo")  # the make and model the demo raw records
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
                make=DEMO_CAMERA[0],
                model=DEMO_CAMERA[1],
            )
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the demo raw ({exc.strerror or exc})") from None
    # Render with the metadata as LibRaw reads it back, so the reference is exactly what
    # ``render`` makes of a perfect network output.
    return DemoRaw(raw_path=path, reference=render(clean, read_raw(path)), ratio=ratio)


def run_demo(
    out_dir: str | os.PathLike[str],
    *,
    model: Model | None = None,
    ratio: float = DEFAULT_RATIO,
    passes: int = 1,
) -> DemoReport:
    """Write the demo raw, enhance it, brighten it naively, and save the three side by side.

    ``model`` and ``passes`` as in ``seeisp.enhance_file``; the model is reported as "NAME x8" for 8 passes.
    The demo's two files from an earlier run in ``out_dir`` are replaced; ``OutputError`` before any work when
    a file of theirs by those names is in the way (``check_own_files``).
    """
    _check_ratio(ratio)
    check_own_files(check_writable_folder(out_dir))  # cheap checks first: no model loading for a mistyped option
    session = load_session(model)
    demo = write_demo_raw(out_dir, ratio)
    result = enhance_file(demo.raw_path, model=session, ratio=demo.ratio, passes=passes)
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
        panel = Image.fromarray(quantize(image, 8)).convert("RGBA")
        overlay = Image.new("RGBA", panel.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        left, top, right, bottom = draw.textbbox((2 * pad, 2 * pad), caption, font=font)
        draw.rectangle((left - pad, top - pad, right + pad, bottom + pad), fill=(0, 0, 0, 170))
        draw.text((2 * pad, 2 * pad), caption, fill=(255, 255, 255, 255), font=font)
        canvas.paste(Image.alpha_composite(panel, overlay).convert("RGB"), (i * (width + gap), 0))
    return np.asarray(canvas, np.float32) / 255


def check_own_files(folder: Path) -> None:
    """``OutputError`` unless the demo may write its files in ``folder``: each of its names is free or holds a
    plain file of the demo's own, the demo raw one that records the demo camera (an earlier run's)."""
    for name in (DEMO_RAW_NAME, COMPARISON_NAME):
        path = folder / name
        if not path.exists() and not path.is_symlink():
            continue
        if path.is_symlink() or not path.is_file() or (name == DEMO_RAW_NAME and not _is_demo_raw(path)):
            raise OutputError(f"{path}: not a file of an earlier demo, left alone; give another folder with -o")


def _is_demo_raw(path: Path) -> bool:
    try:
        return read_raw(path).shot.camera == " ".join(DEMO_CAMERA)
    except SeeispError:
        return False


def _check_ratio(ratio: float) -> float:
    """The demo's ratio: a number (``parse_ratio``), since the demo makes its own exposure."""
    return parse_ratio(ratio, allow_auto=False)  # type: ignore[return-value]


def _make_folder(folder: str | os.PathLike[str]) -> Path:
    folder = check_writable_folder(folder)
    make_folder(folder)
    return folder
