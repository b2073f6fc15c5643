"""The SID U-Net (Chen et al. 2018), with a width knob for the lite variant.

Input: packed RGGB raw (N, 4, h, w), black-subtracted, normalised, amplified and clipped.
Output: linear camera RGB (N, 3, 2h, 2w), denoised and demosaicked, not white balanced.

One addition to SID: a fixed input skip. The packed input, read as nearest-neighbour RGB
(R, mean of the two greens, B), is added to the head's 12 channels before the pixel shuffle,
so the network starts from the naive picture and learns only the correction.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class UNetConfig:
    width: int = 32  # channels of the first level; each level below doubles it (32-64-128-256-512)
    depth: int = 5  # levels, including the bottleneck
    in_channels: int = 4
    out_channels: int = 3
    input_skip: bool = True
    # Residual 3x3 convolutions after the two of each level, zero-initialised: a network grown from a
    # trained one (``seeisp train init_from=...``) starts out computing exactly what that one did.
    extra_convs: int = 0

    @property
    def pad_multiple(self) -> int:
        """Packed height and width must be multiples of this (one halving per pooled level)."""
        return 2 ** (self.depth - 1)

    def to_dict(self) -> dict:
        return asdict(self)


class ResidualConv(nn.Module):
    """x + LeakyReLU(conv(x)), the convolution starting at zero so that the block starts as the identity."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)
        nn.init.zeros_(self.conv.weight)
        nn.init.zeros_(self.conv.bias)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.act(self.conv(x))


def _level(cin: int, cout: int, extra_convs: int = 0) -> nn.Sequential:
    """SID's two 3x3 convolutions of one level (state-dict names ``N.0``, ``N.2``), then any residual ones."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(cout, cout, 3, padding=1),
        nn.LeakyReLU(0.2),
        *(ResidualConv(cout) for _ in range(extra_convs)),
    )


class SIDUNet(nn.Module):
    def __init__(self, config: UNetConfig = UNetConfig()) -> None:
        super().__init__()
        self.config = config
        widths = [config.width * 2**i for i in range(config.depth)]
        self.down = nn.ModuleList()
        cin = config.in_channels
        for w in widths:
            self.down.append(_level(cin, w, config.extra_convs))
            cin = w
        self.pool = nn.MaxPool2d(2)
        self.upsample = nn.ModuleList()
        self.up = nn.ModuleList()
        for w in reversed(widths[:-1]):
            self.upsample.append(nn.ConvTranspose2d(w * 2, w, 2, stride=2))
            self.up.append(_level(w * 2, w, config.extra_convs))
        self.head = nn.Conv2d(widths[0], config.out_channels * 4, 1)
        self.shuffle = nn.PixelShuffle(2)
        if config.input_skip:
            self.register_buffer("skip", _nearest_rgb_weights(), persistent=False)

    @property
    def pad_multiple(self) -> int:
        return self.config.pad_multiple

    def forward(self, inp: torch.Tensor) -> torch.Tensor:
        x, skips = inp, []
        for i, block in enumerate(self.down):
            if i:
                x = self.pool(x)
            x = block(x)
            skips.append(x)
        skips.pop()
        for upsample, block in zip(self.upsample, self.up, strict=True):
            x = block(torch.cat([upsample(x), skips.pop()], dim=1))
        out = self.head(x)
        if self.config.input_skip:  # the raw's four planes; any further input plane (a noise level) is no picture
            raw = inp if self.config.in_channels == 4 else inp[:, :4]
            out = out + nn.functional.conv2d(raw, self.skip)
        return self.shuffle(out)


def _nearest_rgb_weights() -> torch.Tensor:
    """1x1 conv weights (12, 4, 1, 1): packed R, G1, G2, B -> RGB at each of the 4 shuffled positions."""
    weights = torch.zeros(12, 4, 1, 1)
    for position in range(4):  # PixelShuffle reads channel c * 4 + position as colour c
        weights[0 * 4 + position, 0] = 1.0
        weights[1 * 4 + position, 1:3] = 0.5
        weights[2 * 4 + position, 3] = 1.0
    return weights


def count_flops(config: UNetConfig, packed_h: int, packed_w: int) -> int:
    """Multiply-accumulates x2 of one forward pass on a (packed_h, packed_w) input."""
    model = SIDUNet(config)
    flops = 0
    h, w = packed_h, packed_w
    hooks = []

    def hook(module: nn.Module, _inp: tuple, out: torch.Tensor) -> None:
        nonlocal flops
        if isinstance(module, nn.Conv2d | nn.ConvTranspose2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            cin = module.in_channels // module.groups
            if isinstance(module, nn.ConvTranspose2d):
                flops += 2 * k * module.in_channels * module.out_channels * _inp[0].shape[2] * _inp[0].shape[3]
            else:
                flops += 2 * k * cin * out.shape[1] * out.shape[2] * out.shape[3]

    for m in model.modules():
        hooks.append(m.register_forward_hook(hook))
    with torch.no_grad():
        model(torch.zeros(1, config.in_channels, h, w))
    for hk in hooks:
        hk.remove()
    return flops


def flops_per_packed_pixel(config: UNetConfig) -> float:
    """FLOPs of one forward pass per packed input pixel: exact, since every layer scales with the area."""
    return count_flops(config, 64, 64) / (64 * 64)
