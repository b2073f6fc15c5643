"""The whole job on one frame: raw -> pack -> network -> render.

result = enhance_file("dark.ARW", ratio=100)
result.save("dark.png")  # with the raw's EXIF
"""

from __future__ import annotations

import numbers
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .budget import memory_budget
from .chroma import smooth_chroma
from .dark_frame import DarkFrames, as_dark_frames, dark_frame_for
from .ensemble import check_passes, ensemble_suffix, network_planes, orientation_set, self_ensemble, single_pass
from .errors import DarkFrameError, InvalidArgumentTypeError
from .hot_pixels import remove_hot_pixels
from .level import match_input_level
from .noise_level import blind_noise_level
from .output import check_bits, format_of, write_camera_dng, write_image
from .pack import INPUT_RANGE, even_crop, from_rggb, restore_size, to_rggb
from .ratio import choose_exposure, parse_ev, parse_ratio
from .raw import CFA, CFAKind, RawImage, as_input_path, read_raw
from .render import clip_highlights, render, whiten_blown
from .session import ModelSession, ProgressFn
from .white_balance import WhiteBalance, balance_gains
from .xtrans import as_bayer


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
    frames: int = 1  # raws merged into the one enhanced (``seeisp.burst``)

    @property
    def model_label(self) -> str:
        """The model's name as shown to people: "lite", or "lite x8" for its 8-pass self-ensemble."""
        return self.model + ensemble_suffix(self.passes)

    @property
    def ratio_label(self) -> str:
        """The ratio as shown to people: "ratio 100", "ratio 100 (auto)", "ratio 141.4 (auto), ev +0.5"."""
        how = " (auto)" if self.ratio_is_auto else ""
        how += f", ev {self.ev:+g}" if self.ev else ""
        return f"ratio {round(self.ratio, 1):g}{how}"

    @property
    def description(self) -> str:
        """How the picture was made, as its EXIF says: "seeisp lite x8, ratio 100 (auto), auto white balance"."""
        balance = "" if self.white_balance is WhiteBalance.CAMERA else f", {self.white_balance} white balance"
        dark = f", dark frame {self.dark_frame}" if self.dark_frame else ""
        burst = f", {self.frames} frames merged" if self.frames > 1 else ""
        return f"seeisp {self.model_label}, {self.ratio_label}{balance}{dark}{burst}"

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
    _, mosaic = network_mosaic(raw, hot_pixels=hot_pixels)
    return network_planes(clip_highlights(mosaic, raw.white_balance, ratio), ratio, input_range)


def denoise(
    raw: RawImage,
    session: ModelSession,
    ratio: float,
    *,
    passes: int = 1,
    hot_pixels: bool = True,
    tile: int | None = None,
    overlap: int | None = None,
    progress: ProgressFn | None = None,
) -> np.ndarray:
    """The network's linear camera RGB (H, W, 3) for a raw at a given ratio, in sensor orientation.

    ``passes`` (1, 2, 4 or 8) averages the network over that many orientations of the mosaic
    (``seeisp.ensemble``); ``progress`` then counts the tiles of all of them. ``hot_pixels`` first replaces the
    sensor's hot sites (``seeisp.hot_pixels``); False feeds the raw as it is. ``tile`` and ``overlap`` (packed
    pixels) default to the model's own (``ModelSession.run_tiled``). A network with a noise plane gets the noise
    level estimated from the mosaic itself (``seeisp.noise_level.blind_noise_level``).
    """
    passes = check_passes(passes)
    cfa, mosaic = network_mosaic(raw, hot_pixels=hot_pixels)
    clipped = clip_highlights(mosaic, raw.white_balance, ratio)
    noise = blind_noise_level(mosaic) if session.noise_plane else None
    if passes == 1:
        rgb = single_pass(clipped, session, ratio, tile, overlap, progress, noise)
    else:
        orientations = orientation_set(passes, mosaic.shape)
        rgb = self_ensemble(clipped, session, ratio, tile, overlap, progress, orientations, noise)
    rgb = whiten_blown(rgb, mosaic, raw.white_balance, ratio)
    return restore_size(from_rggb(rgb, cfa), raw.mosaic.shape)


def network_mosaic(raw: RawImage, *, hot_pixels: bool = True) -> tuple[CFA, np.ndarray]:
    """The RGGB mosaic the Bayer networks read (``rggb_mosaic``), and the Bayer colour filter it was mirrored from
    (``from_rggb`` undoes it): a Bayer raw's own, or an X-Trans raw resampled onto a Bayer grid (``seeisp.xtrans``,
    which replaces its hot sites itself, unless ``hot_pixels=False``)."""
    if raw.cfa.kind is CFAKind.XTRANS:
        bayer = as_bayer(raw, hot_pixels=hot_pixels)
        return bayer.cfa, rggb_mosaic(bayer, hot_pixels=False)
    return raw.cfa, rggb_mosaic(raw, hot_pixels)


Model = str | os.PathLike[str] | ModelSession


def load_session(model: Model | None) -> ModelSession:
    """The session of ``model``: a session as it is, a registered name or a .onnx path loaded, None the default."""
    from .models import default_model

    return model if isinstance(model, ModelSession) else ModelSession.from_name(model or default_model())


