"""On-the-fly training of the CNN localizer (CSR or structure-based sampling).

Every batch is simulated on the training device when it is needed (:mod:`structloc.batches`):

1. per frame, a density is drawn log-uniformly in ``[density_min_per_um2, density_max_per_um2]``
   (default 0.05 to 15 emitters/um^2: sparse to ultra-dense, covering the test densities up to
   13 /um^2; median ~0.87 /um^2, mean ~2.6 /um^2, i.e. ~107 emitters in a 64 x 64 frame of
   100 nm pixels) and the frame's emitter count is Poisson with mean ``density * area``;
2. the sampler (``csr`` or ``helix``) places the emitters and draws their photons from the SNR
   preset (:mod:`structloc.sampling`, :mod:`structloc.snr`; optionally rescaled per frame to
   ``photons_range``, with the background drawn from ``background_range_photons``);
3. frames are rendered with the astigmatic PSF, background added and the EMCCD applied
   (:mod:`structloc.simulate`), then mapped back to photon units (``camera.to_photons``);
4. the head's targets are made (:func:`structloc.heads.encode_batch`): the padded truth for the
   mixture head, blob grids on the 4x grid for the grid head.

The sampler is the only difference between the two approaches: counts, photons, PSF, camera,
model, optimiser, schedule, budget and seeds are shared. Step ``k`` of rank ``r`` draws its batch
from ``numpy.random.default_rng([seed, r, k])`` (and a torch generator seeded from it), so a
resumed run sees exactly the batches an uninterrupted run would have seen.

Loss (:func:`structloc.losses.batch_loss`): the mixture head's count + Gaussian-mixture negative log-likelihood
(:func:`structloc.mixture.mixture_loss`), or for the grid head the squared error between output
and target grids, summed over bins and divided by the number of camera pixels (channel weights 1,
1 and ``photon_loss_weight``); with ``balance_densities`` (the default) each frame's loss is
divided by ``1 + its emitter count`` so that sparse and
ultra-dense frames weigh the same (:func:`structloc.losses.frame_weights`). Optimiser AdamW; learning
rate: linear warm-up over ``warmup_steps``, then a cosine decay to 5 % over the budget (the
fraction of ``max_steps`` done, or of ``minutes`` elapsed, whichever is larger); gradient norm
clipping; bf16 (or fp16 + GradScaler) autocast on CUDA, and bf16 autocast on a CPU with
``bf16_on_cpu``. Every ``steps_per_epoch`` steps the model
is validated on a fixed, seeded validation set (Jaccard index and RMSE at the detection threshold
that maximises the Jaccard index there: with ``balance_densities``, its mean over four groups of
frames split by emitter count) and a checkpoint is written atomically. Launched with
``torchrun``, training runs under DistributedDataParallel (gloo on CPU, nccl on CUDA); each rank
draws its own batches and rank 0 validates and writes checkpoints.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field as dataclass_field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from .batches import simulate_batch, training_counts, validation_batch
from .checkpoint import load_checkpoint, save_checkpoint
from .device import cpu_has_bf16, select_device
from .heads import HeadSpec
from .io import check_output_path
from .losses import batch_loss, frame_weights, loss_weights, target_loss
from .model import LocNet, count_parameters
from .provenance import git_commit, training_provenance
from .train_config import TrainConfig
from .validation import THRESHOLD_GRID, choose_threshold, predict_grid

# The loop's own names, then the names it re-exports from the modules of its parts (older code
# imports them from here; package code imports them from their homes).
__all__ = ["TrainResult", "train", "snapshot_path",
           "TrainConfig", "select_device", "simulate_batch", "validation_batch", "training_counts",
           "target_loss", "batch_loss", "frame_weights", "predict_grid", "choose_threshold",
           "THRESHOLD_GRID", "provenance"]

#: The training record of a finished run (:func:`structloc.provenance.training_provenance`).
provenance = training_provenance



@dataclass
class TrainResult:
    """What :func:`train` returns: the trained network and its record."""

    model: LocNet
    config: TrainConfig
    threshold: float
    history: list[dict[str, Any]]
    checkpoint: Path | None
    step: int
    wall_s: float
    device: str
    extra: dict[str, Any] = dataclass_field(default_factory=dict)


@dataclass
class _Run:
    """The state of a run that a checkpoint holds: network, optimiser (with its mixed precision),
    progress and record."""

    model: LocNet
    optimizer: torch.optim.Optimizer
    amp_dtype: torch.dtype | None
    scaler: torch.amp.GradScaler | None
    step: int = 0
    elapsed_s: float = 0.0
    history: list[dict[str, Any]] = dataclass_field(default_factory=list)
    threshold: float = 0.5


# -- the schedule and the machine ------------------------------------------------------------------
def _lr_factor(config: TrainConfig, step: int, elapsed_s: float) -> float:
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    progress = 0.0
    if config.max_steps is not None:
        progress = step / config.max_steps
    if config.minutes is not None:
        progress = max(progress, elapsed_s / (60.0 * config.minutes))
    progress = min(progress, 1.0)
    return 0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * progress))


def _distributed() -> tuple[int, int, int]:
    """(rank, world size, local rank) from torchrun's environment (0, 1, 0 when not distributed)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0"))


