"""The settings of a training run: ``TrainConfig``, read from a TOML file plus ``KEY=VALUE`` overrides.

    config = TrainConfig.load("configs/lite.toml", ["steps=2000", "train_dirs=/data/pictures"])

Every value is checked (by pydantic) against its field's type and range when the config is made, so a mistake is
one ``ValueError`` naming the file or the key, before any picture is read or any file written. Checkpoints carry
the config they were trained with (``dataclasses.asdict``).
"""

from __future__ import annotations

import functools
import tomllib
import typing
from dataclasses import field
from pathlib import Path

from pydantic import ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic.dataclasses import dataclass
from pydantic_core import ErrorDetails

from .model import UNetConfig


class ConfigError(ValueError):
    """A setting no run can use, in one line; ``key`` names it (None for a rule between settings)."""

    def __init__(self, message: str, key: str | None) -> None:
        super().__init__(message)
        self.key = key


def _one_line_errors(cls: type) -> type:
    """Make ``cls(...)`` (and ``dataclasses.replace``) raise one ``ConfigError`` instead of pydantic's report."""
    validate = cls.__init__

    @functools.wraps(validate)
    def __init__(self, *args: object, **kwargs: object) -> None:
        try:
            validate(self, *args, **kwargs)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = error["loc"][0] if error["loc"] else None
            fields = list(cls.__pydantic_fields__)
            if isinstance(where, int):  # a value given by position: name its field
                where = fields[where] if where < len(fields) else None
            key = None if where is None else str(where)
            raise ConfigError(_message(error, key, kwargs.get(key, error["input"])), key) from None

    cls.__init__ = __init__
    return cls


