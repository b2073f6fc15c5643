"""What merging a burst gives: simulated handheld bursts merged (``seeisp.burst``) against their first frame alone.

    python benchmarks/burst.py --model lite --limit 4 [--camera SonyA7S2 NikonD850] [--frames 2 4 8]
    python benchmarks/burst.py --model lite-int8 --timing  # 4 frames of 24 MP against one, end to end

Each clean picture is unprocessed with a seeded random camera; every frame of a burst sees the scene through
its own handheld motion (translation up to +/-24 px and rotation up to 1 degree, none for the first frame, the
reference), cropped by a margin so every frame stays inside the picture, and gets its own sensor noise at the
ratio (one noise draw per burst: the frames share the gain and the sensor's black-level bias, which ``--dark``
takes off with a simulated dark frame, from single frame and burst alike). The frames are written as DNGs and
merged by ``enhance_burst``. The moving variant pastes a patch of another picture into the scene that travels
10-40 px per frame. Per camera and ratio the script prints the PSNR of the first frame alone through the same
model and the gain of N merged frames over it, on the whole picture (static scene) and on the area the patch
passes through (moving variant). ``--tripod`` leaves the camera still; ``--oracle`` (with ``--tripod``) adds the
gain of the plain mean of the frames through the same model: what a merge could give at most. ``--compare-ratio``
adds a table that compares feeding the merged raw at the burst's ratio with feeding it at ratio / sqrt(N), the
output scaled back up.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
import time
import warnings
from pathlib import Path

import cv2
import numpy as np

from seeisp.burst import enhance_burst, merge_burst
from seeisp.dark_frame import DarkFrame, read_dark_frame
from seeisp.dng import write_dng
from seeisp.enhance import enhance_file, enhance_raw
from seeisp.eval.metrics import psnr
from seeisp.raw import read_raw
from seeisp.render import render
from seeisp.session import ModelSession
from seeisp.sim.noise import resolve_profile, simulate_dark_raw
from seeisp.sim.pictures import load_srgb, to_unit
from seeisp.sim.synthesis import mosaic, random_camera, shot_tags, unprocess

from options import run, shot_images, shot_options

MARGIN = 32  # px cropped from every side: 24 px of translation and the corners of a 1 degree turn
PATCH = 64  # px: the side of the moving patch
TRAVEL = (10.0, 40.0)  # px the patch moves per frame


def handheld_motion(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """A 2x3 affine: a turn up to 1 degree about the centre and a translation up to +/-24 px."""
    h, w = shape
    motion = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-1, 1), 1.0)
    motion[:, 2] += rng.uniform(-24, 24, 2)
    return motion


def moving_patch_path(rng: np.random.Generator, shape: tuple[int, int], frames: int) -> list[tuple[int, int]]:
    """Top-left corners (y, x) of the patch in each frame: a straight path 10-40 px a frame, inside the crop."""
    h, w = shape
    step = rng.uniform(*TRAVEL)
    for _ in range(100):
        angle = rng.uniform(0, 2 * math.pi)
        dy, dx = step * math.sin(angle), step * math.cos(angle)
        span_y, span_x = abs(dy) * (frames - 1), abs(dx) * (frames - 1)
        low, high_y, high_x = MARGIN + 24, h - MARGIN - 24 - PATCH - span_y, w - MARGIN - 24 - PATCH - span_x
        if high_y > low and high_x > low:
            y0 = rng.uniform(low, high_y) + (span_y if dy < 0 else 0)
            x0 = rng.uniform(low, high_x) + (span_x if dx < 0 else 0)
            return [(round(y0 + i * dy), round(x0 + i * dx)) for i in range(frames)]
    raise ValueError("picture too small for the moving patch")


def frame_scene(
    camera_rgb: np.ndarray, motion: np.ndarray, patch: np.ndarray | None, corner: tuple[int, int] | None
) -> np.ndarray:
    """The clean camera RGB a frame sees: the patch pasted at ``corner`` (scene pixels), then the camera's
    motion, then the margin cropped (even sizes)."""
    scene = camera_rgb
    if patch is not None and corner is not None:
        scene = camera_rgb.copy()
        y, x = corner
        scene[y : y + PATCH, x : x + PATCH] = patch
    h, w = scene.shape[:2]
    moved = cv2.warpAffine(scene, motion, (w, h), flags=cv2.INTER_LANCZOS4, borderMode=cv2.BORDER_REFLECT)
    crop = np.clip(moved[MARGIN : h - MARGIN, MARGIN : w - MARGIN], 0, 1)
    return crop[: crop.shape[0] // 2 * 2, : crop.shape[1] // 2 * 2]


def write_burst(
    folder: Path,
    camera_rgb: np.ndarray,
    frames: int,
    ratio: float,
    profile,
    seed: int | list,
    moving: np.ndarray | None,
    tripod: bool = False,
) -> tuple[list[Path], np.ndarray, tuple[slice, slice] | None]:
    """Simulate and write a burst (``tripod``: no camera motion) and a dark frame of the same sensor noise beside it;
    returns the DNGs, the reference frame's clean camera RGB, and the area the moving patch covers in the
    reference frame (None for a static scene)."""
    rng = np.random.default_rng(seed)
    camera = random_camera(rng)
    noise = profile.sample(rng)
    h, w = camera_rgb.shape[:2]
    corners = moving_patch_path(rng, (h, w), frames) if moving is not None else [None] * frames
    paths, reference = [], None
    dark_frame = simulate_dark_raw(np.zeros((h - 2 * MARGIN, w - 2 * MARGIN), np.float32), 1.0, noise, rng)
    write_dng(folder / "dark.dng", dark_frame, **shot_tags(camera, noise))
    for index in range(frames):
        still = index == 0 or tripod
        motion = np.array([[1, 0, 0], [0, 1, 0]], np.float64) if still else handheld_motion(rng, (h, w))
        clean = frame_scene(camera_rgb, motion, moving, corners[index])
        reference = clean if index == 0 else reference
        dark = simulate_dark_raw(mosaic(clean, "RGGB"), ratio, noise, rng)
        paths.append(write_dng(folder / f"frame{index}.dng", dark, **shot_tags(camera, noise)))
    area = None
    if moving is not None:
        ys, xs = [c[0] - MARGIN for c in corners], [c[1] - MARGIN for c in corners]
        area = (slice(max(min(ys), 0), max(ys) + PATCH), slice(max(min(xs), 0), max(xs) + PATCH))
    return paths, reference, area


def quality(image: np.ndarray, reference: np.ndarray, area: tuple[slice, slice] | None) -> float:
    return psnr(image[area], reference[area]) if area is not None else psnr(image, reference)


def benchmark(args) -> None:
    images = shot_images(args.images, args.limit)
    session = ModelSession.from_name(args.model)
    others = [to_unit(load_srgb(p)) for p in images]
    gains: dict[tuple, list[float]] = {}
    singles: dict[tuple, list[float]] = {}
    lower: dict[tuple, list[float]] = {}
    oracle: dict[tuple, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="seeisp-burst-") as folder:
        for camera_name in args.camera:
            profile = resolve_profile(camera_name, args.profiles)
            for index, path in enumerate(images):
                srgb = to_unit(load_srgb(path))
                h, w = srgb.shape[0] // 2 * 2, srgb.shape[1] // 2 * 2
                camera_rgb = unprocess(np.ascontiguousarray(srgb[:h, :w]), random_camera(np.random.default_rng(index)))
                other = others[(index + 1) % len(others)]
                patch = unprocess(np.ascontiguousarray(other[:PATCH, :PATCH]), random_camera(np.random.default_rng(99)))
                for ratio in args.ratios:
                    for variant, moving in (("static", None), ("moving", patch)):
                        seed = [args.camera.index(camera_name), index, round(ratio), variant == "moving"]
                        paths, clean, area = write_burst(
                            Path(folder), camera_rgb, max(args.frames), ratio, profile, seed, moving, args.tripod
                        )
                        raw = read_raw(paths[0])
                        reference = render(clean, raw)
                        dark = read_dark_frame(Path(folder) / "dark.dng") if args.dark else None
                        single = enhance_file(paths[0], ratio=ratio, model=session, dark_frame=dark)
                        key = (camera_name, ratio, variant)
                        singles.setdefault(key, []).append(quality(single.image, reference, area))
                        for frames in args.frames:
                            with warnings.catch_warnings():
                                warnings.simplefilter("ignore")
                                merged = enhance_burst(paths[:frames], ratio=ratio, model=session, dark_frame=dark)
                            score = quality(merged.image, reference, area)
                            gains.setdefault((*key, frames), []).append(score - singles[key][-1])
                            if variant == "static" and args.oracle:
                                oracle.setdefault((camera_name, ratio, frames), []).append(
                                    score_of_mean(paths[:frames], ratio, session, reference, dark) - singles[key][-1]
                                )
                            if variant == "static" and args.compare_ratio:
                                lower.setdefault((camera_name, ratio, frames), []).append(
                                    score_at_lower_ratio(paths[:frames], ratio, session, reference, dark) - score
                                )
                        print(f"  {camera_name} {path.name} ratio {ratio:g} {variant}: done", flush=True)
    print_tables(args, singles, gains, lower, oracle)


def score_at_lower_ratio(
    paths: list[Path], ratio: float, session: ModelSession, reference: np.ndarray, dark: DarkFrame | None
) -> float:
    """PSNR of the merged raw fed at ratio / sqrt(N) (the ratio of one frame with its noise), brightened after."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw, merged = merge_burst(paths)
    boost = math.sqrt(len(merged))
    result = enhance_raw(raw, model=session, ratio=max(1.0, ratio / boost), dark_frame=dark)
    camera_rgb = result.camera_rgb * np.float32(ratio / max(1.0, ratio / boost))
    return psnr(render(camera_rgb, raw), reference)