def _amp(device: torch.device, config: TrainConfig) -> tuple[torch.dtype | None, torch.amp.GradScaler | None]:
    """Autocast dtype and grad scaler: bf16 (no scaler) or fp16 + GradScaler on CUDA; bf16 on a CPU
    when ``config.bf16_on_cpu`` (refused on a CPU without native bf16); none elsewhere."""
    if device.type == "cpu" and config.bf16_on_cpu:
        if not cpu_has_bf16():
            raise ValueError("bf16_on_cpu needs a CPU with native bfloat16 (AVX512-BF16 or AMX) and this "
                             "one has none: train in float32 (without --cpu-bf16)")
        return torch.bfloat16, None
    if device.type != "cuda":
        return None, None
    if torch.cuda.is_bf16_supported():
        return torch.bfloat16, None
    return torch.float16, torch.amp.GradScaler("cuda")


def _run_differences(saved: dict[str, Any], config: TrainConfig) -> list[str]:
    """Names of the config fields (budget aside) in which a saved config differs from ``config``;
    fields added since it was saved count as their defaults (which reproduce the older behaviour)."""
    try:
        saved = TrainConfig.from_dict(saved).to_dict()
    except (KeyError, TypeError, ValueError):
        return ["(unreadable config)"]
    new = config.to_dict()
    return sorted(k for k in set(saved) | set(new)
                  if k not in ("max_steps", "minutes") and saved.get(k) != new.get(k))




def _place(device: str | torch.device | None, world: int, local_rank: int) -> torch.device:
    """The training device (one GPU per process under torchrun), the process group started."""
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if (device is None or str(device).startswith("cuda")) and torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    device = select_device(device)
    if world > 1 and device.type == "cuda" and device.index is None:
        device = torch.device("cuda", local_rank)  # one GPU per process
    if device.type == "cuda":
        torch.cuda.set_device(device)
    return device


# -- the steps of a run ----------------------------------------------------------------------------
def _set_up(config: TrainConfig, out: Path | None, device: torch.device, resume: bool) -> _Run:
    """A fresh run (the network initialised from ``config.seed``), or the one saved in ``out``."""
    torch.manual_seed(config.seed)
    model = LocNet(config.model_config()).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=1e-4)
    run = _Run(model, optimizer, *_amp(device, config))
    if out is not None and resume and out.exists():
        _resume(run, out, config, device)
    return run


def _resume(run: _Run, out: Path, config: TrainConfig, device: torch.device) -> None:
    """Load the checkpoint ``out`` into ``run``, refusing one of a different run."""
    saved = load_checkpoint(out, map_location=device)
    differences = _run_differences(saved["config"], config)
    if differences:
        raise ValueError(f"{out} holds a checkpoint of a different training run "
                         f"(it differs in {', '.join(differences)}); "
                         "pass resume=False (CLI: --restart) to overwrite it or choose another --out")
    run.model.load_state_dict(saved["model"])
    run.optimizer.load_state_dict(saved["optimizer"])
    if run.scaler is not None and saved.get("scaler"):
        run.scaler.load_state_dict(saved["scaler"])
    run.step, run.elapsed_s = int(saved["step"]), float(saved["elapsed_s"])
    run.history, run.threshold = list(saved["history"]), float(saved["threshold"])
    torch.set_rng_state(saved["torch_rng"])


