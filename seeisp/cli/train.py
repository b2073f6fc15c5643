"""seeisp train: train a model from a config file plus key=value overrides."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def register(sub: argparse._SubParsersAction, name: str, help_text: str) -> None:
    p = sub.add_parser(name, help=help_text, description=help_text)
    p.add_argument("--config", help="TOML file with TrainConfig fields (see configs/)")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="override config fields, e.g. steps=2000")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import SeeispError, one_line
    from ..training.config import TrainConfig
    from ..training.train import train

    try:  # every setting is checked here, before any picture is read or any file written
        config = TrainConfig.load(args.config, args.overrides)
    except (ValueError, OSError) as exc:
        raise SeeispError(str(exc)) from None
    if config.init_from and not Path(config.init_from).is_file():
        raise SeeispError(f"init_from: {config.init_from}: no such file")
    try:
        result = train(config)
    except (ValueError, SeeispError) as exc:  # unusable weights or data, found once training starts
        raise SeeispError(one_line(exc)) from None
    if int(os.environ.get("RANK", "0")):  # under torchrun only rank 0 validates, saves and reports
        return 0
    if result.best is None and result.stopped_early:  # max_minutes came before the first validation
        print(f"stopped before the first validation; run the same command again to resume from {result.last}")
        return 0
    if result.best is None:  # validation never scored (no pictures of at least val_crop px in val_dir, or NaN)
        raise SeeispError(
            f"no best checkpoint was written: validation gave no score (pictures of at least {config.val_crop} px "
            f"in val_dir {config.val_dir}?); the last checkpoint is {result.last}"
        )
    print(f"best checkpoint: {result.best}")
    return 0
