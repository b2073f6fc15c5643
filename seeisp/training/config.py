"""The settings of a training run: ``TrainConfig``, read from a TOML file plus ``KEY=VALUE`` overrides.

    config = TrainConfig.load("configs/lite.toml", ["steps=2000", "train_dirs=/data/pictures"])

Every value is checked against its field's type and range when the config is made, so a mistake is one
``ValueError`` naming the file or the key, before any picture is read or any file written. Checkpoints carry
the config they were trained with (``dataclasses.asdict``).
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

from .model import UNetConfig

# The losses ``seeisp.training.train.LOSSES`` implements, by name.
LOSS_NAMES = ("tone_l1", "render_l1", "render_l2")


@dataclass
class TrainConfig:
    name: str = "lite"
    width: int = 16
    extra_convs: int = 0  # residual convolutions per level (UNetConfig); init_from may have fewer (grown)
    # Train only the parameters under these names (e.g. ["head"], or the blocks a network was grown by); [] = all.
    train_only: list[str] = field(default_factory=list)
    train_dirs: list[str] = field(default_factory=lambda: ["../shared/data/clean/train"])
    val_dir: str = "../shared/data/clean/val/kodak24"
    profiles_dir: str = "../shared/data/noise_profiles"
    out_dir: str = "runs/lite"
    steps: int = 20000
    batch_size: int = 4
    patch: int = 256
    lr: float = 2e-4
    min_lr: float = 1e-5
    virtual_share: float = 0.3
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
    loss: str = "tone_l1"  # one of LOSS_NAMES (seeisp.training.train.LOSSES)
    ema: float = 0.0  # decay of an exponential moving average of the weights, validated and exported; 0 = off
    teacher: str = ""  # distil: also learn the outputs of this trained model (.pt or fp32 .onnx); "" = off
    teacher_width: int = 32  # the teacher's width (32 = full)
    teacher_weight: float = 1.0  # weight of the loss against the teacher's output, beside the loss against the target
    loss_border: int = 0  # output pixels at each edge of a crop left out of the loss: context only, as at inference
    context_border: int = 0  # packed pixels mirrored around every training crop, as inference does (CONTEXT_BORDER)

    def __post_init__(self) -> None:
        for name, hint in _field_types().items():
            setattr(self, name, _coerce(name, getattr(self, name), hint))
        self._check_ranges()
        if self.loss not in LOSS_NAMES:
            raise ValueError(f"unknown loss {self.loss!r}; known: {', '.join(LOSS_NAMES)}")
        if not 0.0 <= self.ema < 1.0:
            raise ValueError(f"ema must be in [0, 1) (a decay such as 0.999; 0 = off), not {self.ema}")
        if self.teacher_weight < 0:
            raise ValueError(f"teacher_weight must be >= 0, not {self.teacher_weight}")
        if not 0 <= 2 * self.loss_border < self.patch:
            raise ValueError(f"loss_border must leave some of the {self.patch}-pixel patch, not {self.loss_border}")
        if self.extra_convs < 0:
            raise ValueError(f"extra_convs must be >= 0, not {self.extra_convs}")
        multiple = self.model_config.pad_multiple
        if self.context_border < 0 or (self.patch // 2 + 2 * self.context_border) % multiple:
            raise ValueError(
                f"context_border must be >= 0 and bring the {self.patch // 2}-pixel packed crop to a multiple of "
                f"{multiple}, not {self.context_border}"
            )
        if self.noise_on_device and self.sid_root:
            raise ValueError(
                "noise_on_device=true does not mix with sid_root: the SID pairs are already noisy; use one or the other"
            )

    def _check_ranges(self) -> None:
        """Refuse numbers no run can use, naming the key, before anything is loaded or written."""
        at_least = {"width": 1, "teacher_width": 1, "steps": 1, "batch_size": 1, "val_every": 1, "checkpoint_every": 1}
        at_least |= {"val_images": 0, "seed": 0, "threads": 0, "workers": 0, "max_minutes": 0}
        for name, low in at_least.items():
            if getattr(self, name) < low:
                raise ValueError(f"{name} must be >= {low}, not {getattr(self, name)}")
        for name in ("patch", "val_crop"):  # raw pixels, packed 2x2 into the network's input
            if getattr(self, name) < 2 or getattr(self, name) % 2:
                raise ValueError(f"{name} must be a positive even number of raw pixels, not {getattr(self, name)}")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, not {self.lr}")
        if self.min_lr < 0:
            raise ValueError(f"min_lr must be >= 0, not {self.min_lr}")
        for name in ("virtual_share", "pattern_share", "sid_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], not {getattr(self, name)}")
        bad_ratios = [ratio for ratio in self.val_ratios if ratio <= 0]
        if bad_ratios:
            raise ValueError(f"val_ratios must all be > 0, not {bad_ratios[0]}")
        packed, border = self.patch // 2, self.context_border
        if border >= packed:  # mirroring needs more pixels than it copies
            raise ValueError(f"context_border must be smaller than the {packed}-pixel packed crop, not {border}")

    @property
    def model_config(self) -> UNetConfig:
        return UNetConfig(width=self.width, extra_convs=self.extra_convs)

    @classmethod
    def load(cls, path: str | None, overrides: list[str]) -> TrainConfig:
        """The config of a TOML file (or the defaults) with ``KEY=VALUE`` overrides, each checked against its field.

        Every mistake is a ValueError with a one-line message naming the file or the key.
        """
        fields = _field_types()
        values: dict = {}
        if path:
            try:
                values.update(tomllib.loads(Path(path).read_text(encoding="utf-8")))
            except FileNotFoundError:
                raise ValueError(f"{path}: no such config file") from None
            except OSError as exc:
                raise ValueError(f"{path}: cannot read the config file ({exc.strerror or exc})") from None
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ValueError(f"{path}: not valid TOML ({exc})") from None
            unknown = sorted(set(values) - set(fields))
            if unknown:
                raise ValueError(f"{path}: unknown config key {unknown[0]!r}; known: {', '.join(fields)}")
            for key, value in values.items():  # a value of the wrong type is the file's mistake: name the file
                try:
                    _coerce(key, value, fields[key])
                except ValueError as exc:
                    raise ValueError(f"{path}: {exc}") from None
        for item in overrides:
            key, equals, raw = item.partition("=")
            key = key.strip()
            if not equals:
                raise ValueError(f"{item!r} is not KEY=VALUE (e.g. steps=2000)")
            if key not in fields:
                raise ValueError(f"unknown config key {key!r}; known: {', '.join(fields)}")
            values[key] = _parse_override(key, raw, fields[key])
        return cls(**values)


def _field_types() -> dict[str, object]:
    """TrainConfig's fields and their types (``list[str]``, ``int``...), resolved from the annotations."""
    hints = typing.get_type_hints(TrainConfig)
    return {f.name: hints[f.name] for f in dataclasses.fields(TrainConfig)}


