"""seeisp benchmark: PSNR/SSIM of seeisp and LibRaw on simulated low-light pairs (see seeisp.eval.benchmark)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .argtypes import add_passes_option


def register(sub: argparse._SubParsersAction, name: str, help_text: str) -> None:
    p = sub.add_parser(
        name,
        help=help_text,
        description=f"{help_text}. Each clean picture is turned into a simulated dark raw (DNG) at each ratio.",
    )
    p.add_argument("--images", required=True, help="folder of clean pictures (PNG, JPEG, TIFF, BMP, WebP), e.g. kodak")
    p.add_argument("--camera", default="SonyA7S2", help="noise profile name, or 'virtual' (default: SonyA7S2)")
    p.add_argument(
        "--ratios", type=float, nargs="+", default=[100.0, 250.0, 300.0], help="amplification ratios, 1 to 300"
    )
    p.add_argument(
        "--models", nargs="*", help="models to score (default: every model in weights/; none given: LibRaw only)"
    )
    p.add_argument(
        "--profiles",
        type=Path,
        help="folder of ELD noise profiles (default: shared/data/noise_profiles beside the seeisp checkout, "
        "else ../shared/data/noise_profiles from the current folder)",
    )
    p.add_argument("--limit", type=int, help="use only the first N pictures")
    p.add_argument(
        "--cfa",
        choices=("bayer", "xtrans"),
        default="bayer",
        help="simulate Bayer raws (default) or Fujifilm X-Trans raws (6x6 colour filter)",
    )
    p.add_argument("--json", type=Path, help="also write every score to this JSON file")
    p.add_argument("--force", action="store_true", help="replace the --json file if it exists")
    p.add_argument("--seed", type=int, default=0, help="seed of cameras, gains and noise (default: 0)")
    add_passes_option(
        p,
        "also score each model averaged over N passes (2, 4 or 8; the same as seeisp enhance --passes), "
        "as 'seeisp NAME xN' (default: 1, single pass only)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import SeeispError
    from ..ratio import parse_ratio

    for ratio in args.ratios:
        parse_ratio(ratio, allow_auto=False)
    _check_skimage()
    if args.json:  # now, not after the whole run
        from ..writable import check_writable

        check_writable(args.json, overwrite=args.force, replace_with="--force")

    from tqdm import tqdm

    from ..errors import OutputError
    from ..eval.benchmark import check_images, default_profiles_dir, find_images, run_benchmark, to_markdown
    from ..models import available_models
    from ..session import ModelSession
    from ..sim.noise import VIRTUAL_SENSOR, resolve_profile

    profiles = args.profiles
    if profiles is None:
        profiles = default_profiles_dir(args.camera)
    elif args.camera != VIRTUAL_SENSOR.name and not profiles.is_dir():
        raise SeeispError(
            f"{profiles}: no such folder of noise profiles; give another with --profiles DIR, "
            f"or use --camera {VIRTUAL_SENSOR.name}"
        )
    profile = resolve_profile(args.camera, profiles)
    images = find_images(args.images, args.limit)
    if args.json and args.json.exists() and any(args.json.samefile(image) for image in images):
        raise OutputError(f"{args.json}: is one of the pictures; give another file for --json")
    check_images(images)
    names = args.models if args.models is not None else available_models()
    sessions = [ModelSession.from_name(name) for name in names]
    if not sessions:
        print("seeisp: no seeisp model to score; scoring LibRaw only", file=sys.stderr)

    with tqdm(total=len(images) * len(args.ratios), desc="benchmark", unit="case", file=sys.stderr) as bar:
        results = run_benchmark(
            images,
            profile,
            args.ratios,
            sessions,
            seed=args.seed,
            progress=lambda done, _total: bar.update(1),
            passes=args.passes,
            cfa=args.cfa,
        )
    results["images_dir"] = str(args.images)
    print(to_markdown(results))
    if args.json:
        from ..writable import staged_file

        try:
            with staged_file(args.json) as tmp, open(tmp, "w") as stream:
                stream.write(json.dumps(results, indent=1))
        except OSError as exc:
            raise OutputError(f"{args.json}: cannot write ({exc.strerror})") from None
        print(f"scores written to {args.json}", file=sys.stderr)
    return 0


def _check_skimage() -> None:
    """SSIM needs scikit-image: say how to get it before any work, not after the first picture."""
    from ..errors import SeeispError

    try:
        import skimage.metrics  # noqa: F401
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] != "skimage":
            raise
        raise SeeispError("'benchmark' needs scikit-image (for SSIM): pip install 'seeisp[bench]'") from None
