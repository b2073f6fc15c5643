"""Speed and memory of seeisp on 12 MP and 24 MP frames: torch eager against ONNX Runtime fp32, fp16, int8.

    nice -n 10 python benchmarks/perf.py --quick   # 12 MP, lite model only, one repeat (a few minutes)
    nice -n 10 python benchmarks/perf.py           # what docs/PERFORMANCE.md shows (much longer)

Prints markdown. Measures, for each frame size:

* model only: one network call on the whole packed frame (padded to the model's multiple), per backend,
  in the steady state (after warm-up calls on the same input; the warm-up time is shown too), in
  seconds, megapixels per second and GFLOP/s against ``seeisp.training.model.count_flops``;
* end to end: ``seeisp enhance FRAME.dng -o OUT.tif`` (read the raw, tiled inference with the model's
  default tile, render, write an uncompressed 16-bit TIFF) in a fresh process per case: wall time and
  that process's peak resident memory;
* the same with ``--passes 8`` (the x8 self-ensemble, ``seeisp.ensemble``) for the fastest and the best model;
* where the time and the memory go in one end-to-end case, stage by stage;
* quality: the PSNR of each lite variant against fp32 on simulated pairs (``seeisp.eval.benchmark``).

The models are the shipped weights/seeisp-lite.onnx and weights/seeisp-full.onnx (a randomly
initialised network stands in, for speed only, where one is missing); their fp16 and int8 variants are
made here with ``seeisp.training.quantize``. The torch rows use randomly initialised networks of the
same architecture (speed does not depend on the weights). Needs the train extra (torch, onnx).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from options import ArgumentParser, at_least_one, run

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FRAMES = {"12 MP": (2848, 4256), "24 MP": (4024, 6048)}  # raw (height, width)
RATIO = 100.0
SECTIONS = ("model", "e2e", "ensemble", "stages", "quality")
TARGETS = {"ort_over_torch_full": 1.8, "lite_int8_12mp_seconds": 4.0, "int8_psnr_drop_db": 0.3, "peak_24mp_gb": 2.0}


@dataclass
class Model:
    name: str  # lite, full
    config: dict  # UNetConfig fields, as the ONNX file's metadata carries them
    onnx: dict[str, Path]  # precision -> file
    trained: bool


@dataclass
class Timing:
    seconds: float  # best wall time over the repeats
    cpu_seconds: float  # CPU time of this process over that run (all threads)
    first: float = float("nan")  # best wall time of the warm-up calls on the same input


# --- inputs --------------------------------------------------------------------------------


def write_frame(folder: Path, height: int, width: int, seed: int = 0) -> Path:
    """The built-in scene as a dark raw (1/RATIO of the light, virtual-sensor noise) written as a DNG."""
    from seeisp.sim.noise import VIRTUAL_SENSOR
    from seeisp.sim.scene import draw_scene
    from seeisp.sim.synthesis import random_camera, unprocess, write_dark_shot

    rng = np.random.default_rng(seed)
    camera = random_camera(rng)
    clean = unprocess(draw_scene(height, width), camera)
    noise = VIRTUAL_SENSOR.sample(rng)
    return write_dark_shot(folder / f"frame-{height}x{width}.dng", clean, camera, RATIO, noise, rng)


def packed_input(dng: Path) -> np.ndarray:
    """The network input of a frame, as ``seeisp.enhance.denoise`` makes it (``network_input``)."""
    from seeisp.enhance import network_input
    from seeisp.raw import read_raw

    return network_input(read_raw(dng), RATIO)


def pad_to(packed: np.ndarray, multiple: int) -> np.ndarray:
    _, h, w = packed.shape
    return np.pad(packed, ((0, 0), (0, (-h) % multiple), (0, (-w) % multiple)), mode="reflect")[None]


# --- models --------------------------------------------------------------------------------


def build_models(folder: Path, names: list[str], calibration_samples: int) -> list[Model]:
    import torch

    from seeisp.training.config import TrainConfig
    from seeisp.training.export import export_onnx
    from seeisp.training.model import SIDUNet
    from seeisp.training.quantize import (
        CALIBRATION_PATCH,
        builtin_pictures,
        calibration_inputs,
        calibration_pictures,
        convert_fp16,
        quantize_int8,
    )

    train = SHARED / "data" / "clean" / "train"
    pictures = calibration_pictures([train], calibration_samples, CALIBRATION_PATCH) if train.is_dir() else []
    profiles = []
    if (SHARED / "data" / "noise_profiles").is_dir():
        from seeisp.sim.noise import load_profiles

        profiles = list(load_profiles(SHARED / "data" / "noise_profiles").values())
    models = []
    for name in names:
        fp32 = folder / f"seeisp-{name}.onnx"
        shipped = REPO / "weights" / f"seeisp-{name}.onnx"
        if shipped.is_file():
            shutil.copyfile(shipped, fp32)  # a snapshot: training may replace it
            trained, samples = True, calibration_samples
        else:  # speed does not depend on the weights: a random network of the model's config stands in
            torch.manual_seed(0)
            model = SIDUNet(TrainConfig.load(str(REPO / "configs" / f"{name}.toml"), []).model_config)
            checkpoint = folder / f"{name}-untrained.pt"
            config = {"name": name, "note": "untrained weights, speed only"}
            torch.save(
                {"model": model.state_dict(), "model_config": model.config.to_dict(), "config": config}, checkpoint
            )
            export_onnx(checkpoint, fp32, name)
            trained, samples = False, min(8, calibration_samples)
        inputs = calibration_inputs(samples, pictures or builtin_pictures(), profiles)
        onnx = {
            "fp32": fp32,
            "fp16": convert_fp16(fp32, folder / f"seeisp-{name}-fp16.onnx"),
            "int8": quantize_int8(fp32, folder / f"seeisp-{name}-int8.onnx", inputs),
        }
        models.append(Model(name, model_config(fp32), onnx, trained))
    return models


def model_config(onnx_file: Path) -> dict:
    """The network's UNetConfig fields from the file's ``seeisp.model_config`` metadata."""
    from seeisp.session import ModelSession

    config = ModelSession(onnx_file).config
    if "width" not in config:
        raise SystemExit(f"{onnx_file}: no seeisp.model_config metadata; export it with seeisp export")
    return config


def architecture(model: Model) -> str:
    extra = model.config.get("extra_convs", 0)
    return f"width {model.config['width']}" + (f", {extra} extra conv{'s' * (extra > 1)} per level" if extra else "")


# --- model-only timing ---------------------------------------------------------------------


def best_of(run: Callable[[], object], repeats: int) -> Timing:
    best: Timing | None = None
    for _ in range(repeats):
        cpu, wall = time.process_time(), time.perf_counter()
        run()
        timing = Timing(time.perf_counter() - wall, time.process_time() - cpu)
        best = timing if best is None or timing.seconds < best.seconds else best
    assert best is not None
    return best


def steady_state(run: Callable[[], object], repeats: int) -> Timing:
    """Best of ``repeats`` calls after two warm-up calls on the same input, whose best is kept as ``first``.

    Both backends are slower on the first calls at a new input shape: torch picks its kernels and
    grows its allocator; ONNX Runtime records the shape's memory pattern on the first run and plans one
    block from it, so on big frames its first two calls take longer than the rest (the "first calls" column). A tiled
    ``seeisp enhance`` calls one shape again and again, so the steady state is what it gets.
    """
    first = best_of(run, 2)
    timing = best_of(run, repeats)
    timing.first = first.seconds
    return timing


def time_torch(config: dict, x: np.ndarray, repeats: int, threads: int) -> Timing:
    import torch

    from seeisp.training.model import SIDUNet, UNetConfig

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    network = SIDUNet(UNetConfig(**config)).eval()
    tensor = torch.from_numpy(x)
    with torch.inference_mode():
        network(tensor[:, :, :64, :64])  # thread pool started
        return steady_state(lambda: network(tensor), repeats)


def time_ort(path: Path, x: np.ndarray, repeats: int, threads: int) -> Timing:
    from seeisp.session import ModelSession

    session = ModelSession(path, providers=["cpu"], threads=threads).session
    session.run(None, {"raw": x[:, :, :64, :64]})
    return steady_state(lambda: session.run(None, {"raw": x}), repeats)


# --- end to end ----------------------------------------------------------------------------


def peak_rss_gb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: a child's ru_maxrss starts at its
    parent's resident size when it was forked, which would credit this script's own memory to it."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e9
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e9  # macOS: bytes


def run_measured(command: list[str], cwd: Path) -> tuple[float, float, float, str]:
    """Run ``perf.py --cli ...`` or ``--stages``: (wall seconds, CPU seconds, peak resident GB, its stdout)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    output, errors = process.communicate()
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # cumulative: the caller takes differences
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}):\n{output}{errors}")
    peak = float(errors.strip().splitlines()[-1].removeprefix("peak_rss_gb="))
    return wall, usage.ru_utime + usage.ru_stime, peak, output