def _finished(config: TrainConfig, run: _Run, world: int, device: torch.device) -> bool:
    """Whether the budget is spent (on every rank at the same step)."""
    done = (config.max_steps is not None and run.step >= config.max_steps) or \
           (config.minutes is not None and run.elapsed_s >= 60.0 * config.minutes)
    if world > 1:  # every rank stops at the same step
        flag = torch.tensor([float(done)], device=device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        done = bool(flag.item())
    return done


def _train_step(run: _Run, net: torch.nn.Module, config: TrainConfig, spec: HeadSpec, rank: int,
                device: torch.device) -> float:
    """One optimiser step on the batch of (rank, step); returns its loss.

    Raises
    ------
    FloatingPointError
        If the loss is NaN or infinite.
    """
    frames, targets, truth = simulate_batch(config, config.batch_size, [config.seed, rank, run.step], device)
    weights = loss_weights(config, truth, config.batch_size, device)
    for group in run.optimizer.param_groups:
        group["lr"] = config.lr * _lr_factor(config, run.step, run.elapsed_s)
    with torch.autocast(device.type, dtype=run.amp_dtype or torch.float32, enabled=run.amp_dtype is not None):
        output = net(frames)
    loss = batch_loss(config, spec, output, targets, weights)
    if not torch.isfinite(loss):
        raise FloatingPointError(
            f"training loss became {loss.item()} at step {run.step} ({config.sampler}/{config.snr}); "
            "the network diverged or its weights are corrupted: lower the learning rate "
            f"(now {config.lr}) or resume from an earlier checkpoint")
    run.optimizer.zero_grad(set_to_none=True)
    if run.scaler is not None:
        run.scaler.scale(loss).backward()
        run.scaler.unscale_(run.optimizer)
        torch.nn.utils.clip_grad_norm_(run.model.parameters(), config.grad_clip)
        run.scaler.step(run.optimizer)
        run.scaler.update()
    else:
        loss.backward()
        torch.nn.utils.clip_grad_norm_(run.model.parameters(), config.grad_clip)
        run.optimizer.step()
    run.step += 1
    return float(loss.detach())


def _checkpoint(run: _Run, config: TrainConfig, device: torch.device, world: int, commit: str) -> dict[str, Any]:
    """What a checkpoint of ``run`` holds (enough to resume it exactly)."""
    return {
        "config": config.to_dict(), "model_config": run.model.config.to_dict(),
        "model": run.model.state_dict(), "optimizer": run.optimizer.state_dict(),
        "scaler": run.scaler.state_dict() if run.scaler is not None else {},
        "torch_rng": torch.get_rng_state(), "step": run.step, "elapsed_s": run.elapsed_s,
        "history": run.history, "threshold": run.threshold, "device": str(device), "world_size": world,
        "n_parameters": count_parameters(run.model), "git_commit": commit,
    }


def _validate_and_save(run: _Run, val, spec: HeadSpec, config: TrainConfig, losses: list[float], world: int,
                       out: Path | None, pending: list[float], payload) -> dict[str, Any]:
    """Validate (new threshold and history record), write the checkpoint and the snapshots due."""
    run.threshold, record = _validate(run.model, val, spec, config, run.step, losses, run.elapsed_s, world)
    run.history.append(record)
    if out is not None:
        save_checkpoint(out, payload())
    while pending and run.elapsed_s >= 60.0 * pending[0]:
        save_checkpoint(snapshot_path(out, pending.pop(0)), payload())
    return record


def train(
    config: TrainConfig,
    out: str | os.PathLike | None = None,
    *,
    device: str | torch.device | None = None,
    resume: bool = True,
    progress: bool = True,
    snapshot_minutes: tuple[float, ...] = (),
) -> TrainResult:
    """Train a localizer on the fly (see the module docstring).

    Parameters
    ----------
    config : TrainConfig
        The run.
    out : path, optional
        Checkpoint file, rewritten atomically after every epoch and at the end. If it exists,
        holds the same run (config equal up to the budget) and ``resume`` is true, training
        continues from it: with a step budget the result equals an uninterrupted run.
    device : str or torch.device, optional
        Training device; default: cuda, then mps, then cpu (under torchrun: cuda:LOCAL_RANK).
    resume : bool
        Continue from ``out`` when possible (else start afresh and overwrite it).
    progress : bool
        Show a tqdm progress bar (rank 0 only).
    snapshot_minutes : tuple of float
        Wall-time points (minutes) at which the model is also validated and a copy of the
        checkpoint is kept as ``OUT.at{m}min.pt`` (for convergence curves,
        ``benchmarks/bench_convergence.py``); needs ``out``.

    Returns
    -------
    TrainResult

    Raises
    ------
    FloatingPointError
        If the loss becomes NaN or infinite.
    ValueError
        If ``out`` holds a checkpoint of a different run and ``resume`` is true.
    IsADirectoryError, FileNotFoundError
        If ``out`` is a directory or its directory does not exist (before any training).
    """
    from tqdm.auto import tqdm

    commit = git_commit()  # the code that runs, recorded before training starts
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    if out is not None:
        check_output_path(out)  # a directory or a missing folder is refused before training starts
    out = Path(out) if out is not None else None
    rank, world, local_rank = _distributed()
    device = _place(device, world, local_rank)
    run = _set_up(config, out, device, resume)
    net: torch.nn.Module = run.model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(
            run.model, device_ids=[device.index] if device.type == "cuda" else None)
    spec = config.target_spec()
    val = None
    if rank == 0:
        val = validation_batch(config, device)
    pending = sorted(float(m) for m in snapshot_minutes if 60.0 * float(m) > run.elapsed_s)
    if pending and out is None:
        raise ValueError("snapshot_minutes needs an output checkpoint path")

    def payload() -> dict[str, Any]:
        return _checkpoint(run, config, device, world, commit)

    epoch_losses: list[float] = []
    run.model.train()
    tick = time.perf_counter()
    with tqdm(total=config.max_steps, initial=run.step, disable=not progress or rank != 0,
              desc=f"train {config.sampler}/{config.snr}/{config.preset}", unit="step") as bar:
        while not _finished(config, run, world, device):
            epoch_losses.append(_train_step(run, net, config, spec, rank, device))
            now = time.perf_counter()
            run.elapsed_s, tick = run.elapsed_s + (now - tick), now
            bar.update(1)
            bar.set_postfix(loss=f"{epoch_losses[-1]:.4f}", refresh=False)
            end = _finished(config, run, world, device)
            snapshot = bool(pending) and run.elapsed_s >= 60.0 * pending[0]
            if run.step % config.steps_per_epoch == 0 or end or snapshot:
                if rank == 0:
                    record = _validate_and_save(run, val, spec, config, epoch_losses, world, out,
                                                pending if snapshot else [], payload)
                    bar.set_postfix(loss=f"{record['train_loss']:.4f}", ji=f"{record['jaccard']:.3f}",
                                    rmse=f"{record['rmse_vol_nm']:.1f}")
                if world > 1:
                    dist.barrier()
                epoch_losses = []
                now = time.perf_counter()
                run.elapsed_s, tick = run.elapsed_s + (now - tick), now
                if end:
                    break
    run.model.eval()
    return TrainResult(model=run.model, config=config, threshold=run.threshold, history=run.history,
                       checkpoint=out, step=run.step, wall_s=run.elapsed_s, device=str(device),
                       extra={"world_size": world, "rank": rank, "git_commit": commit})


def snapshot_path(out: str | os.PathLike, minutes: float) -> Path:
    """Where :func:`train` keeps the snapshot of ``out`` taken at ``minutes`` of wall time."""
    out = Path(out)
    return out.with_name(f"{out.stem}.at{minutes:g}min{out.suffix}")



def _validate(model, val, spec, config, step, losses, elapsed_s, world) -> tuple[float, dict[str, Any]]:
    frames, targets, truth = val
    output = predict_grid(model, frames)
    weights = loss_weights(config, truth, len(frames), output.device)
    val_loss = float(batch_loss(config, spec, output, targets, weights))
    threshold, metrics = choose_threshold(output, truth, spec, n_groups=4 if config.balance_densities else 1)
    record = {
        "epoch": step // config.steps_per_epoch, "step": step,
        "frames_seen": step * config.batch_size * world,
        "train_loss": float(np.mean(losses)) if losses else float("nan"), "val_loss": val_loss,
        "threshold": threshold, "wall_s": round(elapsed_s, 3),
        **{k: metrics[k] for k in ("jaccard", "rmse_lat_nm", "rmse_ax_nm", "rmse_vol_nm", "efficiency_3d")},
    }
    return threshold, record

