"""Quality benchmark: seeisp against LibRaw on simulated low-light raws of clean pictures.

For every clean picture and ratio, ``make_pair`` unprocesses the picture with a random camera,
mosaics it in one of the four Bayer CFA phases (or, with ``cfa="xtrans"``, one of the 36 X-Trans
phases), gives it the noise of a calibrated sensor at a seeded gain and writes it as a DNG, so that
LibRaw and seeisp read the very same file. Each method's picture is scored (PSNR, SSIM) against two
references:

* primary: the clean, never-mosaicked camera RGB rendered by ``seeisp.render`` with the raw's
  own metadata, i.e. the picture a perfect denoiser and demosaicker would give;
* SID protocol: LibRaw's render of the clean raw (a second DNG of the clean mosaic), as
  Chen et al. score against the long exposure developed by LibRaw.

Methods: LibRaw's render of the raw amplified by the true ratio ("naive brightening"),
the same with LibRaw's noise reduction (FBDD full + 3 median passes; LibRaw skips FBDD on X-Trans),
and each seeisp model at the true ratio; the first model also runs with the estimated ("auto") ratio. With
``passes`` over 1, each model also runs as its self-ensemble of that many passes ("seeisp NAME x8" for 8,
``seeisp.ensemble``).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..dng import write_dng
from ..enhance import enhance_file
from ..ensemble import check_passes, ensemble_suffix
from ..errors import SeeispError
from ..ratio import estimate_ratio
from ..raw import read_raw
from ..render import render
from ..session import ModelSession
from ..sim.noise import VIRTUAL_SENSOR, NoiseParams, SensorProfile
from ..sim.pictures import list_images, load_srgb, to_unit
from ..sim.synthesis import Camera, mosaic, random_camera, shot_tags, unprocess, write_dark_shot
from ..xtrans import REFERENCE, shifted
from .baseline import libraw_render
from .metrics import psnr, ssim

NAIVE = "LibRaw, amplified"
LIBRAW_NR = "LibRaw NR (FBDD + median)"
CFA_PHASES = ("RGGB", "GRBG", "GBRG", "BGGR")
XTRANS_PHASES = tuple(shifted(REFERENCE, rows, cols).value for rows in range(6) for cols in range(6))
CFA_KINDS = {"bayer": CFA_PHASES, "xtrans": XTRANS_PHASES}  # the phases each benchmarked CFA kind cycles through
NOISIEST = "noisiest tenth"  # the summary group of the cases with the fewest photo-electrons at white
AUTO_RATIO_STOPS = (1 / 3, 2 / 3)  # the auto ratio's error is counted within these many stops of the true ratio
MIN_SIDE = 22  # px: LibRaw refuses raws narrower or lower than 22 px (pictures are cropped to even sizes)
PROJECT_ROOT = Path(__file__).resolve().parents[1]  # the checkout (or site-packages) holding the seeisp package
PROFILES = Path("..", "shared", "data", "noise_profiles")  # the ELD noise profiles, beside the checkout

CaseProgress = Callable[[int, int], None]  # (cases done, cases in all)


@dataclass(frozen=True)
class Pair:
    """One simulated shot: the dark raw, the clean raw of the same scene, and both references."""

    dark: Path
    clean: Path
    ratio: float
    cfa: str
    reference: np.ndarray  # primary: clean camera RGB through seeisp.render, display orientation
    reference_sid: np.ndarray  # SID protocol: LibRaw's render of the clean raw

    def remove(self) -> None:
        self.dark.unlink(missing_ok=True)
        self.clean.unlink(missing_ok=True)


def make_pair(
    srgb: np.ndarray,
    ratio: float,
    camera: Camera,
    noise: NoiseParams,
    rng: np.random.Generator,
    folder: str | os.PathLike[str],
    cfa: str = "RGGB",
    name: str = "pair",
) -> Pair:
    """A clean sRGB picture (H, W, 3) in [0, 1] -> dark and clean DNGs of it plus the two references."""
    h, w = srgb.shape[0] - srgb.shape[0] % 2, srgb.shape[1] - srgb.shape[1] % 2
    clean_rgb = unprocess(np.ascontiguousarray(srgb[:h, :w]), camera)
    folder = Path(folder)
    dark = write_dark_shot(folder / f"{name}-x{ratio:g}.dng", clean_rgb, camera, ratio, noise, rng, cfa)
    clean_dn = np.round(mosaic(clean_rgb, cfa) * np.float32(noise.white - noise.black) + noise.black)
    clean = write_dng(folder / f"{name}-clean.dng", clean_dn.astype(np.uint16), **shot_tags(camera, noise, cfa))
    return Pair(
        dark=dark,
        clean=clean,
        ratio=float(ratio),
        cfa=cfa,
        reference=render(clean_rgb, read_raw(clean)),
        reference_sid=libraw_render(clean),
    )


def score(image: np.ndarray, pair: Pair) -> dict[str, float]:
    """PSNR and SSIM of a rendered picture against both references of its pair."""
    if image.shape != pair.reference.shape:
        raise SeeispError(f"{pair.dark}: picture is {image.shape}, reference is {pair.reference.shape}")
    return {
        "psnr": psnr(image, pair.reference),
        "ssim": ssim(image, pair.reference),
        "psnr_sid": psnr(image, pair.reference_sid),
        "ssim_sid": ssim(image, pair.reference_sid),
    }


def find_images(folder: str | os.PathLike[str], limit: int | None = None) -> list[Path]:
    """The pictures of ``folder``, sorted; only the first ``limit`` (at least 1) when given."""
    if limit is not None and limit < 1:
        raise SeeispError(f"--limit must be at least 1, got {limit}")
    if not Path(folder).is_dir():
        raise SeeispError(f"{folder}: no such folder of clean pictures")
    paths = list_images([folder])
    if not paths:
        raise SeeispError(f"{folder}: no PNG, JPEG, TIFF, BMP or WebP pictures in it")
    return paths if limit is None else paths[:limit]


def check_images(images: Sequence[str | os.PathLike[str]]) -> None:
    """Read every picture once and check its size, so that a bad one stops the benchmark before any work.

    Raises ``PictureReadError`` (unreadable) or ``SeeispError`` (smaller than ``MIN_SIDE``), naming the picture.
    """
    for path in images:
        _check_size(Path(path), load_srgb(Path(path)).shape)


def _check_size(path: Path, shape: tuple[int, ...]) -> None:
    if min(shape[:2]) < MIN_SIDE:
        raise SeeispError(
            f"{path}: picture is {shape[1]}x{shape[0]} px; the benchmark needs at least {MIN_SIDE} px on each side"
        )


def profile_dirs() -> list[Path]:
    """Where the noise profiles are looked for without ``--profiles``: beside the checkout, then the current folder."""
    dirs = [PROJECT_ROOT.parent / "shared" / "data" / "noise_profiles", PROFILES]
    return [d for i, d in enumerate(dirs) if d.resolve() not in [e.resolve() for e in dirs[:i]]]


def default_profiles_dir(camera: str) -> Path:
    """The first folder of ``profile_dirs`` that exists; a ``SeeispError`` naming them all when none does."""
    dirs = profile_dirs()
    found = next((d for d in dirs if d.is_dir()), None)
    if found is None and camera != VIRTUAL_SENSOR.name:
        raise SeeispError(
            f"no folder of noise profiles for camera {camera!r} (tried {' and '.join(map(str, dirs))}); "
            f"give one with --profiles DIR, or use --camera {VIRTUAL_SENSOR.name}"
        )
    return found or dirs[0]


def _timed(fn: Callable[[], np.ndarray]) -> tuple[np.ndarray, float]:
    started = time.perf_counter()
    image = fn()
    return image, time.perf_counter() - started


def run_case(pair: Pair, sessions: Sequence[ModelSession], *, passes: int = 1) -> dict:
    """Every method on one pair: scores, seconds, and the auto ratio (with the first model).

    ``passes`` over 1 adds each model's self-ensemble of that many passes, labelled as the model plus its
    ``ensemble_suffix``.
    """
    methods: dict[str, dict[str, float]] = {}
    for method, denoise in ((NAIVE, False), (LIBRAW_NR, True)):
        image, seconds = _timed(lambda d=denoise: libraw_render(pair.dark, pair.ratio, denoise=d))
        methods[method] = {**score(image, pair), "seconds": seconds}
    for session in sessions:
        result = enhance_file(pair.dark, model=session, ratio=pair.ratio)
        label = f"seeisp {session.name}"
        if label in methods:  # two files carrying the same model name
            label = f"seeisp {session.path.name}"
        methods[label] = {**score(result.image, pair), "seconds": result.seconds}
        if check_passes(passes) > 1:
            best = enhance_file(pair.dark, model=session, ratio=pair.ratio, passes=passes)
            methods[label + ensemble_suffix(passes)] = {**score(best.image, pair), "seconds": best.seconds}
    if sessions:
        auto = enhance_file(pair.dark, model=sessions[0], ratio=None)
        methods[f"seeisp {sessions[0].name} (auto ratio)"] = {**score(auto.image, pair), "seconds": auto.seconds}
        estimated = auto.ratio
    else:
        raw = read_raw(pair.dark)
        estimated = estimate_ratio(raw.mosaic, raw.cfa, raw.white_balance)
    return {"ratio": pair.ratio, "cfa": pair.cfa, "estimated_ratio": estimated, "methods": methods}


def simulated_pairs(
    images: Sequence[str | os.PathLike[str]],
    profile: SensorProfile,
    ratios: Sequence[float],
    folder: str | os.PathLike[str],
    seed: int = 0,
    cfa: str = "bayer",
) -> Iterator[tuple[str, NoiseParams, Pair]]:
    """The benchmark's shots, picture by picture and ratio by ratio: (picture name, its noise, the pair).

    Each picture gets a seeded random camera and the next phase of its ``cfa`` kind ("bayer": the four CFA
    phases; "xtrans": the 36 phases of the X-Trans cell); each (picture, ratio)
    its own seeded gain and noise, so any subset of ratios or pictures gives the same shots. The
    DNGs are written to ``folder``; ``Pair.remove`` deletes them. A picture that cannot be read or is
    smaller than ``MIN_SIDE`` raises ``PictureReadError`` or ``SeeispError`` naming it (``check_images``
    finds them all before any work).
    """
    for i, path in enumerate(images):
        image = load_srgb(Path(path))
        _check_size(Path(path), image.shape)
        srgb = to_unit(image)
        camera = random_camera(np.random.default_rng([seed, i]))
        phases = CFA_KINDS[cfa]
        pattern = phases[i % len(phases)]
        for ratio in ratios:
            rng = np.random.default_rng([seed, i, round(ratio * 1000)])
            noise = profile.sample(rng)
            pair = make_pair(srgb, ratio, camera, noise, rng, folder, cfa=pattern, name=f"{i:03d}")
            yield Path(path).name, noise, pair


def run_benchmark(
    images: Sequence[str | os.PathLike[str]],
    profile: SensorProfile,
    ratios: Sequence[float],
    sessions: Sequence[ModelSession] = (),
    seed: int = 0,
    progress: CaseProgress | None = None,
    passes: int = 1,
    cfa: str = "bayer",
) -> dict:
    """Score every method on every (picture, ratio); returns the cases and their summary (JSON-ready).

    ``passes`` over 1 also scores each model's self-ensemble of that many passes (``run_case``); ``cfa``: "bayer"
    or "xtrans" raws (``simulated_pairs``).
    """
    if cfa not in CFA_KINDS:
        raise SeeispError(f"the benchmark's CFA is one of {', '.join(CFA_KINDS)}, not {cfa!r}")
    cases: list[dict] = []
    total = len(images) * len(ratios)
    with tempfile.TemporaryDirectory(prefix="seeisp-bench-") as folder:
        for name, noise, pair in simulated_pairs(images, profile, ratios, folder, seed, cfa):
            try:
                case = run_case(pair, sessions, passes=passes)
            finally:
                pair.remove()
            cases.append({"image": name, "gain_k": noise.k, **case})
            if progress:
                progress(len(cases), total)
    return {
        "camera": profile.name,
        "cfa": cfa,
        "images": len(images),
        "ratios": [float(r) for r in ratios],
        "seed": seed,
        "models": [s.name for s in sessions],
        "passes": passes,
        "cases": cases,
        "summary": summarise(cases),
    }


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def noisiest_cases(cases: Sequence[dict]) -> list[dict]:
    """The tenth of ``cases`` (at least one) with the highest ratio x gain (DN per photo-electron): the fewest
    electrons at white, so the most noise for the network to take off."""
    count = -(-len(cases) // 10)
    return sorted(cases, key=lambda case: case["ratio"] * case["gain_k"], reverse=True)[:count]


def summarise(cases: Sequence[dict]) -> dict:
    """Means per ratio group, over all cases and over the noisiest tenth (``noisiest_cases``) per method, the
    gain over LibRaw NR, and the auto ratio's accuracy."""
    groups: dict[str, list[dict]] = {}
    for case in cases:
        groups.setdefault(f"{case['ratio']:g}", []).append(case)
    groups["all"] = list(cases)
    groups[NOISIEST] = noisiest_cases(cases)
    summary: dict[str, dict] = {}
    for group, members in groups.items():
        methods = list(dict.fromkeys(m for c in members for m in c["methods"]))
        stats = {
            method: {
                key: _mean([c["methods"][method][key] for c in members if method in c["methods"]])
                for key in ("psnr", "ssim", "psnr_sid", "ssim_sid", "seconds")
            }
            for method in methods
        }
        for values in stats.values():
            values["gain_over_libraw_nr"] = values["psnr"] - stats[LIBRAW_NR]["psnr"]
        summary[group] = stats
    return {"groups": summary, "auto_ratio": auto_ratio_errors(cases)}