def end_to_end(dng: Path, model: Path, folder: Path, threads: int, passes: int = 1) -> tuple[float, float, float]:
    """``seeisp enhance`` (its ``main``, as the console script runs it) in a fresh process."""
    out = folder / f"{dng.stem}-{model.stem}.tif"
    command = [sys.executable, __file__, "--cli", "enhance", str(dng), "-o", str(out), "--model", str(model)]
    command += ["--ratio", f"{RATIO:g}", "--threads", str(threads), "--overwrite", "-q"]
    command += ["--passes", str(passes)]
    cpu_before = _children_cpu()
    wall, cpu_after, peak, _ = run_measured(command, folder)
    out.unlink()
    return wall, cpu_after - cpu_before, peak


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_cli_and_report_peak(argv: list[str]) -> int:
    from seeisp.cli import main as seeisp_main

    code = seeisp_main(argv)
    print(f"peak_rss_gb={peak_rss_gb()}", file=sys.stderr)
    return code


def stages(dng: str, model: str, out: str, threads: int) -> dict:
    """One ``seeisp enhance`` case taken apart (run in its own process): seconds and numpy peak per stage."""
    import tracemalloc

    from seeisp.chroma import smooth_chroma
    from seeisp.enhance import denoise
    from seeisp.output import write_image
    from seeisp.raw import read_raw
    from seeisp.render import render
    from seeisp.session import ModelSession

    tracemalloc.start()  # numpy reports its buffers to tracemalloc; ONNX Runtime's arena is not seen
    report: dict[str, dict[str, float]] = {}
    state: dict[str, object] = {}

    def stage(name: str, fn: Callable[[], object]) -> None:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        started = time.perf_counter()
        state[name] = fn()
        current, peak = tracemalloc.get_traced_memory()
        report[name] = {
            "seconds": time.perf_counter() - started,
            "numpy_peak_gb": (peak - before) / 1e9,
            "kept_gb": (current - before) / 1e9,
            "rss_gb": peak_rss_gb(),
        }

    stage("load model", lambda: ModelSession(model, threads=threads))
    stage("read raw", lambda: read_raw(dng))
    stage("network (tiled)", lambda: denoise(state["read raw"], state["load model"], RATIO))
    stage("colour noise", lambda: smooth_chroma(state["network (tiled)"], state["read raw"].white_balance))
    stage("render", lambda: render(state["colour noise"], state["read raw"]))
    stage("write 16-bit TIFF", lambda: write_image(out, state["render"]))
    print(f"peak_rss_gb={peak_rss_gb()}", file=sys.stderr)
    return report


