"""Model-only speed of the seeisp networks on a CUDA GPU with torch (fp32, TF32 and bfloat16).

    python benchmarks/gpu.py > gpu.md

Prints a markdown table: seconds per whole frame (median of 5 after 2 warm-ups), megapixels per
second and achieved TFLOP/s, for the full and lite widths at 12 MP (4256x2848) and 24 MP
(6048x4024). Speed does not depend on the weights, so randomly initialised networks stand in.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import TYPE_CHECKING

from options import ArgumentParser, run

if TYPE_CHECKING:
    import torch

FRAMES = {"12 MP": (2848, 4256), "24 MP": (4024, 6048)}  # raw height, width
WIDTHS = {"full": 32, "lite": 16}
MODES = ("fp32", "tf32", "bf16")


def time_frame(model: torch.nn.Module, x: torch.Tensor, mode: str) -> float:
    import torch

    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = mode == "tf32"
    times = []
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=mode == "bf16"):
        for i in range(7):
            torch.cuda.synchronize()
            start = time.perf_counter()
            model(x)
            torch.cuda.synchronize()
            if i >= 2:
                times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    paragraphs = __doc__.split("\n\n", 2)
    parser = ArgumentParser(
        description=paragraphs[0], epilog=paragraphs[2], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.parse_args(argv)
    try:
        import torch

        from seeisp.training.model import SIDUNet, UNetConfig, flops_per_packed_pixel
    except ModuleNotFoundError as exc:
        parser.exit(2, f"{parser.prog}: error: needs {exc.name}: pip install 'seeisp[train]' (torch with CUDA)\n")
    if not torch.cuda.is_available():
        parser.exit(2, f"{parser.prog}: error: no CUDA GPU that torch {torch.__version__} can use\n")
    torch.backends.cudnn.benchmark = True
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}, channels-last, whole frames\n")
    print("| model | frame | precision | seconds | MP/s | TFLOP/s |")
    print("|---|---|---|---:|---:|---:|")
    for name, width in WIDTHS.items():
        model = SIDUNet(UNetConfig(width=width)).cuda().eval().to(memory_format=torch.channels_last)
        per_pixel = flops_per_packed_pixel(UNetConfig(width=width))
        for frame, (h, w) in FRAMES.items():
            ph, pw = -(-h // 32) * 16, -(-w // 32) * 16  # packed, padded to the network's multiple of 16
            x = torch.rand(1, 4, ph, pw, device="cuda").contiguous(memory_format=torch.channels_last)
            for mode in MODES:
                seconds = time_frame(model, x, mode)
                print(
                    f"| {name} | {frame} | {mode} | {seconds:.3f} | {h * w / 1e6 / seconds:.0f} "
                    f"| {per_pixel * ph * pw / seconds / 1e12:.1f} |"
                )
    return 0


if __name__ == "__main__":
    run(main)
