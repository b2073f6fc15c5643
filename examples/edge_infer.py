"""Run a seeisp model on a Bayer frame with nothing but numpy and onnxruntime (no seeisp install).

This is what a camera pipeline on an edge device does with a shipped .onnx file: take the
sensor's mosaic and its calibration, feed the network exactly as docs/DEPLOYMENT.md says,
and get linear camera RGB back.

    python examples/edge_infer.py weights/seeisp-lite-int8.onnx frame.npy frame.json --ratio 100 \\
        -o frame_rgb.npy --png frame.png

frame.npy  (H, W) uint16 Bayer mosaic, as read from the sensor (sensor orientation).
frame.json {"cfa": "RGGB", "black_level": 512 or [4 values, one per 2x2 cell: top-left,
           top-right, bottom-left, bottom-right], "white_level": 16383,
           "white_balance": [R, G, B gains], "camera_to_srgb": 3x3 rows,
           "noise_gain": g, "noise_read_sigma": r}
           (white_balance and camera_to_srgb are only needed for --png; noise_gain and noise_read_sigma only
           for a model with a noise plane, seeisp.noise_plane = 1: the sensor's noise at this frame's ISO,
           variance = g * x + r**2 for a pixel of value x on the (raw - black) / (white - black) scale)
Output     (H, W, 3) float32 linear camera RGB, not white balanced, sensor orientation.

seeisp itself also replaces the sensor's hot pixels before the network (``seeisp.hot_pixels``), treats blown
highlights on both sides of it and smooths the colour noise of its output (docs/DEPLOYMENT.md); this runner feeds
the mosaic as it is, as a camera pipeline that maps its defects at the factory would, and returns the network's
output as it is.
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
import onnxruntime as ort

# Which axes to mirror so that a mosaic's top-left 2x2 cell reads R G / G B. Mirroring is exact and
# its own inverse: the network's output is mirrored back the same way.
MIRROR_AXES = {"RGGB": (), "GRBG": (1,), "GBRG": (0,), "BGGR": (0, 1)}

# Packed pixels mirrored around the input before the network: its convolutions pad with zeros, which
# leaves the frame's outermost pixels worse (docs/DEPLOYMENT.md).
CONTEXT_BORDER = 8

# The clip after amplification, unless the model's metadata says otherwise: noise below black is kept.
DEFAULT_INPUT_RANGE = "-1,1"

# --ratio auto: scale the frame's level to that of a well-exposed picture (seeisp.ratio.metered_estimate, the
# metering rule; seeisp's own auto ratio is a learned estimator that also keeps night scenes dark): the mean
# of 16x16 block means, each capped at 3x their 75th percentile, so light sources do not set the exposure.
TARGET_LEVEL, MIN_RATIO, MAX_RATIO = 0.19, 1.0, 300.0
BLOCK, CAP_PERCENTILE, CAP_FACTOR = 16, 75.0, 3.0

# A model with a noise plane (seeisp.noise_plane = 1) reads a fifth input plane: each packed pixel's expected noise,
# from the mean of its colour plane over this box (seeisp.noise_level.SMOOTHING).
NOISE_BOX = 5

# LibRaw's default output curve: BT.709 with gamma 2.222 and toe slope 4.5.
GAMMA, TOE_SLOPE, TOE_END, POWER_SCALE = 1 / 2.222, 4.5, 0.018053968510807, 1.099296826809442


def normalise(mosaic: np.ndarray, black_level: float | list[float], white_level: float) -> np.ndarray:
    """uint16 mosaic -> float32 (raw - black) / (white - black), black per 2x2 cell, not clipped."""
    h, w = mosaic.shape
    cells = np.broadcast_to(np.asarray(black_level, np.float32).reshape(-1), (4,)).reshape(2, 2)
    black = np.tile(cells, ((h + 1) // 2, (w + 1) // 2))[:h, :w]
    return (mosaic.astype(np.float32) - black) / (np.float32(white_level) - black)


def estimate_ratio(normalised: np.ndarray) -> float:
    h, w = normalised.shape
    size = BLOCK if min(h, w) >= BLOCK else 1
    h, w = h - h % size, w - w % size
    blocks = normalised[:h, :w].reshape(h // size, size, w // size, size).mean(axis=(1, 3), dtype=np.float64)
    level = float(np.mean(np.minimum(blocks, CAP_FACTOR * max(float(np.percentile(blocks, CAP_PERCENTILE)), 0.0))))
    if level <= TARGET_LEVEL / MAX_RATIO:
        return MAX_RATIO
    return float(np.clip(TARGET_LEVEL / level, MIN_RATIO, MAX_RATIO))


def pack_rggb(mosaic: np.ndarray, cfa: str) -> np.ndarray:
    """Even-cropped mosaic of any Bayer phase -> (4, H/2, W/2) channels R, G1, G2, B."""
    m = np.flip(mosaic, MIRROR_AXES[cfa]) if MIRROR_AXES[cfa] else mosaic
    return np.stack([m[0::2, 0::2], m[0::2, 1::2], m[1::2, 0::2], m[1::2, 1::2]])


def box_mean(planes: np.ndarray, size: int) -> np.ndarray:
    """The mean of every (C, H, W) pixel's size x size neighbourhood, cut at the frame's edges."""
    pad = size // 2
    padded = np.pad(planes.astype(np.float64), ((0, 0), (pad + 1, pad), (pad + 1, pad)))
    ones = np.pad(np.ones((1, *planes.shape[1:])), ((0, 0), (pad + 1, pad), (pad + 1, pad)))

    def window_sums(a: np.ndarray) -> np.ndarray:
        s = a.cumsum(axis=1).cumsum(axis=2)
        return s[:, size:, size:] - s[:, :-size, size:] - s[:, size:, :-size] + s[:, :-size, :-size]

    return window_sums(padded) / window_sums(ones)


def noise_plane(packed: np.ndarray, gain: float, read_sigma: float, ratio: float) -> np.ndarray:
    """(4, h, w) amplified input -> (1, h, w): the expected noise std of each pixel, in the input's unit."""
    signal = np.clip(box_mean(packed, NOISE_BOX), 0, None) / ratio
    return (np.sqrt(gain * signal + read_sigma**2) * ratio).mean(axis=0, keepdims=True).astype(np.float32)


