"""The settings of a training run: ``TrainConfig``, read from a TOML file plus ``KEY=VALUE`` overrides.

    config = TrainConfig.load("configs/lite.toml", ["steps=2000", "train_dirs=/data/pictures"])

Every value is checked against its field's type and range when the config is made, so a mistake is one
``ConfigError`` naming the key (and the file, when the value is the file's) before any picture is read or any file
written. Checkpoints carry the config they were trained with (``dataclasses.asdict``).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path

from .model import UNetConfig


class ConfigError(ValueError):
    """A setting no run can use, in one line; ``key`` names it (None for a rule between settings)."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


@dataclass
class TrainConfig:
    name: str = "lite"
    width: int = 16  # channels of the first U-Net level
    extra_convs: int = 0  # residual convolutions per level (UNetConfig); init_from may have fewer (grown)
    train_dirs: list[str] = field(default_factory=lambda: ["../shared/data/clean/train"])
    val_dir: str = "../shared/data/clean/val/kodak24"
    profiles_dir: str = "../shared/data/noise_profiles"
    # Cameras whose noise profiles (each of their ISO ranges) train, and around which virtual sensors are drawn;
    # [] = every profile in profiles_dir. Leaving one out measures a camera the network never saw.
    train_cameras: list[str] = field(default_factory=list)
    out_dir: str = "runs/lite"
    steps: int = 20000
    batch_size: int = 4
    patch: int = 256  # raw pixels, packed 2x2 into the network's input: even
    lr: float = 2e-4
    min_lr: float = 1e-5
    virtual_share: float = 0.3  # share of samples with a virtual camera and sensor
    pattern_share: float = 0.0  # share of procedural pictures (bars, text, dead leaves) among the photographs
    val_every: int = 500
    val_images: int = 8
    val_ratios: list[float] = field(default_factory=lambda: [100.0, 250.0, 300.0])
    val_crop: int = 512
    val_cameras: list[str] = field(default_factory=lambda: ["SonyA7S2"])  # noise profiles of the validation crops
    checkpoint_every: int = 250
    seed: int = 0
    threads: int = 0  # torch CPU threads; 0 = torch's default
    workers: int = 0  # processes making training batches; 0 = make them in the training loop
    amp: bool = True  # bfloat16 autocast for the network on a GPU (ignored on the CPU)
    max_minutes: float = 0.0  # stop with a checkpoint after this much wall time; 0 = no limit
    init_from: str = ""  # start from these weights: a checkpoint (.pt) or an fp32 model (.onnx); not when resuming
    onnx_out: str = ""  # where the best model is exported, e.g. weights/seeisp-lite.onnx
    sid_root: str = ""  # SID dataset root (holding Sony/short, Sony/long): mix in real pairs; "" = synthetic only
    sid_list: str = "../shared/data/sid_lists/Sony_train_list.txt"
    sid_share: float = 0.5  # share of training samples drawn from the SID pairs when sid_root is set
    sid_cache: str = ""  # folder for decoded SID frames (.npy); "" = decode every time
    noise_on_device: bool = False  # workers make clean crops; the noise is drawn on the training device (torch)
    ema: float = 0.0  # decay of an exponential moving average of the weights, validated and exported; 0 = off
    context_border: int = 0  # packed pixels mirrored around each crop, as inference does (CONTEXT_BORDER)
    # A fifth input plane: the expected noise std of every packed pixel (seeisp.training.noise_input). A 4-plane
    # init_from grows it at zero weight, so the run starts as exactly the network it loads.
    noise_plane: bool = False

    def __post_init__(self) -> None:
        for key, kind in field_types().items():
            setattr(self, key, checked_type(key, getattr(self, key), kind))
        check_ranges(self)

    @property
    def model_config(self) -> UNetConfig:
        in_channels = 5 if self.noise_plane else 4
        return UNetConfig(width=self.width, extra_convs=self.extra_convs, in_channels=in_channels)

    @classmethod
    def load(cls, path: str | None, overrides: list[str]) -> TrainConfig:
        """The config of a TOML file (or the defaults) with ``KEY=VALUE`` overrides, each checked against its field.

        Every mistake is a ``ConfigError`` with a one-line message naming the key, and the file if the value is its.
        """
        from_file = read_toml(path) if path else {}
        for key in from_file:
            if key not in field_types():
                raise ConfigError(f"{path}: {unknown_key(key)}", key)
        changes = {}
        for item in overrides:
            key, equals, text = item.partition("=")
            key = key.strip()
            if not equals:
                raise ConfigError(f"{item!r} is not KEY=VALUE (e.g. steps=2000)")
            if key not in field_types():
                raise ConfigError(unknown_key(key), key)
            changes[key] = parse_override(key, text, field_types()[key])
        try:
            return cls(**{**from_file, **changes})
        except ConfigError as exc:
            if exc.key in from_file and exc.key not in changes:
                raise ConfigError(f"{path}: {exc}", exc.key) from None
            raise