def auto_ratio_errors(cases: Sequence[dict]) -> dict:
    """How far the auto ratio is from the true one, in stops (|log2(auto / true)|): the median, and the share
    within each of ``AUTO_RATIO_STOPS``."""
    stops = np.abs(np.log2([c["estimated_ratio"] / c["ratio"] for c in cases])) if cases else np.array([])
    errors = {"cases": len(cases), "median_stops_off": float(np.median(stops)) if len(stops) else float("nan")}
    for limit in AUTO_RATIO_STOPS:
        errors[f"within_{limit:.2f}_stop"] = float(np.mean(stops <= limit + 1e-9)) if len(stops) else float("nan")
    return errors


def _stops(limit: float) -> str:
    return {1 / 3: "1/3", 2 / 3: "2/3"}.get(limit, f"{limit:.2f}")


def to_markdown(results: dict) -> str:
    """The summary as a markdown table plus a line on the auto ratio."""
    summary = results["summary"]
    kind = " X-Trans raws," if results.get("cfa") == "xtrans" else ""
    lines = [
        f"### {results['camera']} noise,{kind} {results['images']} pictures, ratios "
        f"{', '.join(f'{r:g}' for r in results['ratios'])}, seed {results['seed']}",
        "",
        "PSNR/SSIM against the clean camera RGB rendered with the raw's metadata; "
        "'SID ref' = against LibRaw's render of the clean raw.",
        "",
        "| ratio | method | PSNR (dB) | SSIM | vs LibRaw NR (dB) | PSNR, SID ref | SSIM, SID ref | s/image |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for group, stats in summary["groups"].items():
        for method, v in stats.items():
            lines.append(
                f"| {group} | {method} | {v['psnr']:.2f} | {v['ssim']:.3f} | {v['gain_over_libraw_nr']:+.2f} "
                f"| {v['psnr_sid']:.2f} | {v['ssim_sid']:.3f} | {v['seconds']:.2f} |"
            )
    auto = summary["auto_ratio"]
    within = ", ".join(
        f"{auto[f'within_{limit:.2f}_stop']:.0%} within {_stops(limit)} stop" for limit in AUTO_RATIO_STOPS
    )
    line = f"\nAuto ratio against the true ratio: median {auto['median_stops_off']:.2f} stops off, {within}."
    if results["models"]:
        model = f"seeisp {results['models'][0]}"
        everything = summary["groups"]["all"]
        line += (
            f" {model}: {everything[f'{model} (auto ratio)']['psnr']:.2f} dB with the auto ratio, "
            f"{everything[model]['psnr']:.2f} dB with the true ratio"
        )
        passes = results.get("passes", 1)
        best = everything.get(model + ensemble_suffix(passes)) if passes > 1 else None
        line += f", {best['psnr']:.2f} dB as {model}{ensemble_suffix(passes)} ({passes} passes)." if best else "."
    lines.append(line)
    return "\n".join(lines) + "\n"
