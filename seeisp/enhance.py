"""The whole job on one frame: raw -> pack -> network -> render.

result = enhance_file("dark.ARW", ratio=100)
result.save("dark.png")  # with the raw's EXIF
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .dark_frame import DarkFrame, DarkFrames, as_dark_frames, dark_frame_for
from .ensemble import ensemble_suffix, orientation_set, passes_of, self_ensemble, single_pass
from .errors import DarkFrameError
from .hot_pixels import remove_hot_pixels
from .level import match_input_level
from .output import check_bits, format_of, write_camera_dng, write_image
from .pack import INPUT_RANGE, amplify, even_crop, from_rggb, pack, restore_size, to_rggb
from .ratio import choose_exposure, parse_ev, parse_ratio
from .raw import RawImage, read_raw
from .render import clip_highlights, render, whiten_blown
from .session import ModelSession, ProgressFn
from .white_balance import WhiteBalance, balance_gains


@dataclass(frozen=True)
class EnhanceResult:
    image: np.ndarray  # (H, W, 3) float32 sRGB in [0, 1], display orientation
    camera_rgb: np.ndarray  # (H, W, 3) linear camera RGB, sensor orientation
    raw: RawImage
    ratio: float
    ratio_is_auto: bool
    model: str
    seconds: float
    passes: int = 1  # network passes averaged: 1, or 2, 4 or 8 orientations of the mosaic (``seeisp.ensemble``)
    white_balance: WhiteBalance = WhiteBalance.CAMERA
    gains: np.ndarray | None = None  # the R, G, B gains ``image`` was rendered with; None: the raw's as-shot ones
    dark_frame: str = ""  # the name of the dark frame whose black level was taken off, if any
    ev: float = 0.0  # the exposure compensation in stops that ``ratio`` includes
    note: str = ""  # one line on the ratio when it had to be clamped (``seeisp.ratio.choose_exposure``)

    @property
    def ensemble(self) -> bool:
        """Whether the picture is a self-ensemble of several passes."""
        return self.passes > 1

    @property
    def model_label(self) -> str:
        """The model's name as shown to people: "lite", or "lite x8" for its 8-pass self-ensemble."""
        return self.model + ensemble_suffix(self.passes)

    @property
    def description(self) -> str:
        """How the picture was made, as its EXIF says: "seeisp lite x8, ratio 100 (auto), auto white balance"."""
        how = " (auto)" if self.ratio_is_auto else ""
        how += f", ev {self.ev:+g}" if self.ev else ""
        balance = "" if self.white_balance is WhiteBalance.CAMERA else f", {self.white_balance} white balance"
        dark = f", dark frame {self.dark_frame}" if self.dark_frame else ""
        return f"seeisp {self.model_label}, ratio {round(self.ratio, 1):g}{how}{balance}{dark}"

    def save(self, path: str | os.PathLike[str], bits: int | None = None, *, compress: bool = False) -> Path:
        """Write the picture (``seeisp.output.write_image``) with the raw's EXIF and ``description``; to a .dng
        file, the camera RGB as a linear DNG for a raw editor (``write_camera_dng``; 16 bits only)."""
        if format_of(path) == "dng":
            check_bits("dng", bits)
            return write_camera_dng(path, self.camera_rgb, self.raw, self.gains, description=self.description)
        return write_image(path, self.image, bits, compress=compress, shot=self.raw.shot, description=self.description)


def rggb_mosaic(raw: RawImage, hot_pixels: bool = True) -> np.ndarray:
    """The raw's mosaic as the network reads it before packing: hot sites replaced (``seeisp.hot_pixels``;
    ``hot_pixels=False`` keeps them), cropped to even size and mirrored to RGGB (``from_rggb`` undoes it)."""
    mosaic = remove_hot_pixels(raw.mosaic) if hot_pixels else raw.mosaic
    return to_rggb(even_crop(mosaic), raw.cfa)


def network_input(
    raw: RawImage, ratio: float, input_range: tuple[float, float] = INPUT_RANGE, hot_pixels: bool = True
) -> np.ndarray:
    """The (4, h, w) packed and amplified input of a single pass over the whole frame: what ``denoise`` gives
    a model (``ModelSession.run_tiled`` then tiles it and mirrors context around each tile). ``ratio``: 1 to 300."""
    ratio = parse_ratio(ratio, allow_auto=False)
    return amplify(pack(clip_highlights(rggb_mosaic(raw, hot_pixels), raw.white_balance, ratio)), ratio, input_range)


def denoise(
    raw: RawImage,
    session: ModelSession,
    ratio: float,
    tile: int | None = None,
    overlap: int | None = None,
    progress: ProgressFn | None = None,
    ensemble: bool | int = False,
    hot_pixels: bool = True,
) -> np.ndarray:
    """The network's linear camera RGB (H, W, 3) for a raw at a given ratio, in sensor orientation.

    ``tile`` and ``overlap`` (packed pixels) default to the model's own (``ModelSession.run_tiled``).
    ``ensemble`` averages the network over orientations of the mosaic (``seeisp.ensemble``): True all 8
    (about +0.5 dB PSNR for 8 passes), or 2 or 4 passes (about +0.3 and +0.4 dB); ``progress`` then counts
    the tiles of all of them. ``hot_pixels`` first replaces the sensor's hot sites (``seeisp.hot_pixels``);
    False feeds the raw as it is.
    """
    passes = passes_of(ensemble)
    mosaic = rggb_mosaic(raw, hot_pixels)
    clipped = clip_highlights(mosaic, raw.white_balance, ratio)
    if passes == 1:
        rgb = single_pass(clipped, session, ratio, tile, overlap, progress)
    else:
        rgb = self_ensemble(clipped, session, ratio, tile, overlap, progress, orientation_set(passes, mosaic.shape))
    rgb = whiten_blown(rgb, mosaic, raw.white_balance, ratio)
    return restore_size(from_rggb(rgb, raw.cfa), raw.mosaic.shape)