@functools.cache
def field_types() -> dict[str, object]:
    """Each field of ``TrainConfig`` -> its type (``int``, ``list[str]``, ...)."""
    hints = typing.get_type_hints(TrainConfig)
    return {f.name: hints[f.name] for f in dataclasses.fields(TrainConfig)}


def unknown_key(key: str) -> str:
    return f"unknown config key {key!r}; known: {', '.join(field_types())}"


def read_toml(path: str) -> dict:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror or exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


_EXPECTED = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def checked_type(key: str, value: object, kind: object) -> object:
    """``value`` as a ``kind``, or a ``ConfigError``. A config file needs a few conversions: 2e4 is an integer,
    3 a number, "true" and "false" booleans, and a single value for a list field a one-element list."""
    if typing.get_origin(kind) is list:
        (item,) = typing.get_args(kind)
        values = list(value) if isinstance(value, list | tuple) else [value]
        try:
            return [checked_type(key, one, item) for one in values]
        except ConfigError:
            what = f"a list of {'strings' if item is str else 'numbers'} (or a single one)"
            raise ConfigError(f"{key}: expected {what}, not {value!r}", key) from None
    if kind is bool and isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if kind is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    wrong_number = kind is float and isinstance(value, float) and not math.isfinite(value)
    if type(value) is not kind or wrong_number:  # type(): True is no integer
        raise ConfigError(f"{key}: expected {_EXPECTED[kind]}, not {value!r}", key)  # type: ignore[index]
    return value


# The least value of each number that has one.
_AT_LEAST = {
    "width": 1,
    "extra_convs": 0,
    "steps": 1,
    "batch_size": 1,
    "min_lr": 0,
    "val_every": 1,
    "val_images": 0,
    "checkpoint_every": 1,
    "seed": 0,
    "threads": 0,
    "workers": 0,
    "max_minutes": 0,
    "context_border": 0,
}


def check_ranges(config: TrainConfig) -> None:
    """A ``ConfigError`` for the first value out of its range, or for settings that do not go together."""
    for key, least in _AT_LEAST.items():
        if getattr(config, key) < least:
            raise ConfigError(f"{key} must be >= {least}, not {getattr(config, key)}", key)
    if config.lr <= 0:
        raise ConfigError(f"lr must be > 0, not {config.lr}", "lr")
    for key in ("patch", "val_crop"):
        if getattr(config, key) < 2 or getattr(config, key) % 2:
            raise ConfigError(f"{key} must be a positive even number of raw pixels, not {getattr(config, key)}", key)
    for key in ("virtual_share", "pattern_share", "sid_share"):
        if not 0.0 <= getattr(config, key) <= 1.0:
            raise ConfigError(f"{key} must be in [0, 1], not {getattr(config, key)}", key)
    if any(ratio <= 0 for ratio in config.val_ratios):
        raise ConfigError(f"val_ratios must all be > 0, not {min(config.val_ratios)}", "val_ratios")
    if not 0.0 <= config.ema < 1.0:
        raise ConfigError(f"ema must be in [0, 1) (a decay such as 0.999; 0 = off), not {config.ema}", "ema")
    packed, border, multiple = config.patch // 2, config.context_border, config.model_config.pad_multiple
    if border >= packed:  # mirroring needs more pixels than it copies
        raise ConfigError(
            f"context_border must be smaller than the {packed}-pixel packed crop, not {border}", "context_border"
        )
    if (packed + 2 * border) % multiple:
        raise ConfigError(
            f"context_border must be >= 0 and bring the {packed}-pixel packed crop to a multiple of {multiple}, "
            f"not {border}",
            "context_border",
        )
    if config.noise_on_device and config.sid_root:
        raise ConfigError(
            "noise_on_device=true does not mix with sid_root: the SID pairs are already noisy; use one or the other"
        )
    if config.noise_plane and config.sid_root:
        raise ConfigError(
            "noise_plane=true does not mix with sid_root: the noise of the SID pairs is not drawn, so it is not known",
            "noise_plane",
        )


def parse_override(key: str, text: str, kind: object) -> object:
    """The value of ``KEY=text`` for a field of type ``kind``: a TOML value (number, bool, list, quoted string),
    or the text itself where the field takes strings (``out_dir=runs/x``, ``train_dirs=/data/pictures``)."""
    is_list = typing.get_origin(kind) is list
    takes_text = kind is str or (is_list and typing.get_args(kind)[0] is str)
    if not text.strip():
        return [] if is_list else text  # "val_cameras=" empties a list
    try:
        parsed = tomllib.loads(f"v = {text}")
    except tomllib.TOMLDecodeError:
        if is_list and text.lstrip().startswith("["):
            raise ConfigError(f'{key}: {text!r} is not a TOML list such as ["a", "b"] or [1, 2]', key) from None
        return text
    value = parsed.get("v") if set(parsed) == {"v"} else text
    if takes_text and not isinstance(value, str | list):
        return text  # name=2024 is the name "2024"
    return value
