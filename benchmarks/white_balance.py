"""How well ``--white-balance auto`` finds the light: angular error of the estimated white balance, in degrees.

    python benchmarks/white_balance.py --model full --camera SonyA7S2 --ratios 1 100 300

The same simulated shots as ``seeisp benchmark`` (``seeisp.eval.benchmark.simulated_pairs``): each picture
is unprocessed with a random camera and a random as-shot white balance, which is the truth here.
For every shot it estimates the balance from two pictures, the noisy raw as the network sees it
(packed, amplified, read as RGB at half resolution) and the network's denoised output, with two
estimators: grey world (the mean colour is grey; LibRaw's auto white balance) and grey edge
(``seeisp.white_balance.grey_edge``, what ``--white-balance auto`` uses). The error is the angle between the
estimated and the true colour of the light in camera RGB; 1-3 degrees is hard to see, 10 is a cast.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from seeisp.enhance import enhance_raw, network_input
from seeisp.eval.benchmark import simulated_pairs
from seeisp.raw import RawImage, read_raw
from seeisp.session import ModelSession
from seeisp.sim.noise import resolve_profile
from seeisp.white_balance import CLIPPED, grey_edge

from options import run, shot_images, shot_options

NO_GAINS = np.ones(3, np.float32)


def grey_world(camera_rgb: np.ndarray) -> np.ndarray:
    pixels = camera_rgb.reshape(-1, 3)
    light = pixels[pixels.max(axis=1) < CLIPPED].astype(np.float64).mean(axis=0)
    return (light[1] / light).astype(np.float32)


def angle(gains: np.ndarray, truth: np.ndarray) -> float:
    """Degrees between the lights the two sets of gains correct for (a light's colour is 1 / gains)."""
    a, b = 1 / np.asarray(gains, np.float64), 1 / np.asarray(truth, np.float64)
    cosine = a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0))))


def noisy_rgb(raw: RawImage, ratio: float) -> np.ndarray:
    """The network's input read as RGB: R, mean of the greens, B, at half resolution."""
    packed = network_input(raw, ratio)
    return np.stack([packed[0], (packed[1] + packed[2]) / 2, packed[3]], axis=-1)


def main(argv: list[str] | None = None) -> int:
    parser = shot_options(__doc__.splitlines()[0], ratios=[1, 100, 300], limit=None)
    args = parser.parse_args(argv)

    profile = resolve_profile(args.camera, args.profiles)
    images = shot_images(args.images, args.limit)
    session = ModelSession.from_name(args.model)
    errors: dict[tuple[float, str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="seeisp-wb-") as folder:
        for _, _, pair in simulated_pairs(images, profile, args.ratios, folder):
            raw = read_raw(pair.dark)
            truth = raw.white_balance  # the as-shot balance the shot was made with
            pictures = {
                "noisy raw": noisy_rgb(raw, pair.ratio),
                f"denoised ({session.name})": enhance_raw(raw, model=session, ratio=pair.ratio).camera_rgb,
            }
            for source, picture in pictures.items():
                for method, gains in (("grey world", grey_world(picture)), ("grey edge", grey_edge(picture, NO_GAINS))):
                    errors.setdefault((pair.ratio, source, method), []).append(angle(gains, truth))
            pair.remove()

    print(f"### White balance error: {args.camera}, {len(images)} pictures of {Path(args.images).name}\n")
    print("Degrees between the estimated and the true light: median / mean / worst.\n")
    print("| ratio | estimated from | grey world | grey edge (`--white-balance auto`) |")
    print("|---|---|---|---|")
    for ratio in args.ratios:
        for source in pictures:
            cells = []
            for method in ("grey world", "grey edge"):
                values = errors[(ratio, source, method)]
                cells.append(f"{np.median(values):.1f} / {np.mean(values):.1f} / {np.max(values):.1f}")
            print(f"| {ratio:g} | {source} | {' | '.join(cells)} |")
    return 0


if __name__ == "__main__":
    run(main)