def run_network(session: ort.InferenceSession, packed: np.ndarray, pad_multiple: int) -> np.ndarray:
    """(4 or 5, h, w) -> (3, 2h, 2w): mirror CONTEXT_BORDER pixels around, pad to the model's multiple by
    reflection, run, crop back."""
    _, h, w = packed.shape
    b = CONTEXT_BORDER
    ph, pw = b + (-(h + 2 * b)) % pad_multiple, b + (-(w + 2 * b)) % pad_multiple
    mode = "reflect" if min(h, w) > max(ph, pw) else "edge"
    x = np.pad(packed, ((0, 0), (b, ph), (b, pw)), mode=mode)[None].astype(np.float32)
    out = session.run(["rgb"], {session.get_inputs()[0].name: x})[0][0]
    return out[:, 2 * b : 2 * (b + h), 2 * b : 2 * (b + w)]


def infer(session: ort.InferenceSession, mosaic: np.ndarray, frame: dict, ratio: float | None) -> np.ndarray:
    """The whole contract: (H, W) uint16 mosaic -> (H, W, 3) float32 linear camera RGB."""
    meta = session.get_modelmeta().custom_metadata_map
    cfa = str(frame.get("cfa", "RGGB")).upper()
    normalised = normalise(mosaic, frame.get("black_level", 0), frame.get("white_level", 65535))
    ratio = estimate_ratio(normalised) if ratio is None else ratio
    h, w = mosaic.shape
    even = normalised[: h - h % 2, : w - w % 2]
    low, high = (float(v) for v in meta.get("seeisp.input_range", DEFAULT_INPUT_RANGE).split(","))
    packed = np.clip(pack_rggb(even, cfa) * np.float32(ratio), low, high)
    if meta.get("seeisp.noise_plane") == "1":
        plane = noise_plane(packed, float(frame["noise_gain"]), float(frame["noise_read_sigma"]), ratio)
        packed = np.concatenate([packed, plane])
    out = run_network(session, packed, int(meta.get("seeisp.pad_multiple", 16))).transpose(1, 2, 0)
    out = np.flip(out, MIRROR_AXES[cfa]) if MIRROR_AXES[cfa] else out
    # Odd sizes: repeat the last row/column, which the 2x2 packing had to leave out.
    return np.pad(out, ((0, h - out.shape[0]), (0, w - out.shape[1]), (0, 0)), mode="edge").astype(np.float32)