def score_of_mean(
    paths: list[Path], ratio: float, session: ModelSession, reference: np.ndarray, dark: DarkFrame | None
) -> float:
    """PSNR of the plain mean of the frames of a tripod burst (no alignment, no weights) through the model."""
    raw = read_raw(paths[0])
    mean = np.mean([read_raw(path).mosaic for path in paths], axis=0).astype(np.float32)
    result = enhance_raw(dataclasses.replace(raw, mosaic=mean), model=session, ratio=ratio, dark_frame=dark)
    return psnr(result.image, reference)


def print_tables(args, singles, gains, lower, oracle) -> None:
    frames = [n for n in args.frames if n > 1]
    header = "| camera | ratio | scene | 1 frame PSNR | " + " | ".join(f"{n} frames" for n in frames) + " |"
    print(f"\n{header}\n|" + "---|" * (4 + len(frames)))
    for (camera_name, ratio, variant), values in singles.items():
        cells = [f"{np.mean(gains[(camera_name, ratio, variant, n)]):+.2f} dB" for n in frames]
        area = " (patch area)" if variant == "moving" else ""
        print(f"| {camera_name} | {ratio:g} | {variant}{area} | {np.mean(values):.2f} | " + " | ".join(cells) + " |")
    if oracle:
        title = "The plain mean of the frames (the oracle merge of a tripod burst), gain over one frame (static):"
        print_per_ratio(title, oracle, args, frames)
    if lower:
        title = "Merged raw fed at ratio / sqrt(N), output scaled back up, against at the ratio itself (static):"
        print_per_ratio(title, lower, args, frames)


