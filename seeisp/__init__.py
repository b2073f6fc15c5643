"""seeisp: low-light raw to clean sRGB with a U-Net ("Learning to See in the Dark"), on ONNX Runtime.

Data flow: ``read_raw`` (minus a ``DarkFrame``'s black level, if given) -> ``network_input`` (hot pixels
replaced, an X-Trans mosaic resampled onto a Bayer grid by ``seeisp.xtrans``, packed, amplified) ->
``ModelSession`` -> white balance (``WhiteBalance``) -> ``render`` -> ``write_image``; ``enhance_file`` does it
all and ``EnhanceResult.save`` writes the file.
Nothing here imports torch.
"""

from .burst import BurstError, BurstFrameWarning, enhance_burst
from .dark_frame import DarkFrame, dark_frame_for, read_dark_frame, read_dark_frames
from .enhance import EnhanceResult, enhance_file, enhance_raw, network_input
from .errors import (
    DarkFrameError,
    InvalidOptionError,
    InvalidRatioError,
    ModelError,
    OutputError,
    PictureReadError,
    RawReadError,
    SeeispError,
    UnsupportedSensorError,
)
from .hot_pixels import remove_hot_pixels
from .output import write_image
from .ratio import estimate_ratio, parse_ratio
from .raw import CFA, CFAKind, Flip, RawImage, Shot, XTransCFA, read_raw
from .render import render
from .session import ModelSession
from .white_balance import WhiteBalance

__version__ = "0.1.0"

__all__ = [
    "CFA",
    "BurstError",
    "BurstFrameWarning",
    "CFAKind",
    "DarkFrame",
    "DarkFrameError",
    "EnhanceResult",
    "Flip",
    "InvalidOptionError",
    "InvalidRatioError",
    "ModelError",
    "ModelSession",
    "OutputError",
    "PictureReadError",
    "RawImage",
    "RawReadError",
    "SeeispError",
    "Shot",
    "UnsupportedSensorError",
    "WhiteBalance",
    "XTransCFA",
    "dark_frame_for",
    "enhance_burst",
    "enhance_file",
    "enhance_raw",
    "estimate_ratio",
    "network_input",
    "parse_ratio",
    "read_dark_frame",
    "read_dark_frames",
    "read_raw",
    "remove_hot_pixels",
    "render",
    "write_image",
]