def _check_types(**arguments: object) -> None:
    """``InvalidArgumentTypeError`` (a ``SeeispError`` and a ``TypeError``) for an argument of a type that means
    nothing here, before any work: a path that is not a str or os.PathLike, a ratio of True (a number to Python)."""
    if "path" in arguments:
        as_input_path(arguments["path"])
    if "raw" in arguments and not isinstance(arguments["raw"], RawImage):
        raise InvalidArgumentTypeError(f"raw must be a RawImage, not {type(arguments['raw']).__name__}")
    ratio, model = arguments.get("ratio"), arguments.get("model")
    if isinstance(ratio, bool) or not (ratio is None or isinstance(ratio, (str, numbers.Real))):
        raise InvalidArgumentTypeError(f"ratio must be a number or 'auto', not {ratio!r}")
    if not isinstance(model, (str, os.PathLike, ModelSession, type(None))):
        raise InvalidArgumentTypeError(f"model must be a name, an .onnx path or a ModelSession, not {model!r}")


def enhance_raw(
    raw: RawImage,
    *,
    model: Model | None = None,
    ratio: float | str | None = None,
    ev: float = 0.0,
    passes: int = 1,
    white_balance: WhiteBalance | str = WhiteBalance.CAMERA,
    dark_frame: DarkFrames | None = None,
    hot_pixels: bool = True,
    tile: int | None = None,
    overlap: int | None = None,
    progress: ProgressFn | None = None,
) -> EnhanceResult:
    """Enhance an already read raw; the options are those of ``enhance_file``.

    A dark frame that does not fit the raw raises ``DarkFrameError``, whose message does not name the picture.
    """
    _check_types(raw=raw, ratio=ratio, model=model)
    asked = parse_ratio(ratio)  # None for None or 'auto': estimate it
    ev = parse_ev(ev)
    passes = check_passes(passes)
    balance = WhiteBalance.parse(white_balance)
    session = load_session(model)
    started = time.perf_counter()
    darks = as_dark_frames(dark_frame)
    dark = dark_frame_for(darks, raw) if darks else None
    if dark is not None:
        raw = dark.subtract(raw)
    exposure = choose_exposure(raw.mosaic, asked, ev, raw.cfa, raw.white_balance)
    used = exposure.ratio
    camera_rgb = denoise(
        raw, session, used, passes=passes, hot_pixels=hot_pixels, tile=tile, overlap=overlap, progress=progress
    )
    camera_rgb = smooth_chroma(camera_rgb, raw.white_balance)
    if dark is not None:  # the black level is now right, so the raw's means over areas are too
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
        dark_frame=dark.name if dark is not None else "",
        ev=ev,
        note=exposure.note,
    )


def enhance_file(
    path: str | os.PathLike[str],
    *,
    model: Model | None = None,
    ratio: float | str | None = None,
    ev: float = 0.0,
    passes: int = 1,
    white_balance: WhiteBalance | str = WhiteBalance.CAMERA,
    dark_frame: DarkFrames | None = None,
    hot_pixels: bool = True,
    tile: int | None = None,
    overlap: int | None = None,
    progress: ProgressFn | None = None,
) -> EnhanceResult:
    """Read a raw file and enhance it. Every option is keyword-only, named and ordered as in ``enhance_raw``:

    ``model``: a registered name, a .onnx path or a ``ModelSession`` (default: the best installed model).
    ``ratio``: 1 to 300, or None or "auto" to estimate it from the frame (``seeisp.ratio``).
    ``ev``: exposure compensation in stops on top of the ratio, auto or given; the result is clamped to 1..300,
    with a one-line ``EnhanceResult.note`` when that changed it.
    ``passes``: 1, 2, 4 or 8 network passes over orientations of the mosaic, averaged (``seeisp.ensemble``):
    more passes, better quality, each pass as long as the first.
    ``white_balance``: "camera" (as shot, as LibRaw), "daylight" or "auto" (``seeisp.white_balance``).
    ``dark_frame``: a raw shot with the lens capped at the same ISO (a file, a folder of them, a ``DarkFrame``, or a
    list of files or ``DarkFrame``; the one at the picture's ISO is taken, ``dark_frame_for``); its measured black
    level replaces the raw's (``seeisp.dark_frame``), and the output's level is then matched to the raw's
    (``seeisp.level``).
    ``hot_pixels=False`` keeps the sensor's hot sites, which are otherwise replaced before the network
    (``seeisp.hot_pixels``).
    ``tile`` and ``overlap`` (packed pixels) default to the model's own (``ModelSession.run_tiled``);
    ``progress(done, total)`` is called after each tile.
    """
    _check_types(path=path, ratio=ratio, model=model)
    session = load_session(model)
    started = time.perf_counter()
    darks = as_dark_frames(dark_frame)  # read before the picture: a bad dark frame fails fast
    chosen_tile, _ = session.tiling(tile, overlap)  # a bad tile or overlap fails before the raw is read
    raw = read_raw(path, memory=memory_budget(chosen_tile, session.width))
    try:
        result = enhance_raw(
            raw,
            model=session,
            ratio=ratio,
            ev=ev,
            passes=passes,
            white_balance=white_balance,
            dark_frame=darks,
            hot_pixels=hot_pixels,
            tile=tile,
            overlap=overlap,
            progress=progress,
        )
    except DarkFrameError as exc:
        raise DarkFrameError(f"{path}: {exc}") from None
    return EnhanceResult(**{**result.__dict__, "seconds": time.perf_counter() - started})
