"""seeisp benchmark: PSNR/SSIM of seeisp and LibRaw on simulated low-light pairs (see seeisp.benchmark)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction, name: str, help_text: str) -> None:
    p = sub.add_parser(
        name,
        help=help_text,
        description=f"{help_text}. Each clean picture is turned into a simulated dark raw (DNG) at each ratio.",
    )
    p.add_argument("--images", required=True, help="folder of clean pictures (PNG, JPEG, TIFF, BMP, WebP), e.g. kodak")
    p.add_argument("--camera", default="SonyA7S2", help="noise profile name, or 'virtual' (default: SonyA7S2)")
    p.add_argument("--ratios", type=float, nargs="+", default=[100.0, 250.0, 300.0], help="amplification ratios")
    p.add_argument(
        "--models", nargs="*", help="models to score (default: every model in weights/; none given: LibRaw only)"
    )
    p.add_argument("--profiles", default="../shared/data/noise_profiles", help="folder of ELD noise profiles")
    p.add_argument("--limit", type=int, help="use only the first N pictures")
    p.add_argument("--json", type=Path, help="also write every score to this JSON file")
    p.add_argument("--force", action="store_true", help="replace the --json file if it exists")
    p.add_argument("--seed", type=int, default=0, help="seed of cameras, gains and noise (default: 0)")
    p.add_argument(
        "--ensemble",
        action="store_true",
        help="also score each model's self-ensemble as 'seeisp NAME x8' (8 passes, about 8x slower, about +0.5 dB)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..benchmark import find_images, run_benchmark, to_markdown
    from ..errors import OutputError, SeeispError
    from ..models import available_models
    from ..noise import resolve_profile
    from ..ratio import parse_ratio
    from ..session import ModelSession

    for ratio in args.ratios:
        parse_ratio(ratio)
    if args.limit is not None and args.limit < 1:
        raise SeeispError("--limit must be at least 1")
    if args.json and args.json.is_dir():
        raise OutputError(f"{args.json}: is a folder; give a file name for --json")
    if args.json and args.json.exists() and not args.force:
        raise OutputError(f"{args.json}: already exists; use --force to replace it")
    if args.json and not args.json.parent.is_dir():
        raise OutputError(f"{args.json}: folder {args.json.parent} does not exist")
    profile = resolve_profile(args.camera, args.profiles)
    images = find_images(args.images, args.limit)
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
            ensemble=args.ensemble,
        )
    results["images_dir"] = str(args.images)
    print(to_markdown(results))
    if args.json:
        tmp = args.json.with_name(args.json.name + ".tmp")
        try:
            tmp.write_text(json.dumps(results, indent=1))
            os.replace(tmp, args.json)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise OutputError(f"{args.json}: cannot write ({exc.strerror})") from None
        print(f"scores written to {args.json}", file=sys.stderr)
    return 0
