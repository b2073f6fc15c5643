"""Train the SID U-Net on synthetic low-light pairs: one straight loop, checkpoints that carry their config.

    seeisp train --config configs/lite.toml steps=20000 batch_size=4

Runs on one CPU or GPU, or on several GPUs under ``torchrun`` (DistributedDataParallel).
Resuming is exact: the data of step N depends only on (seed, N), and the checkpoint holds the
model, the optimiser and the step.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from ..eval.metrics import psnr
from ..pack import amplify, pack
from ..render import bt709_encode, camera_to_linear_srgb
from ..session import drop_context, mirror_context
from ..sim.noise import VIRTUAL_SENSOR, SensorProfile, load_profiles, normalise, resolve_profile
from ..sim.pictures import to_unit
from ..sim.synthesis import dark_raw_pair, random_camera, unprocess
from ..writable import staged_file
from .config import TrainConfig
from .data import SyntheticPairs, load_images, noise_vector
from .device_noise import noisy_input, step_generator
from .model import ResidualConv, SIDUNet, UNetConfig
from .noise_input import FIRST_WEIGHT, sample_with_noise_plane, with_noise_plane, with_zero_inputs

if TYPE_CHECKING:
    from .sid import MixedPairs


def lr_at(config: TrainConfig, step: int) -> float:
    """Short warm-up, then cosine decay from lr to min_lr."""
    warmup = min(200, config.steps // 10)
    if step < warmup:
        return config.lr * (step + 1) / warmup
    t = (step - warmup) / max(1, config.steps - warmup)
    return config.min_lr + 0.5 * (config.lr - config.min_lr) * (1 + math.cos(math.pi * min(1.0, t)))


def tone_l1(output: torch.Tensor, target: torch.Tensor, white_balance: torch.Tensor) -> torch.Tensor:
    """L1 in linear camera RGB plus L1 after white balance and a gamma-like curve.

    The curved term weighs shadows as the rendered picture does; the linear term keeps a
    gradient where the curve clips (below 0, above 1), so no output can get stuck there.
    """
    wb = white_balance[:, :, None, None]

    def tone(x: torch.Tensor) -> torch.Tensor:
        return (torch.clamp(x * wb, 0.0, 1.0) + 1e-3).pow(1 / 2.222)

    return F.l1_loss(output, target) + F.l1_loss(tone(output), tone(target))


def validation_sensors(config: TrainConfig) -> list[SensorProfile]:
    """The sensors of ``val_cameras`` from ``profiles_dir``, or the built-in virtual one where that folder is absent."""
    if not Path(config.profiles_dir).is_dir():
        return [VIRTUAL_SENSOR]
    return [resolve_profile(name, config.profiles_dir) for name in config.val_cameras]


def training_sensors(config: TrainConfig) -> list[SensorProfile]:
    """The calibrated sensors training draws its noise from, and builds its virtual sensors around: every profile in
    ``profiles_dir``, or those of ``train_cameras`` (a camera with each of its ISO ranges: NikonD850 and NikonD850-2).

    Empty where ``profiles_dir`` is absent and no camera is named (training then uses the built-in virtual sensor); an
    unknown camera is a ``ValueError`` naming it.
    """
    if not Path(config.profiles_dir).is_dir():
        if config.train_cameras:
            raise ValueError(f"train_cameras: profiles_dir {config.profiles_dir} is no folder of noise profiles")
        return []
    profiles = load_profiles(config.profiles_dir)
    cameras = dict.fromkeys(name.removesuffix("-2") for name in profiles)  # NikonD850-2: NikonD850's second ISO range
    unknown = [camera for camera in config.train_cameras if camera not in cameras]
    if unknown:
        raise ValueError(
            f"train_cameras: unknown camera {unknown[0]!r}; profiles in {config.profiles_dir}: {', '.join(cameras)}"
        )
    wanted = config.train_cameras or list(cameras)
    return [profile for name, profile in profiles.items() if name.removesuffix("-2") in wanted]


def validation_set(config: TrainConfig) -> list[tuple[np.ndarray, ...]]:
    """Fixed (input, target, white balance, camera->sRGB) crops from the validation pictures, for each sensor."""
    sensors = validation_sensors(config)
    images = load_images([config.val_dir], config.val_crop) if Path(config.val_dir).is_dir() else []
    images = images[: config.val_images]
    samples = []
    for s, sensor in enumerate(sensors):
        for i, image in enumerate(images):
            c = config.val_crop
            y, x = (image.shape[0] - c) // 2, (image.shape[1] - c) // 2
            for ratio in config.val_ratios:
                # The first sensor keeps the seeds validation had when it knew one sensor, so scores stay comparable.
                rng = np.random.default_rng([1234, i, int(ratio), *([s] if s else [])])
                camera = random_camera(rng)
                clean = unprocess(to_unit(image[y : y + c, x : x + c]), camera)
                noise = sensor.sample(rng)
                raw, target = dark_raw_pair(clean, ratio, noise, rng)
                packed = amplify(pack(normalise(raw, noise)), ratio)
                if config.noise_plane:
                    packed = sample_with_noise_plane(packed, noise_vector(noise, ratio, clip_black=False))
                samples.append((packed, target, camera.white_balance, camera.camera_to_srgb))
    return samples


def with_context(net: torch.nn.Module, packed: torch.Tensor, border: int) -> torch.Tensor:
    """The network's output for ``packed`` (N, 4, h, w) with ``border`` pixels of it mirrored all round first,
    as ``seeisp.session.mirror_context`` does at inference, cut back to (N, 3, 2h, 2w)."""
    if not border:
        return net(packed)
    output = net(F.pad(packed, (border,) * 4, mode="reflect"))
    return output[..., 2 * border : -2 * border, 2 * border : -2 * border]


def initial_model(config: UNetConfig) -> SIDUNet:
    """A new network, drawn from torch's random state. One that reads planes beyond the raw's four (a noise plane)
    starts from the very weights the four-plane network would, the extra planes at zero weight: a larger first
    convolution would otherwise draw every layer's weights differently, and from scratch two draws can end up
    dB apart, which would hide what the plane itself changes."""
    model = SIDUNet(dataclasses.replace(config, in_channels=4))
    if config.in_channels == 4:
        return model
    after_draw = torch.get_rng_state()
    grown = SIDUNet(config)
    torch.set_rng_state(after_draw)  # the rest of training draws as it would for the four-plane network
    grown.load_state_dict(with_zero_inputs(model.state_dict(), config.in_channels))
    return grown


@torch.no_grad()
def validate(model: SIDUNet, samples: list, device: torch.device) -> float:
    """Mean PSNR of the rendered validation crops, each run with the mirrored context inference gives it."""
    model.eval()
    scores = []
    for packed, target, wb, matrix in samples:
        seen = torch.from_numpy(mirror_context(packed, model.pad_multiple))[None].to(device)
        out = drop_context(model(seen)[0], packed.shape[-2:]).permute(1, 2, 0).cpu().numpy()
        rendered = bt709_encode(camera_to_linear_srgb(out, wb, matrix))
        reference = bt709_encode(camera_to_linear_srgb(target, wb, matrix))
        scores.append(psnr(rendered, reference))
    model.train()
    return float(np.mean(scores)) if scores else float("nan")


def load_weights(model: SIDUNet, path: str | os.PathLike[str]) -> None:
    """Load weights from a training checkpoint or from an fp32 ONNX file that ``seeisp export`` wrote.

    The exporter keeps the state-dict names for the ONNX initialisers, so a shipped model can be
    trained further (fine-tuned) without its checkpoint. A model with more ``extra_convs`` than the
    weights may be grown from them: its residual convolutions the weights lack keep their zero start,
    so it begins as exactly the network the weights describe. So may a model with a noise plane from
    4-plane weights: the plane starts at zero weight (``noise_input.with_zero_inputs``).
    """
    path = Path(path)
    wanted = model.state_dict()
    if path.suffix == ".onnx":
        from onnx import numpy_helper

        from .quantize import load_fp32  # folds weights stored in fp16 (``store_weights_fp16``) back to float32

        initializers = {i.name: i for i in load_fp32(path).graph.initializer}
        layers = tuple(f"{name}." for name, _ in model.named_children())
        weights = {
            name: torch.from_numpy(numpy_helper.to_array(tensor).astype(np.float32))
            for name, tensor in initializers.items()
            if name.startswith(layers)  # the network's own weights; the rest are the graph's constants
        }
    else:
        weights = torch.load(path, map_location="cpu", weights_only=False)["model"]
    if FIRST_WEIGHT in weights:
        weights = with_zero_inputs(weights, model.config.in_channels)
    missing = [name for name in wanted if name not in weights and not _grown(model, name)]
    if missing:
        raise ValueError(f"{path}: not seeisp weights of this architecture (no {missing[0]!r})")
    try:
        model.load_state_dict({**{k: v for k, v in wanted.items() if k not in weights}, **weights})
    except RuntimeError as exc:
        reason = next((line.strip() for line in str(exc).splitlines()[1:] if line.strip()), str(exc))
        raise ValueError(f"{path}: weights do not fit a width-{model.config.width} network ({reason})") from None


def _grown(model: SIDUNet, name: str) -> bool:
    """Whether a state-dict entry belongs to a residual convolution (``extra_convs``), which may start at zero."""
    module_name = name.rsplit(".", 2)[0]  # "up.0.4.conv.weight" -> "up.0.4"
    return isinstance(model.get_submodule(module_name), ResidualConv)


class StepBatches(torch.utils.data.Dataset):
    """Training batch number ``step`` of a run, made by a worker process or in the loop.

    Each batch is a pure function of (seed, step), so workers may make them in any order and a
    resumed run continues with exactly the batches it would have seen. With ``clean`` the batches
    are ``SyntheticPairs.clean_batch``es, for the loop to add the noise on the device.
    """

    def __init__(
        self, pairs: SyntheticPairs, seed: int, batch_size: int, clean: bool = False, with_noise: bool = False
    ) -> None:
        self.pairs, self.seed, self.batch_size, self.clean = pairs, seed, batch_size, clean
        self.with_noise = with_noise  # noisy batches carry their noise vectors too (clean ones always do)

    def __getitem__(self, step: int) -> tuple[torch.Tensor, ...]:
        if self.clean:
            arrays = self.pairs.clean_batch(self.seed, step, self.batch_size)
        elif self.with_noise:
            arrays = self.pairs.batch(self.seed, step, self.batch_size, with_noise=True)
        else:
            arrays = self.pairs.batch(self.seed, step, self.batch_size)
        return tuple(torch.from_numpy(a) for a in arrays)


def batch_loader(dataset: StepBatches, first: int, last: int, workers: int, pin: bool) -> torch.utils.data.DataLoader:
    return torch.utils.data.DataLoader(
        dataset,
        batch_size=None,
        sampler=range(first, last),
        num_workers=workers,
        pin_memory=pin,
        prefetch_factor=4 if workers else None,
        multiprocessing_context="spawn" if workers else None,  # rawpy (SID pairs) is not fork-safe
        worker_init_fn=_one_thread if workers else None,
    )


def _one_thread(_worker: int) -> None:
    torch.set_num_threads(1)


def save_best(path: Path, model: torch.nn.Module, config: TrainConfig, step: int, score: float) -> None:
    """The best model so far (weights and config, no optimiser), exported to ONNX if the config asks."""
    torch.save(
        {
            "model": model.state_dict(),
            "model_config": config.model_config.to_dict(),
            "config": dataclasses.asdict(config),
            "step": step,
            "val_psnr": score,
        },
        path,
    )
    if config.onnx_out:
        from .export import export_onnx

        export_onnx(path, Path(config.onnx_out))


def _out_of_time(config: TrainConfig, started: float, distributed: bool, device: torch.device) -> bool:
    """Whether the wall-time budget is spent; under torchrun all ranks agree, so they stop at the same step."""
    late = config.max_minutes > 0 and time.time() - started > 60 * config.max_minutes
    if distributed:
        flag = torch.tensor([float(late)], device=device)
        torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
        late = bool(flag.item())
    return late


def save_checkpoint(
    path: Path,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    step: int,
    config: TrainConfig,
    best_psnr: float,
    ema: AveragedModel | None = None,
) -> None:
    state = {
        "model": model.state_dict(),
        "ema": ema.state_dict() if ema is not None else None,
        "optimizer": optimizer.state_dict(),
        "step": step,
        "config": dataclasses.asdict(config),
        "model_config": config.model_config.to_dict(),
        "best_psnr": best_psnr,
    }
    with staged_file(path) as tmp:
        torch.save(state, tmp)


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """Where a run left its checkpoints and how far it got."""

    best: Path | None  # best.pt; None where validation never scored (none yet, or no pictures to score on)
    last: Path  # last.pt, which a run of the same config resumes from
    step: int
    stopped_early: bool  # by max_minutes, before config.steps


def training_pairs(config: TrainConfig) -> SyntheticPairs | MixedPairs:
    """Where the run's training samples come from: synthetic pairs of the ``train_dirs`` pictures with the noise of
    ``training_sensors``, mixed with real SID pairs when ``sid_root`` is set. ``ValueError`` without pictures."""
    profiles = training_sensors(config)
    images = load_images(config.train_dirs, config.patch)
    if not images:
        where = ", ".join(d if Path(d).is_dir() else f"{d} (no such folder)" for d in config.train_dirs)
        raise ValueError(f"train_dirs: no training pictures of at least {config.patch} px in {where or '[]'}")
    pairs = SyntheticPairs(
        images, profiles, patch=config.patch, virtual_share=config.virtual_share, pattern_share=config.pattern_share
    )
    if not config.sid_root:
        return pairs
    from .sid import MixedPairs, SIDPairs

    cache = config.sid_cache or None
    real = SIDPairs.from_list(config.sid_list, config.sid_root, patch=config.patch, cache_dir=cache)
    return MixedPairs(pairs, real, config.sid_share)


def _resume_or_start(
    model: SIDUNet,
    optimizer: torch.optim.Optimizer,
    last: Path,
    config: TrainConfig,
    device: torch.device,
    report: bool,
) -> tuple[int, float, dict | None]:
    """(step, best validation PSNR, the checkpoint's state): the run's ``last`` checkpoint loaded into ``model`` and
    ``optimizer`` when there is one; else step 0, from ``init_from``'s weights or from scratch (no state)."""
    if last.exists():
        state = torch.load(last, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if report:
            print(f"resumed {last} at step {state['step']} (best validation PSNR {state['best_psnr']:.2f} dB)")
        return state["step"], state["best_psnr"], state
    if config.init_from:
        load_weights(model, config.init_from)
        if report:
            print(f"starting from the weights of {config.init_from}")
    return 0, -math.inf, None


def train(config: TrainConfig) -> TrainResult:
    """Train (or resume) the run ``config`` describes, in ``config.out_dir``."""
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    rank = 0
    if distributed:
        torch.distributed.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        rank = torch.distributed.get_rank()
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if torch.cuda.is_available() else "cpu")
    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    cuda = device.type == "cuda"
    if cuda:
        torch.backends.cudnn.benchmark = True
    # Channels-last bfloat16 convolutions run on the tensor cores.
    memory_format = torch.channels_last if cuda else torch.contiguous_format

    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model = initial_model(config.model_config).to(device, memory_format=memory_format)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    last = out / "last.pt"
    step, best, state = _resume_or_start(model, optimizer, last, config, device, report=rank == 0)
    # Adam keeps nudging the weights even at a tiny learning rate, and the validation score jitters
    # with them from one check to the next; the average of the last ~1/(1-ema) steps moves smoothly,
    # so "best" means something.
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(config.ema)) if config.ema else None
    if ema is not None and state is not None and state.get("ema") is not None:
        ema.load_state_dict(state["ema"])
    scored = ema.module if ema is not None else model
    net = torch.nn.parallel.DistributedDataParallel(model) if distributed else model

    pairs = training_pairs(config)
    val = validation_set(config) if rank == 0 else []

    # Only rank 0 logs; the others would each append a stray header.
    log = (out / "log.csv" if rank == 0 else Path(os.devnull)).open("a", newline="")
    writer = csv.writer(log)
    if log.tell() == 0:
        writer.writerow(["step", "loss", "lr", "val_psnr", "seconds"])
    bar = tqdm(total=config.steps, initial=step, disable=rank != 0, desc=config.name)
    started, first_step, losses = time.time(), step, []
    batches = StepBatches(
        pairs, config.seed + 1000 * rank, config.batch_size, clean=config.noise_on_device, with_noise=config.noise_plane
    )
    for batch in batch_loader(batches, step, config.steps, config.workers, pin=cuda):
        parts = [t.to(device, non_blocking=True) for t in batch]
        if config.noise_on_device:
            clean, y, wb, _, noise = parts
            x = noisy_input(clean, noise, step_generator(device, config.seed, rank, step))
        else:
            x, y, wb, _, *drawn = parts
            noise = drawn[0] if drawn else None
        if config.noise_plane:  # the plane of the noise this very crop was given: the network learns what it means
            x = with_noise_plane(x, noise)
        x = x.contiguous(memory_format=memory_format)
        for group in optimizer.param_groups:
            group["lr"] = lr_at(config, step)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda and config.amp):
            output = with_context(net, x, config.context_border)
        loss = tone_l1(output.float(), y, wb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if ema is not None:
            ema.update_parameters(model)
        step += 1
        losses.append(loss.detach())  # read back every 50 steps: a GPU sync per step costs speed
        bar.update(1)
        validating = step % config.val_every == 0 or step == config.steps
        checkpointing = step % config.checkpoint_every == 0 or step == config.steps
        if step % 50 and not (validating or checkpointing):
            continue
        mean_loss = torch.stack(losses[-50:]).mean().item()
        losses = losses[-50:]
        samples_per_s = (step - first_step) * config.batch_size / (time.time() - started)
        bar.set_postfix(loss=f"{mean_loss:.4f}", samples_s=f"{samples_per_s:.0f}")
        out_of_time = _out_of_time(config, started, distributed, device)
        if rank != 0:
            if out_of_time:
                break
            continue
        val_psnr = ""
        if validating:
            score = validate(scored, val, device)
            val_psnr = f"{score:.3f}"
            if score > best:
                best = score
                save_best(out / "best.pt", scored, config, step, score)
            tqdm.write(f"step {step}: validation PSNR {score:.2f} dB (best {best:.2f})")
        writer.writerow(
            [step, f"{mean_loss:.5f}", f"{lr_at(config, step - 1):.2e}", val_psnr, f"{time.time() - started:.0f}"]
        )
        log.flush()
        if checkpointing or out_of_time:
            save_checkpoint(last, model, optimizer, step, config, best, ema)
        if out_of_time:
            tqdm.write(f"stopped at step {step} after {config.max_minutes:g} minutes; run again to resume")
            break
    bar.close()
    log.close()
    if distributed:
        torch.distributed.destroy_process_group()
    best_pt = out / "best.pt"
    return TrainResult(best_pt if best_pt.is_file() else None, last, step, stopped_early=step < config.steps)