# --- quality -------------------------------------------------------------------------------


def variant_psnr(lite: Model, images: int, folder: Path) -> dict:
    """PSNR of each lite variant on simulated pairs, via the quality benchmark's own functions."""
    from seeisp.eval.benchmark import run_benchmark
    from seeisp.session import ModelSession
    from seeisp.sim.noise import VIRTUAL_SENSOR, resolve_profile

    kodak = SHARED / "data" / "clean" / "val" / "kodak24"
    if kodak.is_dir():
        from seeisp.sim.pictures import list_images

        paths = list_images([kodak])[:images]
        profile = resolve_profile("SonyA7S2", SHARED / "data" / "noise_profiles")
    else:
        import imageio.v3 as iio

        from seeisp.sim.scene import draw_scene

        paths = [folder / "scene.png"]
        iio.imwrite(paths[0], np.round(draw_scene() * 255).astype(np.uint8))
        profile = VIRTUAL_SENSOR
    sessions = [ModelSession(path) for path in lite.onnx.values()]
    results = run_benchmark(paths, profile, ratios=(100.0, 300.0), sessions=sessions)
    stats = results["summary"]["groups"]["all"]
    return {
        "pictures": f"{len(paths)} {'Kodak' if kodak.is_dir() else 'built-in scene'} pictures",
        "camera": profile.name,
        "variants": {
            s.name: {"psnr": stats[f"seeisp {s.name}"]["psnr"], "ssim": stats[f"seeisp {s.name}"]["ssim"]}
            for s in sessions
        },
        "per_case": [
            {s.name: case["methods"][f"seeisp {s.name}"]["psnr"] for s in sessions} for case in results["cases"]
        ],
    }