# Strict: no "5" for an integer, no 1 for a boolean; ``_loosen`` allows the few conversions a config file needs.
@_one_line_errors
@dataclass(config=ConfigDict(strict=True, extra="forbid", allow_inf_nan=False))
class TrainConfig:
    name: str = "lite"
    width: int = Field(16, ge=1)
    extra_convs: int = Field(0, ge=0)  # residual convolutions per level (UNetConfig); init_from may have fewer (grown)
    train_dirs: list[str] = field(default_factory=lambda: ["../shared/data/clean/train"])
    val_dir: str = "../shared/data/clean/val/kodak24"
    profiles_dir: str = "../shared/data/noise_profiles"
    out_dir: str = "runs/lite"
    steps: int = Field(20000, ge=1)
    batch_size: int = Field(4, ge=1)
    patch: int = 256
    lr: float = Field(2e-4, gt=0)
    min_lr: float = Field(1e-5, ge=0)
    virtual_share: float = 0.3
    pattern_share: float = 0.0  # share of procedural pictures (bars, text, dead leaves) among the photographs
    val_every: int = Field(500, ge=1)
    val_images: int = Field(8, ge=0)
    val_ratios: list[float] = field(default_factory=lambda: [100.0, 250.0, 300.0])
    val_crop: int = 512
    val_cameras: list[str] = field(default_factory=lambda: ["SonyA7S2"])  # noise profiles of the validation crops
    checkpoint_every: int = Field(250, ge=1)
    seed: int = Field(0, ge=0)
    threads: int = Field(0, ge=0)  # torch CPU threads; 0 = torch's default
    workers: int = Field(0, ge=0)  # processes making training batches; 0 = make them in the training loop
    amp: bool = True  # bfloat16 autocast for the network on a GPU (ignored on the CPU)
    max_minutes: float = Field(0.0, ge=0)  # stop with a checkpoint after this much wall time; 0 = no limit
    init_from: str = ""  # start from these weights: a checkpoint (.pt) or an fp32 model (.onnx); not when resuming
    onnx_out: str = ""  # where the best model is exported, e.g. weights/seeisp-lite.onnx
    sid_root: str = ""  # SID dataset root (holding Sony/short, Sony/long): mix in real pairs; "" = synthetic only
    sid_list: str = "../shared/data/sid_lists/Sony_train_list.txt"
    sid_share: float = 0.5  # share of training samples drawn from the SID pairs when sid_root is set
    sid_cache: str = ""  # folder for decoded SID frames (.npy); "" = decode every time
    noise_on_device: bool = False  # workers make clean crops; the noise is drawn on the training device (torch)
    ema: float = 0.0  # decay of an exponential moving average of the weights, validated and exported; 0 = off
    context_border: int = Field(0, ge=0)  # packed pixels mirrored around each crop, as inference does (CONTEXT_BORDER)

    @field_validator("*", mode="before")
    @classmethod
    def _loosen(cls, value: object, info: ValidationInfo) -> object:
        """A single value for a list field is a one-element list, 2e4 an integer, "true" and "false" booleans."""
        kind = cls.__pydantic_fields__[info.field_name].annotation
        if typing.get_origin(kind) is list:
            return list(value) if isinstance(value, list | tuple) else [value]
        if kind is int and isinstance(value, float) and value.is_integer():
            return int(value)
        if kind is bool and isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        return value

    @field_validator("patch", "val_crop")
    @classmethod
    def _even(cls, pixels: int, info: ValidationInfo) -> int:  # raw pixels, packed 2x2 into the network's input
        if pixels < 2 or pixels % 2:
            raise ValueError(f"{info.field_name} must be a positive even number of raw pixels, not {pixels}")
        return pixels

    @field_validator("virtual_share", "pattern_share", "sid_share")
    @classmethod
    def _share(cls, share: float, info: ValidationInfo) -> float:
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"{info.field_name} must be in [0, 1], not {share}")
        return share

    @field_validator("val_ratios")
    @classmethod
    def _positive(cls, ratios: list[float]) -> list[float]:
        if any(ratio <= 0 for ratio in ratios):
            raise ValueError(f"val_ratios must all be > 0, not {min(ratios)}")
        return ratios

    @field_validator("ema")
    @classmethod
    def _decay(cls, ema: float) -> float:
        if not 0.0 <= ema < 1.0:
            raise ValueError(f"ema must be in [0, 1) (a decay such as 0.999; 0 = off), not {ema}")
        return ema

    @model_validator(mode="after")
    def _consistent(self) -> TrainConfig:
        packed, border, multiple = self.patch // 2, self.context_border, self.model_config.pad_multiple
        if border >= packed:  # mirroring needs more pixels than it copies
            raise ValueError(f"context_border must be smaller than the {packed}-pixel packed crop, not {border}")
        if (packed + 2 * border) % multiple:
            raise ValueError(
                f"context_border must be >= 0 and bring the {packed}-pixel packed crop to a multiple of "
                f"{multiple}, not {border}"
            )
        if self.noise_on_device and self.sid_root:
            raise ValueError(
                "noise_on_device=true does not mix with sid_root: the SID pairs are already noisy; use one or the other"
            )
        return self

    @property
    def model_config(self) -> UNetConfig:
        return UNetConfig(width=self.width, extra_convs=self.extra_convs)

    @classmethod
    def load(cls, path: str | None, overrides: list[str]) -> TrainConfig:
        """The config of a TOML file (or the defaults) with ``KEY=VALUE`` overrides, each checked against its field.

        Every mistake is a ValueError with a one-line message naming the key, and the file if the value is its.
        """
        from_file: dict = {}
        if path:
            try:
                from_file = tomllib.loads(Path(path).read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise ValueError(f"{path}: no such config file") from None
            except OSError as exc:
                raise ValueError(f"{path}: cannot read the config file ({exc.strerror or exc})") from None
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ValueError(f"{path}: not valid TOML ({exc})") from None
        changes = {}
        for item in overrides:
            key, equals, raw = item.partition("=")
            key = key.strip()
            if not equals:
                raise ValueError(f"{item!r} is not KEY=VALUE (e.g. steps=2000)")
            if key not in cls.__pydantic_fields__:
                raise ValueError(_unknown(key))
            changes[key] = _parse_override(key, raw, cls.__pydantic_fields__[key].annotation)
        try:
            return cls(**{**from_file, **changes})
        except ConfigError as exc:
            if exc.key in from_file and exc.key not in changes:
                raise ConfigError(f"{path}: {exc}", exc.key) from None
            raise


def _parse_override(key: str, raw: str, hint: object) -> object:
    """The value of ``KEY=raw`` for a field of type ``hint``: a TOML value (number, bool, list, quoted string),
    or the text itself where the field takes strings (``out_dir=runs/x``, ``train_dirs=/data/pictures``)."""
    is_list = typing.get_origin(hint) is list
    takes_text = hint is str or (is_list and typing.get_args(hint)[0] is str)
    if not raw.strip():
        return [] if is_list else raw  # "train_dirs=" empties a list
    try:
        parsed = tomllib.loads(f"v = {raw}")
    except tomllib.TOMLDecodeError:
        if is_list and raw.lstrip().startswith("["):
            raise ValueError(f'{key}: {raw!r} is not a TOML list such as ["a", "b"] or [1, 2]') from None
        return raw
    value = parsed.get("v") if set(parsed) == {"v"} else raw
    if takes_text and not isinstance(value, str | list):
        return raw  # name=2024 is the name "2024"
    return value


def _unknown(key: str) -> str:
    return f"unknown config key {key!r}; known: {', '.join(TrainConfig.__pydantic_fields__)}"


_BOUNDS = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}
_EXPECTED = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
_EXPECTED |= {list[str]: "a list of strings (or a single one)", list[float]: "a list of numbers (or a single one)"}


def _message(error: ErrorDetails, key: str | None, value: object) -> str:
    """Pydantic's error about ``key``, whose value was ``value``, in one line."""
    if error["type"] == "value_error":  # from the validators above, which name the key themselves
        return str(error["ctx"]["error"])
    if error["type"] == "unexpected_keyword_argument":
        return _unknown(str(key))
    if error["type"] in _BOUNDS:
        (bound,) = error["ctx"].values()
        return f"{key} must be {_BOUNDS[error['type']]} {bound:g}, not {value}"
    if error["type"].endswith("_type") or error["type"] == "finite_number":
        return f"{key}: expected {_EXPECTED[TrainConfig.__pydantic_fields__[str(key)].annotation]}, not {value!r}"
    return f"{key}: {error['msg']}" if key else error["msg"]
