"""seeisp: low-light raw to clean sRGB with a U-Net ("Learning to See in the Dark"), on ONNX Runtime.

Data flow: ``read_raw`` (minus a ``DarkFrame``'s black level, if given) -> ``remove_hot_pixels``
-> ``pack``/``amplify`` -> ``ModelSession`` -> ``render`` -> ``write_image``; ``enhance_file`` does it all.
Nothing here imports torch.
"""

from .dark_frame import DarkFrame, dark_frame_for, read_dark_frame, read_dark_frames
from .enhance import EnhanceResult, enhance_file, enhance_raw
from .errors import (
    DarkFrameError,
    InvalidRatioError,
    ModelError,
    OutputError,
    RawReadError,
    SeeispError,
    UnsupportedSensorError,
)
from .hot_pixels import remove_hot_pixels
from .ratio import estimate_ratio, parse_ratio
from .raw import CFA, Flip, RawImage, Shot, read_raw
from .render import render
from .session import ModelSession
from .white_balance import WhiteBalance

__version__ = "0.1.0"

__all__ = [
    "CFA",
    "DarkFrame",
    "DarkFrameError",
    "EnhanceResult",
    "Flip",
    "InvalidRatioError",
    "ModelError",
    "ModelSession",
    "OutputError",
    "RawImage",
    "RawReadError",
    "SeeispError",
    "Shot",
    "UnsupportedSensorError",
    "WhiteBalance",
    "dark_frame_for",
    "enhance_file",
    "enhance_raw",
    "estimate_ratio",
    "parse_ratio",
    "read_dark_frame",
    "read_dark_frames",
    "read_raw",
    "remove_hot_pixels",
    "render",
]