# --- report --------------------------------------------------------------------------------


def environment(threads: int) -> list[str]:
    import onnxruntime

    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else ""
    )
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    isa = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "f16c") if f" {f}" in flags]
    try:
        import torch

        torch_version = torch.__version__
    except ImportError:
        torch_version = "not installed"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return [
        f"- date: {datetime.date.today().isoformat()}; machine: {cpu} ({', '.join(isa)}), "
        f"{os.cpu_count()} logical CPUs, {threads} threads used",
        f"- onnxruntime {onnxruntime.__version__} (CPUExecutionProvider), torch {torch_version}, "
        f"numpy {np.__version__}, Python {platform.python_version()}",
        f"- 1-minute load average when the run began: {load:.2f}",
    ]


def models_section(models: list[Model]) -> list[str]:
    from seeisp.session import ModelSession

    lines = ["## Models", "", "| model | file sizes fp32 / fp16 / int8 (MB) | weights |", "|---|---|---|"]
    for model in models:
        sizes = " / ".join(f"{model.onnx[p].stat().st_size / 1e6:.1f}" for p in ("fp32", "fp16", "int8"))
        if model.trained:
            training = json.loads(ModelSession(model.onnx["fp32"]).metadata.get("seeisp.training", "{}"))
            weights = f"weights/seeisp-{model.name}.onnx as of this run: training step {training.get('step')}"
            if training.get("val_psnr") is not None:  # None where the last step, not the best, was exported
                weights += f", validation PSNR {training['val_psnr']:.2f} dB"
        else:
            weights = "randomly initialised: speed only"
        lines.append(f"| {model.name} ({architecture(model)}) | {sizes} | {weights} |")
    return lines


def share(cpu_seconds: float, seconds: float, threads: int) -> str:
    return f"{100 * cpu_seconds / (seconds * threads):.0f} %"


def model_tile(model: Model) -> int:
    """The tile ``seeisp enhance`` runs this model on when given no --tile."""
    from seeisp.models import default_tile

    return default_tile(model.config["width"])


def tile_label(tile: int) -> str:
    return f"tile {tile}x{tile}"


def network_inputs(frames: dict[str, Path], tiles: list[int]) -> dict[str, np.ndarray]:
    """Each frame's whole packed input (padded to 16) and one tile of each size cut from the first frame."""
    inputs = {size: pad_to(packed_input(dng), 16) for size, dng in frames.items()}
    first = next(iter(inputs.values()))
    for tile in sorted(set(tiles)):
        inputs[tile_label(tile)] = np.ascontiguousarray(first[:, :, :tile, :tile])
    return inputs