def render_srgb(camera_rgb: np.ndarray, white_balance: list[float], camera_to_srgb: list[list[float]]) -> np.ndarray:
    """Linear camera RGB -> 8-bit sRGB as LibRaw renders: WB, clip, matrix, clip, BT.709 curve."""
    gains = np.asarray(white_balance, np.float32)
    balanced = np.clip(camera_rgb * (gains / gains.min()), 0.0, 1.0)
    linear = np.clip(balanced @ np.asarray(camera_to_srgb, np.float32).T, 0.0, 1.0)
    curve = POWER_SCALE * np.power(np.maximum(linear, TOE_END), GAMMA) - (POWER_SCALE - 1)
    encoded = np.where(linear < TOE_END, linear * TOE_SLOPE, curve)
    return np.round(encoded * 255).astype(np.uint8)


def write_png(path: Path, rgb8: np.ndarray) -> None:
    """A minimal 8-bit RGB PNG writer (zlib + struct), so no imaging library is needed."""
    h, w, _ = rgb8.shape
    rows = np.concatenate([np.zeros((h, 1), np.uint8), rgb8.reshape(h, w * 3)], axis=1)  # filter 0 per row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + chunk(b"IEND", b"")
    )


def check_noise_level(frame: dict, where: Path) -> None:
    """ValueError unless the frame gives the sensor's noise, which a model with a noise plane reads."""
    for key in ("noise_gain", "noise_read_sigma"):
        value = _numbers(frame.get(key))
        if value is None or value.size != 1 or value.item() < 0:
            raise ValueError(f"{where}: this model reads the sensor's noise: give {key}, a number >= 0")