def enhance_raw(
    raw: RawImage,
    session: ModelSession,
    ratio: float | str | None = None,
    tile: int | None = None,
    overlap: int | None = None,
    progress: ProgressFn | None = None,
    ensemble: bool | int = False,
    white_balance: WhiteBalance | str = WhiteBalance.CAMERA,
    hot_pixels: bool = True,
    dark_frame: DarkFrame | None = None,
    *,
    ev: float = 0.0,
) -> EnhanceResult:
    """Enhance an already read raw. ``ratio``: 1 to 300, or None or "auto" to estimate it from the frame;
    ``ev``: exposure compensation in stops on top of it (the result clamped to 1..300, ``EnhanceResult.note``);
    ``ensemble`` and ``hot_pixels`` as in ``denoise``; ``white_balance``: the camera's (as LibRaw), daylight, or
    auto (``seeisp.white_balance``);
    ``dark_frame``: take its black level off first (``seeisp.dark_frame``; ``DarkFrameError``, whose message
    does not name the picture, when it does not fit), and then, the raw's level being right, match the output's
    brightness over areas to the raw's (``seeisp.level``).
    """
    started = time.perf_counter()
    if dark_frame is not None:
        raw = dark_frame.subtract(raw)
    exposure = choose_exposure(raw.mosaic, parse_ratio(ratio), ev)  # parse_ratio: None for None or 'auto'
    used = exposure.ratio
    balance = WhiteBalance.parse(white_balance)
    passes = passes_of(ensemble)
    camera_rgb = denoise(raw, session, used, tile, overlap, progress, passes, hot_pixels)
    if dark_frame is not None:  # the black level is now right, so the raw's means over areas are too
        camera_rgb = match_input_level(camera_rgb, raw.mosaic, raw.cfa, used)
    gains = balance_gains(balance, raw, camera_rgb)
    return EnhanceResult(
        image=render(camera_rgb, raw, gains),
        camera_rgb=camera_rgb,
        raw=raw,
        ratio=used,
        ratio_is_auto=exposure.auto,
        model=session.name,
        seconds=time.perf_counter() - started,
        passes=passes,
        white_balance=balance,
        gains=gains,
        dark_frame=dark_frame.name if dark_frame is not None else "",
        ev=parse_ev(ev),
        note=exposure.note,
    )


def enhance_file(
    path: str | os.PathLike[str],
    ratio: float | str | None = None,
    model: str | os.PathLike[str] | ModelSession | None = None,
    progress: ProgressFn | None = None,
    ensemble: bool | int = False,
    white_balance: WhiteBalance | str = WhiteBalance.CAMERA,
    hot_pixels: bool = True,
    dark_frame: DarkFrames | None = None,
    tile: int | None = None,
    overlap: int | None = None,
    *,
    ev: float = 0.0,
) -> EnhanceResult:
    """Read a raw file and enhance it with a model (a registered name, a .onnx path or a session).
    ``ev``: exposure compensation in stops on top of ``ratio``, auto or given (``enhance_raw``).

    ``ensemble=True`` averages 8 orientations of the mosaic: about +0.5 dB PSNR, 8 times the time
    (``ensemble=2``: about +0.3 dB for twice the time; 4 passes: +0.4 dB).
    ``white_balance``: "camera" (as shot), "daylight" or "auto". ``hot_pixels=False`` keeps the sensor's
    hot sites (``seeisp.hot_pixels``), which are otherwise replaced before the network. ``dark_frame`` (a raw
    file shot with the lens capped at the same ISO, or a ``DarkFrame``) replaces the raw's black level with the
    one it measures (``seeisp.dark_frame``), and the output's level is then matched to the raw's (``seeisp.level``):
    +0.3 to +1.1 dB at ratios 100-300 in the benchmark (full model).
    A folder of dark frames, or a list of files or ``DarkFrame``, gives the one at the picture's ISO
    (``dark_frame_for``).
    ``tile`` and ``overlap`` (packed pixels) default to the model's own (``ModelSession.run_tiled``).
    """
    from .models import default_model

    session = model if isinstance(model, ModelSession) else ModelSession.from_name(model or default_model())
    started = time.perf_counter()
    darks = as_dark_frames(dark_frame)
    raw = read_raw(path)
    try:
        result = enhance_raw(
            raw,
            session,
            ratio,
            tile,
            overlap,
            progress=progress,
            ensemble=ensemble,
            white_balance=white_balance,
            hot_pixels=hot_pixels,
            dark_frame=dark_frame_for(darks, raw) if darks else None,
            ev=ev,
        )
    except DarkFrameError as exc:
        raise DarkFrameError(f"{path}: {exc}") from None
    return EnhanceResult(**{**result.__dict__, "seconds": time.perf_counter() - started})