def model_only_section(
    frames: dict[str, Path], models: list[Model], repeats: int, threads: int
) -> tuple[list[str], dict[tuple[str, str, str], Timing]]:
    lines = [
        "## Model only: one network call",
        "",
        "On the whole packed frame (padded to a multiple of 16), and on one packed tile of the size `seeisp enhance` "
        "runs that model on (its default tile: seeisp.models.default_tile). "
        f"Steady state: the best of {repeats} calls after two warm-up calls on the same input ('first calls': the "
        "best of those two; see ``steady_state``). 'CPU share' = CPU time / (wall time x "
        f"{threads} threads): below 100 % the process waited (for the CPU under other load, or for memory).",
        "",
        "| input | model | backend | seconds | first calls | raw MP/s | GFLOP/s | CPU share | speed vs torch |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    from seeisp.training.model import UNetConfig, flops_per_packed_pixel

    timings: dict[tuple[str, str, str], Timing] = {}
    for size, x in network_inputs(frames, [model_tile(m) for m in models]).items():
        megapixels = 4 * x.shape[2] * x.shape[3] / 1e6
        for model in models:
            if size.startswith("tile") and size != tile_label(model_tile(model)):
                continue
            gflop = flops_per_packed_pixel(UNetConfig(**model.config)) * x.shape[2] * x.shape[3] / 1e9
            label = model.name if model.trained else f"{model.name} (untrained weights, speed only)"
            for backend in ("torch eager fp32", "ORT fp32", "ORT fp16", "ORT int8"):
                log(f"model only: {size} {model.name} {backend}")
                if backend.startswith("torch"):
                    timing = time_torch(model.config, x, repeats, threads)
                else:
                    timing = time_ort(model.onnx[backend.split()[1]], x, repeats, threads)
                timings[(size, model.name, backend)] = timing
                speedup = timings[(size, model.name, "torch eager fp32")].seconds / timing.seconds
                lines.append(
                    f"| {size} | {label} | {backend} | {timing.seconds:.2f} | {timing.first:.2f} "
                    f"| {megapixels / timing.seconds:.2f} "
                    f"| {gflop / timing.seconds:.0f} | {share(timing.cpu_seconds, timing.seconds, threads)} "
                    f"| {speedup:.2f}x |"
                )
            lines.append(f"| {size} | {model.name}: {gflop:.1f} GFLOP per call (count_flops) | | | | | | | |")
    return lines, timings


def end_to_end_section(
    frames: dict[str, Path], models: list[Model], folder: Path, threads: int
) -> tuple[list[str], dict[tuple[str, str], tuple[float, float, float]]]:
    from seeisp.session import tile_overlap

    lines = [
        f"## End to end: `seeisp enhance FRAME.dng -o OUT.tif --ratio {RATIO:g}`, each in a fresh process",
        "",
        f"Read the raw, tiled inference (the model's default tile and overlap: "
        f"{', '.join(f'{m.name} {model_tile(m)}, {tile_overlap(model_tile(m))}' for m in models)}), render, "
        "write an uncompressed "
        "16-bit TIFF. The wall time includes starting Python and loading the model; peak memory is the process's "
        "maximum resident set.",
        "",
        "| frame | model | seconds | peak memory (GB) | CPU share |",
        "|---|---|---:|---:|---:|",
    ]
    results: dict[tuple[str, str], tuple[float, float, float]] = {}
    for size, dng in frames.items():
        for model in models:
            for precision, path in model.onnx.items():
                name = model.name if precision == "fp32" else f"{model.name}-{precision}"
                log(f"end to end: {size} {name}")
                wall, cpu, peak = end_to_end(dng, path, folder, threads)
                results[(size, name)] = (wall, cpu, peak)
                label = name if model.trained else f"{name} (untrained, speed only)"
                lines.append(f"| {size} | {label} | {wall:.2f} | {peak:.2f} | {share(cpu, wall, threads)} |")
    return lines, results


def ensemble_section(frames: dict[str, Path], models: list[Model], folder: Path, threads: int) -> list[str]:
    """``seeisp enhance --passes 8`` end to end: the fastest variant (int8) of each model, and full fp32."""
    lines = [
        "## End to end with `--passes 8` (x8 self-ensemble), each in a fresh process",
        "",
        "The same command plus `--passes 8`: the network runs over the 8 orientations of the mosaic and the",
        "outputs are averaged (`seeisp.ensemble`).",
        "",
        "| frame | model | seconds | peak memory (GB) | CPU share |",
        "|---|---|---:|---:|---:|",
    ]
    for size, dng in frames.items():
        for model in models:
            for precision in ("int8", "fp32") if model.name == "full" else ("int8",):
                if precision not in model.onnx:
                    continue
                name = model.name if precision == "fp32" else f"{model.name}-{precision}"
                log(f"end to end, x8: {size} {name}")
                wall, cpu, peak = end_to_end(dng, model.onnx[precision], folder, threads, passes=8)
                lines.append(f"| {size} | {name} x8 | {wall:.2f} | {peak:.2f} | {share(cpu, wall, threads)} |")
    return lines


def stages_section(frames: dict[str, Path], lite: Model, folder: Path, threads: int) -> list[str]:
    lines = ["## Where the time and the memory go: one `seeisp enhance` case per frame size, in its own process", ""]
    for size, dng in frames.items():
        precision = "int8" if size == "12 MP" else "fp32"
        log(f"stages: {size} lite-{precision}")
        command = [sys.executable, __file__, "--threads", str(threads), "--stages", str(dng)]
        command += [str(lite.onnx[precision]), str(folder / "stages.tif")]
        _, _, peak, output = run_measured(command, folder)
        report = json.loads(output.strip().splitlines()[-1])
        lines += [
            f"{size}, lite-{precision}: process peak {peak:.2f} GB. 'numpy peak' = the most numpy memory the stage "
            "held at once beyond what was already held (tracemalloc; ONNX Runtime's own buffers are not counted).",
            "",
            "| stage | seconds | numpy peak in stage (GB) | numpy kept after (GB) | process peak RSS so far (GB) |",
            "|---|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {k} | {v['seconds']:.2f} | {v['numpy_peak_gb']:.2f} | {v['kept_gb']:.2f} | {v['rss_gb']:.2f} |"
            for k, v in report.items()
        ]
        lines.append("")
    return lines


def quality_section(lite: Model, images: int, folder: Path) -> tuple[list[str], dict]:
    log("PSNR of the lite variants")
    quality = variant_psnr(lite, images, folder)
    fp32_psnr = quality["variants"]["lite"]["psnr"]
    lines = [
        f"## Quality of the lite variants: {quality['pictures']}, {quality['camera']} noise, ratios 100 and 300",
        "",
        "Rendered sRGB against the clean reference, as `seeisp benchmark` scores it. For the full model's "
        "variants, run `seeisp benchmark` (weights/MODEL_CARD.md).",
        "",
        "| variant | PSNR (dB) | vs fp32 (dB) | worst case vs fp32 (dB) | SSIM |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, values in quality["variants"].items():
        worst = min(case[name] - case["lite"] for case in quality["per_case"])
        lines.append(
            f"| {name} | {values['psnr']:.2f} | {values['psnr'] - fp32_psnr:+.3f} | {worst:+.3f} "
            f"| {values['ssim']:.4f} |"
        )
    return lines, quality


def targets_section(
    model_only: dict[tuple[str, str, str], Timing],
    e2e: dict[tuple[str, str], tuple[float, float, float]],
    quality: dict,
) -> list[str]:
    def met(ok: bool) -> str:
        return "yes" if ok else "**no**"

    lines = ["## Targets", "", "| target | measured | met |", "|---|---|---|"]
    goal = TARGETS["ort_over_torch_full"]
    for size in dict.fromkeys(key[0] for key in model_only):
        if (size, "full", "ORT fp32") in model_only:
            ratio = (
                model_only[(size, "full", "torch eager fp32")].seconds / model_only[(size, "full", "ORT fp32")].seconds
            )
            lines.append(
                f"| full model, ORT fp32 >= {goal}x faster than torch eager, {size} "
                f"| {ratio:.2f}x | {met(ratio >= goal)} |"
            )
    if ("12 MP", "lite-int8") in e2e:
        seconds, _, peak = e2e[("12 MP", "lite-int8")]
        goal = TARGETS["lite_int8_12mp_seconds"]
        lines.append(
            f"| lite int8, 12 MP end to end <= {goal:g} s | {seconds:.2f} s ({peak:.2f} GB) | {met(seconds <= goal)} |"
        )
    if quality:
        change = quality["variants"]["lite-int8"]["psnr"] - quality["variants"]["lite"]["psnr"]
        goal = TARGETS["int8_psnr_drop_db"]
        lines.append(f"| lite int8 PSNR within {goal} dB of lite fp32 | {change:+.3f} dB | {met(change >= -goal)} |")
    peaks = {name: v[2] for (size, name), v in e2e.items() if size == "24 MP"}
    if peaks:
        worst = max(peaks, key=peaks.__getitem__)
        goal = TARGETS["peak_24mp_gb"]
        lines.append(
            f"| 24 MP end to end, peak memory <= {goal:g} GB for every variant | worst {peaks[worst]:.2f} GB ({worst}) "
            f"| {met(peaks[worst] <= goal)} |"
        )
    return lines


def log(message: str) -> None:
    print(f"[perf {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--cli"]:  # the child process of one end-to-end case
        return run_cli_and_report_peak(argv[1:])
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="12 MP, lite model only, one repeat, two pictures")
    from seeisp.providers import usable_cores

    cores = usable_cores()
    parser.add_argument(
        "--threads", type=at_least_one, default=cores, help="CPU threads (default: all this process may use)"
    )
    parser.add_argument("--repeats", type=at_least_one, help="model-only repeats, the best kept (default: 2, quick: 1)")
    parser.add_argument(
        "--psnr-images", type=at_least_one, help="Kodak pictures for the PSNR check (default: 8, quick: 2)"
    )
    parser.add_argument("--calibration-samples", type=at_least_one, default=32, help="int8 calibration samples (lite)")
    parser.add_argument(
        "--only", nargs="+", choices=SECTIONS, default=list(SECTIONS), help="sections to run (default: all)"
    )
    parser.add_argument("--stages", nargs=3, metavar=("DNG", "MODEL", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stages:  # the child process of the stage-by-stage table
        print(json.dumps(stages(*args.stages, threads=args.threads)))
        return 0

    sizes = ["12 MP"] if args.quick else list(FRAMES)
    repeats = args.repeats or (1 if args.quick else 2)
    emit(["## Environment", "", *environment(args.threads)])
    with tempfile.TemporaryDirectory(prefix="seeisp-perf-") as tmp:
        folder = Path(tmp)
        log("building the model variants")
        models = build_models(folder, ["lite"] if args.quick else ["lite", "full"], args.calibration_samples)
        emit(models_section(models))
        frames = {}
        for size in sizes if {"model", "e2e", "ensemble", "stages"} & set(args.only) else []:
            log(f"writing the {size} frame")
            frames[size] = write_frame(folder, *FRAMES[size])
        model_only, e2e, quality = {}, {}, {}
        if "model" in args.only:
            section, model_only = model_only_section(frames, models, repeats, args.threads)
            emit(section)
        if "e2e" in args.only:
            section, e2e = end_to_end_section(frames, models, folder, args.threads)
            emit(section)
        if "ensemble" in args.only:
            emit(ensemble_section(frames, models, folder, args.threads))
        if "stages" in args.only:
            emit(stages_section(frames, models[0], folder, args.threads))
        if "quality" in args.only:
            section, quality = quality_section(models[0], args.psnr_images or (2 if args.quick else 8), folder)
            emit(section)
        emit(targets_section(model_only, e2e, quality))
    return 0


def emit(lines: list[str]) -> None:
    """Print a finished section at once, so a run stopped part-way still leaves its tables."""
    print("\n".join(lines).rstrip("\n") + "\n", flush=True)


if __name__ == "__main__":
    run(main)