def read_inputs(args: argparse.Namespace) -> tuple[np.ndarray, dict, float | None]:
    """The mosaic, the frame's calibration and the ratio, checked, and the output paths checked writable, all
    before the network runs; ValueError/OSError name the problem."""
    try:
        mosaic = np.load(args.mosaic, allow_pickle=False)
    except ValueError as exc:
        raise ValueError(f"{args.mosaic}: not a .npy array ({exc})") from None
    if not isinstance(mosaic, np.ndarray) or mosaic.ndim != 2 or mosaic.dtype.kind not in "ui" or min(mosaic.shape) < 2:
        shape = f"{mosaic.dtype} {mosaic.shape}" if isinstance(mosaic, np.ndarray) else "an archive of several arrays"
        raise ValueError(f"{args.mosaic}: expected a 2-D integer Bayer mosaic, got {shape}")
    try:
        frame = json.loads(args.frame.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{args.frame}: not valid JSON ({exc})") from None
    if not isinstance(frame, dict):
        raise ValueError(f"{args.frame}: expected a JSON object with cfa, black_level and white_level")
    if str(frame.get("cfa", "RGGB")).upper() not in MIRROR_AXES:
        raise ValueError(f"{args.frame}: cfa must be one of {', '.join(MIRROR_AXES)}, got {frame['cfa']!r}")
    black, white = _numbers(frame.get("black_level", 0)), _numbers(frame.get("white_level", 65535))
    if black is None or black.size not in (1, 4):
        raise ValueError(f"{args.frame}: black_level must be one number or four (one per 2x2 cell)")
    if white is None or white.size != 1 or not white.item() > black.max():
        raise ValueError(f"{args.frame}: white_level must be one number above the black level")
    if args.png:
        gains, matrix = _numbers(frame.get("white_balance")), _numbers(frame.get("camera_to_srgb"))
        if gains is None or gains.shape != (3,) or not (gains > 0).all():
            raise ValueError(f"{args.frame}: --png needs white_balance, three positive R, G, B gains")
        if matrix is None or matrix.shape != (3, 3):
            raise ValueError(f"{args.frame}: --png needs camera_to_srgb, a 3x3 matrix")
    for path in (args.output, args.png):
        if path is not None:
            _check_writable(path)
    if args.ratio == "auto":
        return mosaic, frame, None
    try:
        ratio = float(args.ratio)
    except ValueError:
        ratio = float("nan")
    if not MIN_RATIO <= ratio <= MAX_RATIO:  # also refuses NaN
        raise ValueError(f"--ratio must be between {MIN_RATIO:g} and {MAX_RATIO:g} or 'auto', got {args.ratio!r}")
    return mosaic, frame, ratio


def _numbers(value: object) -> np.ndarray | None:
    """``value`` as a float array, or None when it is not numbers."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return array if array.size and np.isfinite(array).all() else None


def _check_writable(path: Path) -> None:
    if path.is_dir():
        raise ValueError(f"{path}: is a folder")
    if not path.parent.is_dir():
        raise ValueError(f"{path}: folder {path.parent} does not exist")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="seeisp network on a Bayer .npy, numpy + onnxruntime only")
    parser.add_argument("model", type=Path, help="a seeisp .onnx file (any precision)")
    parser.add_argument("mosaic", type=Path, help="(H, W) uint16 Bayer mosaic as .npy")
    parser.add_argument(
        "frame", type=Path, help="JSON with cfa, black_level, white_level (+ white_balance, camera_to_srgb)"
    )
    parser.add_argument("--ratio", default="auto", help="amplification ratio, or 'auto' (default)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="where to write the (H, W, 3) float32 .npy")
    parser.add_argument("--png", type=Path, help="also write a quick sRGB PNG (needs white_balance, camera_to_srgb)")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (default: all)")
    args = parser.parse_args(argv)
    if args.output.suffix.lower() != ".npy":  # np.save adds it: check and report the file it writes
        args.output = args.output.with_name(args.output.name + ".npy")

    try:
        mosaic, frame, ratio = read_inputs(args)
    except (OSError, ValueError) as exc:
        print(f"edge_infer: error: {exc}", file=sys.stderr)
        return 2
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    try:
        session = ort.InferenceSession(str(args.model), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime's load errors share no base class but Exception
        print(f"edge_infer: error: {args.model}: not a loadable ONNX model ({exc})", file=sys.stderr)
        return 2
    inputs = [(i.name, i.shape) for i in session.get_inputs()]
    noisy = session.get_modelmeta().custom_metadata_map.get("seeisp.noise_plane") == "1"
    wanted = "raw_and_noise" if noisy else "raw"
    if [name for name, _ in inputs] != [wanted] or [o.name for o in session.get_outputs()][:1] != ["rgb"]:
        print(f"edge_infer: error: {args.model}: not a seeisp network (its inputs are {inputs})", file=sys.stderr)
        return 2
    try:
        if noisy:
            check_noise_level(frame, args.frame)
    except ValueError as exc:
        print(f"edge_infer: error: {exc}", file=sys.stderr)
        return 2
    camera_rgb = infer(session, mosaic, frame, ratio)
    try:
        np.save(args.output, camera_rgb)
        if args.png:
            write_png(args.png, render_srgb(camera_rgb, frame["white_balance"], frame["camera_to_srgb"]))
    except OSError as exc:
        print(f"edge_infer: error: cannot write the output ({exc})", file=sys.stderr)
        return 2
    print(f"{args.output}: {camera_rgb.shape[1]}x{camera_rgb.shape[0]} linear camera RGB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