def _is_list(hint: object) -> bool:
    return typing.get_origin(hint) is list


def _parse_override(key: str, raw: str, hint: object) -> object:
    """The value of ``KEY=raw`` for a field of type ``hint``: a TOML value (number, bool, list, quoted string),
    or the text itself where the field takes strings (``out_dir=runs/x``, ``train_dirs=/data/pictures``)."""
    takes_text = hint is str or (_is_list(hint) and typing.get_args(hint)[0] is str)
    if not raw.strip():
        return [] if _is_list(hint) else raw  # "train_only=" empties a list
    try:
        parsed = tomllib.loads(f"v = {raw}")
    except tomllib.TOMLDecodeError:
        if _is_list(hint) and raw.lstrip().startswith("["):
            raise ValueError(f'{key}: {raw!r} is not a TOML list such as ["a", "b"] or [1, 2]') from None
        return raw
    value = parsed.get("v") if set(parsed) == {"v"} else raw
    if takes_text and not isinstance(value, str | list):
        return raw  # name=2024 is the name "2024"
    return value


class _WrongType(Exception):
    """A value that does not fit a field's type; ``_coerce`` turns it into a message naming the key."""


def _coerce(key: str, value: object, hint: object) -> object:
    """``value`` as the type ``hint`` (int, float, bool, str, list[...], X | None), or a ValueError naming the key,
    the value and the type expected. A single value is taken as a one-element list."""
    try:
        return _as_type(value, hint)
    except _WrongType:
        raise ValueError(f"{key}: expected {_describe(hint)}, not {value!r}") from None


def _as_type(value: object, hint: object) -> object:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is list:
        items = value if isinstance(value, list | tuple) else [value]
        return [_as_type(item, args[0]) for item in items]
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is not type(None):
                try:
                    return _as_type(value, arg)
                except _WrongType:
                    pass
        raise _WrongType
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise _WrongType
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)  # steps=2e4
        raise _WrongType
    if hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        raise _WrongType
    if hint is str:
        if isinstance(value, str):
            return value
        raise _WrongType
    return value  # a type this module does not check


def _describe(hint: object) -> str:
    """What a field of type ``hint`` takes, in words: "an integer", "a list of strings"..."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is list:
        plural = {bool: "booleans", int: "integers", float: "numbers", str: "strings"}.get(args[0], str(args[0]))
        return f"a list of {plural} (or a single one)"
    if origin in (typing.Union, types.UnionType):
        return " or ".join("nothing" if arg is type(None) else _describe(arg) for arg in args)
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}.get(hint, str(hint))