def print_per_ratio(title: str, gains: dict, args, frames: list[int]) -> None:
    """One table of mean gains per camera and ratio, a column per burst length."""
    print(f"\n{title}\n")
    print("| camera | ratio | " + " | ".join(f"{n} frames" for n in frames) + " |")
    print("|---|---|" + "---|" * len(frames))
    for camera_name in args.camera:
        for ratio in args.ratios:
            cells = [f"{np.mean(gains[(camera_name, ratio, n)]):+.2f} dB" for n in frames]
            print(f"| {camera_name} | {ratio:g} | " + " | ".join(cells) + " |")


def timing(args) -> None:
    """4 frames of 24 MP (training pictures tiled) end to end against one frame, same model."""
    pictures = sorted(Path(args.images).parent.parent.joinpath("train", "bsd100").glob("*.png"))[:24]
    if not pictures:
        pictures = shot_images(args.images, None)
    h, w = 4000, 6000
    canvas = np.zeros((h, w, 3), np.float32)
    rng = np.random.default_rng(0)
    y = 0
    while y < h:
        x, row_height = 0, 0
        while x < w:
            tile = to_unit(load_srgb(pictures[int(rng.integers(len(pictures)))]))
            th, tw = min(tile.shape[0], h - y), min(tile.shape[1], w - x)
            canvas[y : y + th, x : x + tw] = tile[:th, :tw]
            x, row_height = x + tw, max(row_height, th)
        y += row_height
    camera_rgb = unprocess(canvas, random_camera(rng))
    del canvas
    profile = resolve_profile(args.camera[0], args.profiles)
    session = ModelSession.from_name(args.model)
    with tempfile.TemporaryDirectory(prefix="seeisp-burst-") as folder:
        paths, _, _ = write_burst(Path(folder), camera_rgb, 4, 300, profile, 1, None)
        del camera_rgb
        started = time.perf_counter()
        enhance_file(paths[0], ratio=300, model=session)
        one = time.perf_counter() - started
        started = time.perf_counter()
        enhance_burst(paths, ratio=300, model=session)
        four = time.perf_counter() - started
    print("\n| model | frames | size | seconds | against one frame |\n|---|---|---|---|---|")
    print(f"| {args.model} | 1 | {w - 2 * MARGIN}x{h - 2 * MARGIN} | {one:.1f} | 1.00x |")
    print(f"| {args.model} | 4 | {w - 2 * MARGIN}x{h - 2 * MARGIN} | {four:.1f} | {four / one:.2f}x |")


def main(argv: list[str] | None = None) -> int:
    parser = shot_options(__doc__.splitlines()[0], ratios=[100, 250, 300], limit=4, cameras=["SonyA7S2", "NikonD850"])
    parser.add_argument("--frames", type=int, nargs="+", default=[1, 2, 4, 8], help="burst lengths (default: 1 2 4 8)")
    parser.add_argument("--compare-ratio", action="store_true", help="also feed the merged raw at ratio / sqrt(N)")
    parser.add_argument(
        "--dark", action="store_true", help="take the sensor's black-level bias off with a simulated dark frame"
    )
    parser.add_argument("--tripod", action="store_true", help="no camera motion between the frames")
    parser.add_argument(
        "--oracle", action="store_true", help="with --tripod: also the plain mean of the frames through the model"
    )
    parser.add_argument("--timing", action="store_true", help="time 4 frames of 24 MP against one instead")
    args = parser.parse_args(argv)
    if args.oracle and not args.tripod:
        parser.error("--oracle needs --tripod: the plain mean of frames that moved is no merge")
    if 1 not in args.frames:
        args.frames = [1, *args.frames]
    if args.timing:
        timing(args)
    else:
        benchmark(args)
    return 0


if __name__ == "__main__":
    run(main)
