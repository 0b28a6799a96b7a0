"""On-the-fly training of the CNN localizer (CSR or structure-based sampling).

Every batch is simulated on the training device when it is needed:

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

Loss (:func:`batch_loss`): the mixture head's count + Gaussian-mixture negative log-likelihood
(:func:`structloc.mixture.mixture_loss`), or for the grid head the squared error between output
and target grids, summed over bins and divided by the number of camera pixels (channel weights 1,
1 and ``photon_loss_weight``); with ``balance_densities`` (the default) each frame's loss is
divided by ``1 + its emitter count`` so that sparse and
ultra-dense frames weigh the same (:func:`frame_weights`). Optimiser AdamW; learning
rate: linear warm-up over ``warmup_steps``, then a cosine decay to 5 % over the budget (the
fraction of ``max_steps`` done, or of ``minutes`` elapsed, whichever is larger); gradient norm
clipping; bf16 (or fp16 + GradScaler) autocast on CUDA. Every ``steps_per_epoch`` steps the model
is validated on a fixed, seeded validation set (Jaccard index and RMSE at the detection threshold
that maximises the Jaccard index there: with ``balance_densities``, its mean over four groups of
frames split by emitter count) and a checkpoint is written atomically. Launched with
``torchrun``, training runs under DistributedDataParallel (gloo on CPU, nccl on CUDA); each rank
draws its own batches and rank 0 validates and writes checkpoints.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field as dataclass_field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from . import __version__
from .camera import EMCCD
from .checkpoint import load_checkpoint, save_checkpoint
from .emitters import Emitters
from .evaluate import evaluate
from .field import Field
from .io import atomic_write, check_output_path
from .model import PRESETS, LocNet, ModelConfig, count_parameters, model_config
from .psf import AstigmaticPSF
from .sampling import SAMPLERS, sampler_from_name
from .simulate import simulate_expected, simulate_frames
from .snr import SNR_PRESETS, SignalLevel, signal_level
from .heads import HEADS, HeadSpec, decode_output, encode_batch, head_name, head_spec
from .mixture import mixture_loss

__all__ = ["TrainConfig", "TrainResult", "train", "select_device", "simulate_batch", "training_counts", "target_loss",
           "batch_loss", "snapshot_path",
           "predict_grid", "choose_threshold", "frame_weights", "provenance",
           "THRESHOLD_GRID", "add_train_arguments", "cli_train"]

#: Detection thresholds (peak amplitude) tried on the validation set.
THRESHOLD_GRID = tuple(np.round(np.arange(0.05, 1.501, 0.05), 3))
_TRAIN_SAMPLERS = ("csr", "helix")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (and is stored in its checkpoint).

    Parameters
    ----------
    sampler : {"csr", "helix"}
        How training emitters are placed; the only difference between the two approaches.
    snr : {"high", "medium", "low"}
        Signal level (photons per emitter, background photons per pixel).
    preset : {"tiny", "small", "fast", "large"}
        Network preset (:data:`structloc.model.PRESETS`).
    head : {"mixture", "grid"}
        Output head and loss (:mod:`structloc.heads`): per-bin probabilities with a count +
        Gaussian-mixture likelihood (default), or the paper's blob grid with a squared error.
        Checkpoints written before heads existed are ``"grid"``.
    seed : int
        Seeds model initialisation, every training batch and the validation set.
    batch_size : int
        Frames per step and per rank.
    lr : float
        Peak learning rate of AdamW.
    max_steps : int or None
        Step budget. At least one of ``max_steps`` and ``minutes`` must be given; training
        stops at whichever is reached first.
    minutes : float or None
        Wall-time budget in minutes (validation and checkpoints included).
    steps_per_epoch : int
        Steps between validations/checkpoints.
    warmup_steps : int
        Linear learning-rate warm-up.
    density_min_per_um2, density_max_per_um2 : float
        Range of the log-uniform per-frame density (emitters/um^2).
    photons_range : (float, float) or None
        If given, every frame's mean photons per emitter is drawn log-uniformly from this range
        and the frame's emitters (drawn from the SNR preset) are scaled to it; the head's photon
        scale and the input scale follow the top of the range. None (the default, and the study's
        setting) keeps the preset's photons.
    background_range_photons : (float, float) or None
        Likewise for the background (photons per pixel, log-uniform per frame); None keeps the
        preset's background. With both ranges one model covers many signal levels and real data
        (e.g. 1,000-25,000 photons over 10-250 background photons).
    n_val_frames : int
        Size of the fixed validation set (same sampler and density distribution, own seed).
    grad_clip : float
        Maximum gradient norm.
    photon_loss_weight : float
        Weight of the photon channel in the loss.
    blob_loss_weight : float
        Extra weight of bins inside target blobs (see :func:`target_loss`).
    balance_densities : bool
        Weight every frame equally in the loss (each frame's summed error is divided by
        ``1 + its emitter count``, the weights normalised to mean 1), and choose the detection
        threshold by the mean Jaccard index over four groups of validation frames split by
        emitter count. Without it, a frame's weight grows with its emitter count, so the ultra-dense
        frames (hundreds of emitters) dominate both the gradient and the threshold, and sparse
        frames are barely learned. Checkpoints written before this option existed were trained
        without it.
    sigma_bins : float
        Target blob width in 25 nm bins (2 = 50 nm, still separating emitters ~150 nm apart;
        chosen for short CPU budgets after 1-bin blobs gave near-zero recall on sparse frames
        there, see models/README.md).
    field, psf, camera :
        Geometry, PSF and camera of the simulated frames.
    """

    sampler: str = "helix"
    snr: str = "high"
    preset: str = "fast"
    head: str = "mixture"
    seed: int = 0
    batch_size: int = 16
    lr: float = 2e-3
    max_steps: int | None = None
    minutes: float | None = 10.0
    steps_per_epoch: int = 100
    warmup_steps: int = 50
    density_min_per_um2: float = 0.05
    density_max_per_um2: float = 15.0
    n_val_frames: int = 64
    grad_clip: float = 1.0
    photon_loss_weight: float = 0.1
    blob_loss_weight: float = 10.0
    balance_densities: bool = True
    sigma_bins: float = 2.0
    photons_range: tuple[float, float] | None = None
    background_range_photons: tuple[float, float] | None = None
    field: Field = Field()
    psf: AstigmaticPSF = AstigmaticPSF()
    camera: EMCCD = EMCCD()

    def __post_init__(self) -> None:
        if self.sampler not in _TRAIN_SAMPLERS:
            raise ValueError(f"TrainConfig.sampler must be one of {_TRAIN_SAMPLERS}, got {self.sampler!r}")
        signal_level(self.snr)
        model_config(self.preset)
        if self.head not in HEADS:
            raise ValueError(f"TrainConfig.head must be one of {list(HEADS)}, got {self.head!r}")
        for name in ("seed",):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"TrainConfig.{name} must be a non-negative integer, got {value!r}")
        for name in ("batch_size", "steps_per_epoch", "n_val_frames"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"TrainConfig.{name} must be a positive integer, got {value!r}")
        if self.max_steps is None and self.minutes is None:
            raise ValueError("TrainConfig needs a budget: give max_steps, minutes or both")
        if self.max_steps is not None and (isinstance(self.max_steps, bool) or not isinstance(self.max_steps, int)
                                           or self.max_steps < 1):
            raise ValueError(f"TrainConfig.max_steps must be a positive integer or None, got {self.max_steps!r}")
        if self.minutes is not None and not (math.isfinite(self.minutes) and self.minutes > 0):
            raise ValueError(f"TrainConfig.minutes must be positive and finite or None, got {self.minutes!r}")
        if isinstance(self.warmup_steps, bool) or not isinstance(self.warmup_steps, int) or self.warmup_steps < 0:
            raise ValueError(f"TrainConfig.warmup_steps must be a non-negative integer, got {self.warmup_steps!r}")
        for name in ("lr", "grad_clip", "sigma_bins", "density_max_per_um2", "density_min_per_um2"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"TrainConfig.{name} must be positive and finite, got {value!r}")
        for name in ("photons_range", "background_range_photons"):
            value = getattr(self, name)
            if value is None:
                continue
            try:
                lo, hi = (float(v) for v in value)
            except (TypeError, ValueError):
                raise ValueError(f"TrainConfig.{name} must be a (low, high) pair or None, got {value!r}") from None
            if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo <= hi):
                raise ValueError(f"TrainConfig.{name} must satisfy 0 < low <= high (finite), got {value!r}")
            object.__setattr__(self, name, (lo, hi))
        if not isinstance(self.balance_densities, bool):
            raise TypeError(f"TrainConfig.balance_densities must be a bool, got {self.balance_densities!r}")
        if not self.density_min_per_um2 <= self.density_max_per_um2:
            raise ValueError("TrainConfig.density_min_per_um2 must not exceed density_max_per_um2")
        for name in ("photon_loss_weight", "blob_loss_weight"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"TrainConfig.{name} must be finite and >= 0, got {value!r}")

    @property
    def signal(self) -> SignalLevel:
        """The :class:`SignalLevel` of ``snr``."""
        return signal_level(self.snr)

    @property
    def photon_scale(self) -> float:
        """Photons of a typical bright emitter: the preset's, or the top of ``photons_range``."""
        return self.signal.photons if self.photons_range is None else self.photons_range[1]

    def model_config(self) -> ModelConfig:
        """Network config: the preset with its input scale a tenth of :attr:`photon_scale`."""
        return model_config(self.preset, input_scale_photons=0.1 * self.photon_scale, head=self.head)

    def target_spec(self) -> HeadSpec:
        """Output grid of this run's head (photon channel scaled by :attr:`photon_scale`)."""
        return head_spec(self.head, field=self.field, photon_scale=self.photon_scale, sigma_bins=self.sigma_bins)

    def to_dict(self) -> dict[str, Any]:
        """Plain-python form (checkpoints, JSON provenance)."""
        ranges = {k: list(v) if v is not None else None for k in ("photons_range", "background_range_photons")
                  for v in [getattr(self, k)]}
        return {**asdict(self), **ranges, "field": asdict(self.field), "psf": asdict(self.psf), "camera": asdict(self.camera)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        """Inverse of :meth:`to_dict` (checkpoints older than ``balance_densities`` get False, older
        than heads the grid head, older than the PSF centre drift a PSF centred on its emitter)."""
        data = {"balance_densities": False, "head": "grid", **data}
        psf = {"drift_z_nm": (), "drift_x_nm": (), "drift_y_nm": (), **data["psf"]}
        return cls(**{**data, "field": Field(**data["field"]), "psf": AstigmaticPSF(**psf),
                      "camera": EMCCD(**data["camera"])})


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


# -- devices -------------------------------------------------------------------------------------
def select_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` if given (validated), else the best available: cuda, then mps, then cpu.

    Raises
    ------
    ValueError
        If the requested device is unknown or not available here.
    """
    if device is None or device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"unknown device {device!r}; use cpu, cuda, cuda:N, mps or auto") from None
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available on this machine")
    if chosen.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError(f"device {device!r} requested but MPS is not available on this machine")
    return chosen


# -- data ----------------------------------------------------------------------------------------
def training_counts(config: TrainConfig, n_frames: int, rng: np.random.Generator) -> np.ndarray:
    """Emitters per training frame: Poisson with mean ``density * area``, the density of each
    frame log-uniform in ``[density_min_per_um2, density_max_per_um2]`` (int64, shape (n_frames,))."""
    log_lo, log_hi = np.log(config.density_min_per_um2), np.log(config.density_max_per_um2)
    density = np.exp(rng.uniform(log_lo, log_hi, size=n_frames))
    return rng.poisson(density * config.field.area_um2).astype(np.int64)


def simulate_batch(
    config: TrainConfig, n_frames: int, seed: list[int] | int, device: torch.device | str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor, Emitters]:
    """One training (or validation) batch, simulated on ``device``.

    Parameters
    ----------
    config : TrainConfig
        Sampler, signal level, density range, PSF, camera and field.
    n_frames : int
        Frames in the batch.
    seed : int or list of int
        Seed (sequence) of ``numpy.random.default_rng``; the torch noise generator is seeded from it.
    device : torch.device or str
        Where frames and targets are made.

    Returns
    -------
    frames : torch.Tensor, shape (n_frames, H, W)
        Frames in photon units (``camera.to_photons`` of the ADU frames), float32.
    targets : torch.Tensor
        The head's targets (:func:`structloc.heads.encode_batch`): grids (n_frames, 3, H * up,
        W * up) for the grid head, the padded truth (n_frames, E_max, 5) for the mixture head.
    emitters : Emitters
        The ground truth.
    """
    device = torch.device(device)
    rng = np.random.default_rng(seed)
    counts = training_counts(config, n_frames, rng)
    emitters = _sampler(config).sample(counts, rng, config.signal)
    generator = torch.Generator(device=device)
    generator.manual_seed(int(rng.integers(2**62)))
    if config.photons_range is None and config.background_range_photons is None:
        adu = simulate_frames(emitters, n_frames, snr=config.signal, psf=config.psf, camera=config.camera,
                              field=config.field, generator=generator, device=device)
    else:
        emitters, background = _signal_ranges(config, emitters, n_frames, rng)
        expected = simulate_expected(emitters, n_frames, field=config.field, psf=config.psf, device=device)
        adu = config.camera.expose(expected + torch.as_tensor(background, dtype=expected.dtype,
                                                              device=device).view(-1, 1, 1), generator)
    frames = config.camera.to_photons(adu).float()
    targets = encode_batch(emitters, n_frames, config.target_spec(), device=device)
    return frames, targets, emitters


def _log_uniform(bounds: tuple[float, float], n: int, rng: np.random.Generator) -> np.ndarray:
    return np.exp(rng.uniform(np.log(bounds[0]), np.log(bounds[1]), size=n))


def _signal_ranges(config: TrainConfig, emitters: Emitters, n_frames: int,
                   rng: np.random.Generator) -> tuple[Emitters, np.ndarray]:
    """Per-frame photons (emitters rescaled) and background drawn from the config's ranges."""
    photons = emitters.photons
    if config.photons_range is not None:
        level = _log_uniform(config.photons_range, n_frames, rng)
        photons = photons * (level / config.signal.photons)[emitters.frame]
    background = (np.full(n_frames, config.signal.background) if config.background_range_photons is None
                  else _log_uniform(config.background_range_photons, n_frames, rng))
    scaled = Emitters(emitters.frame, emitters.x_nm, emitters.y_nm, emitters.z_nm, photons)
    return scaled, background


def _sampler(config: TrainConfig):
    return sampler_from_name(config.sampler, field=config.field)


def target_loss(output: torch.Tensor, targets: torch.Tensor, photon_weight: float,
                upsample: int = 4, blob_weight: float = 0.0,
                frame_weights: torch.Tensor | None = None) -> torch.Tensor:
    """Weighted squared error summed over the grid, per camera pixel and frame (see module docs).

    Each bin's error is weighted by ``1 + blob_weight * A`` (``A`` the target amplitude), which
    stresses the bins around emitters over the empty background. ``frame_weights`` (shape (B,),
    optional) scales each frame's summed error (see :func:`frame_weights`).
    """
    weights = torch.tensor([1.0, 1.0, photon_weight], device=output.device, dtype=torch.float32)
    err = (output.float() - targets) ** 2 * weights.view(1, -1, 1, 1)
    if blob_weight:
        err = err * (1.0 + blob_weight * torch.sqrt(targets[:, 0] ** 2 + targets[:, 1] ** 2)).unsqueeze(1)
    per_frame = err.sum(dim=(1, 2, 3))
    if frame_weights is not None:
        if frame_weights.shape != per_frame.shape:
            raise ValueError(f"frame_weights must have shape {tuple(per_frame.shape)}, got {tuple(frame_weights.shape)}")
        per_frame = per_frame * frame_weights.to(per_frame)
    n_bins = output.shape[0] * output.shape[-1] * output.shape[-2]
    return per_frame.sum() / n_bins * upsample**2


def batch_loss(config: TrainConfig, spec: HeadSpec, output: torch.Tensor, targets: torch.Tensor,
               weights: torch.Tensor | None = None) -> torch.Tensor:
    """The training loss of ``config``'s head: :func:`structloc.mixture.mixture_loss` or
    :func:`target_loss` (with the run's photon and blob weights)."""
    if head_name(spec) == "mixture":
        return mixture_loss(output, targets, spec, weights)
    return target_loss(output, targets, config.photon_loss_weight, spec.upsample, config.blob_loss_weight, weights)


def frame_weights(counts: np.ndarray) -> torch.Tensor:
    """Loss weights that make every frame count equally whatever its emitter count.

    A frame's summed squared error grows about linearly with its emitter count, so frame ``f`` is
    weighted ``1 / (1 + n_f)``, normalised to mean 1 over the batch (float32, shape (B,)).
    """
    counts = torch.as_tensor(np.asarray(counts), dtype=torch.float32)
    if counts.ndim != 1 or len(counts) == 0 or bool((counts < 0).any()):
        raise ValueError("counts must be a non-empty 1-d array of non-negative emitter counts")
    w = 1.0 / (1.0 + counts)
    return w / w.mean()


def _loss_weights(config: TrainConfig, truth: Emitters, n_frames: int, device) -> torch.Tensor | None:
    """:func:`frame_weights` of a batch's ground truth with ``balance_densities``, else None."""
    if not config.balance_densities:
        return None
    return frame_weights(np.bincount(truth.frame, minlength=n_frames)).to(device)


# -- validation ----------------------------------------------------------------------------------
@torch.no_grad()
def predict_grid(model: torch.nn.Module, frames: torch.Tensor, batch_size: int = 32) -> torch.Tensor:
    """Network output for photon frames, in eval mode, batched; returned on the frames' device."""
    was_training = model.training
    model.eval()
    outs = [model(frames[k:k + batch_size]).float() for k in range(0, len(frames), batch_size)]
    model.train(was_training)
    return torch.cat(outs) if outs else frames.new_zeros((0,))


def choose_threshold(output: torch.Tensor, truth: Emitters, spec: HeadSpec,
                     grid: tuple[float, ...] = THRESHOLD_GRID, *,
                     n_groups: int = 1) -> tuple[float, dict[str, float]]:
    """Threshold of ``grid`` that maximises the Jaccard index on ``truth``, and its metrics.

    With ``n_groups > 1`` the frames are split into ``n_groups`` groups of (nearly) equal size by
    their true emitter count, and the threshold maximises the mean of the groups' Jaccard indices,
    so that sparse frames weigh as much as dense ones. The returned metrics are always those of
    all frames pooled, at the chosen threshold.
    """
    if isinstance(n_groups, bool) or not isinstance(n_groups, int) or n_groups < 1:
        raise ValueError(f"n_groups must be a positive integer, got {n_groups!r}")
    n_frames = output.shape[0]
    candidates = decode_output(output, spec, float(min(grid)))
    counts = np.bincount(truth.frame, minlength=n_frames)[:n_frames]
    order = np.argsort(counts, kind="stable")
    groups = [g for g in np.array_split(order, min(n_groups, max(n_frames, 1))) if len(g)]
    group_of = np.zeros(n_frames, dtype=np.int64)  # frame -> group, split once for all thresholds
    for k, g in enumerate(groups):
        group_of[g] = k
    split = [(truth.take(group_of[truth.frame] == k), candidates.take(group_of[candidates.frame] == k))
             for k in range(len(groups))] if len(groups) > 1 else []
    best: tuple[float, float, dict[str, float]] | None = None
    for threshold in grid:
        metrics = evaluate(truth, candidates.take(candidates.score > threshold)).to_dict()
        if split:
            objective = float(np.nanmean([evaluate(t, c.take(c.score > threshold)).jaccard for t, c in split]))
        else:
            objective = metrics["jaccard"]
        if best is None or objective > best[1]:
            best = (float(threshold), objective, metrics)
    assert best is not None
    return best[0], best[2]


# -- the loop ------------------------------------------------------------------------------------
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


def _amp(device: torch.device) -> tuple[torch.dtype | None, torch.amp.GradScaler | None]:
    """Autocast dtype and grad scaler: bf16 (no scaler) or fp16 + GradScaler on CUDA; none elsewhere."""
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

    git_commit = _git_commit()  # the code that runs, recorded before training starts
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    if out is not None:
        check_output_path(out)  # a directory or a missing folder is refused before training starts
    rank, world, local_rank = _distributed()
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if (device is None or str(device).startswith("cuda")) and torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    device = select_device(device)
    if world > 1 and device.type == "cuda" and device.index is None:
        device = torch.device("cuda", local_rank)  # one GPU per process
    if device.type == "cuda":
        torch.cuda.set_device(device)

    torch.manual_seed(config.seed)
    model = LocNet(config.model_config()).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=1e-4)
    amp_dtype, scaler = _amp(device)
    step, elapsed_s, history, threshold = 0, 0.0, [], 0.5
    out = Path(out) if out is not None else None
    if out is not None and resume and out.exists():
        saved = load_checkpoint(out, map_location=device)
        differences = _run_differences(saved["config"], config)
        if differences:
            raise ValueError(f"{out} holds a checkpoint of a different training run "
                             f"(it differs in {', '.join(differences)}); "
                             "pass resume=False (CLI: --restart) to overwrite it or choose another --out")
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        if scaler is not None and saved.get("scaler"):
            scaler.load_state_dict(saved["scaler"])
        step, elapsed_s = int(saved["step"]), float(saved["elapsed_s"])
        history, threshold = list(saved["history"]), float(saved["threshold"])
        torch.set_rng_state(saved["torch_rng"])
    net: torch.nn.Module = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None)

    spec = config.target_spec()
    val = None
    if rank == 0:
        val = simulate_batch(config, config.n_val_frames, [config.seed, 2**31 - 1, 0], device)

    def finished() -> bool:
        done = (config.max_steps is not None and step >= config.max_steps) or \
               (config.minutes is not None and elapsed_s >= 60.0 * config.minutes)
        if world > 1:  # every rank stops at the same step
            flag = torch.tensor([float(done)], device=device)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            done = bool(flag.item())
        return done

    def checkpoint_payload() -> dict[str, Any]:
        return {
            "config": config.to_dict(), "model_config": model.config.to_dict(),
            "model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "scaler": scaler.state_dict() if scaler is not None else {},
            "torch_rng": torch.get_rng_state(), "step": step, "elapsed_s": elapsed_s,
            "history": history, "threshold": threshold, "device": str(device), "world_size": world,
            "n_parameters": count_parameters(model), "git_commit": git_commit,
        }

    pending = sorted(float(m) for m in snapshot_minutes if 60.0 * float(m) > elapsed_s)
    if pending and out is None:
        raise ValueError("snapshot_minutes needs an output checkpoint path")
    bar = tqdm(total=config.max_steps, initial=step, disable=not progress or rank != 0,
               desc=f"train {config.sampler}/{config.snr}/{config.preset}", unit="step")
    epoch_losses: list[float] = []
    model.train()
    tick = time.perf_counter()
    while not finished():
        frames, targets, truth = simulate_batch(config, config.batch_size, [config.seed, rank, step], device)
        weights = _loss_weights(config, truth, config.batch_size, device)
        for group in optimizer.param_groups:
            group["lr"] = config.lr * _lr_factor(config, step, elapsed_s)
        with torch.autocast(device.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None):
            output = net(frames)
        loss = batch_loss(config, spec, output, targets, weights)
        if not torch.isfinite(loss):
            bar.close()
            raise FloatingPointError(
                f"training loss became {loss.item()} at step {step} ({config.sampler}/{config.snr}); "
                "the network diverged or its weights are corrupted: lower the learning rate "
                f"(now {config.lr}) or resume from an earlier checkpoint")
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
        step += 1
        epoch_losses.append(float(loss.detach()))
        now = time.perf_counter()
        elapsed_s, tick = elapsed_s + (now - tick), now
        bar.update(1)
        bar.set_postfix(loss=f"{epoch_losses[-1]:.4f}", refresh=False)
        end = finished()
        snapshot = bool(pending) and elapsed_s >= 60.0 * pending[0]
        if step % config.steps_per_epoch == 0 or end or snapshot:
            if rank == 0:
                threshold, record = _validate(model, val, spec, config, step, epoch_losses, elapsed_s, world)
                history.append(record)
                bar.set_postfix(loss=f"{record['train_loss']:.4f}", ji=f"{record['jaccard']:.3f}",
                                rmse=f"{record['rmse_vol_nm']:.1f}")
                if out is not None:
                    save_checkpoint(out, checkpoint_payload())
                while snapshot and pending and elapsed_s >= 60.0 * pending[0]:
                    save_checkpoint(snapshot_path(out, pending.pop(0)), checkpoint_payload())
            if world > 1:
                dist.barrier()
            epoch_losses = []
            now = time.perf_counter()
            elapsed_s, tick = elapsed_s + (now - tick), now
            if end:
                break
    bar.close()
    model.eval()
    return TrainResult(model=model, config=config, threshold=threshold, history=history,
                       checkpoint=out, step=step, wall_s=elapsed_s, device=str(device),
                       extra={"world_size": world, "rank": rank, "git_commit": git_commit})


def snapshot_path(out: str | os.PathLike, minutes: float) -> Path:
    """Where :func:`train` keeps the snapshot of ``out`` taken at ``minutes`` of wall time."""
    out = Path(out)
    return out.with_name(f"{out.stem}.at{minutes:g}min{out.suffix}")


def _validate(model, val, spec, config, step, losses, elapsed_s, world) -> tuple[float, dict[str, Any]]:
    frames, targets, truth = val
    output = predict_grid(model, frames)
    weights = _loss_weights(config, truth, len(frames), output.device)
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


# -- provenance and the command line ---------------------------------------------------------------
def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10,
                             cwd=Path(__file__).resolve().parent)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def provenance(result: TrainResult, command: list[str] | None = None) -> dict[str, Any]:
    """JSON-ready record of how a model was made (command, commit, device, time, seed, metrics)."""
    final = result.history[-1] if result.history else {}
    return {
        "command": " ".join(command if command is not None else ["structloc"] + sys.argv[1:]),
        "git_commit": result.extra.get("git_commit", "unknown"), "structloc_version": __version__,
        "torch_version": torch.__version__,
        "device": result.device, "world_size": result.extra.get("world_size", 1),
        "torch_threads": torch.get_num_threads(), "wall_time_s": round(result.wall_s, 1),
        "steps": result.step, "frames_seen": final.get("frames_seen", 0), "seed": result.config.seed,
        "sampler": result.config.sampler, "snr": result.config.snr, "preset": result.config.preset,
        "n_parameters": count_parameters(result.model), "threshold": result.threshold,
        "final_validation": {k: final.get(k) for k in
                             ("jaccard", "rmse_lat_nm", "rmse_ax_nm", "rmse_vol_nm", "efficiency_3d", "val_loss")},
        "config": result.config.to_dict(),
    }


def add_train_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Options of ``structloc train`` (see :func:`cli_train`)."""
    parser.add_argument("--sampler", required=True, choices=_TRAIN_SAMPLERS, help="how training emitters are placed")
    parser.add_argument("--snr", required=True, choices=sorted(SNR_PRESETS), help="signal level")
    parser.add_argument("--preset", default="fast", choices=sorted(PRESETS), help="network size")
    parser.add_argument("--head", default=HEADS[0], choices=HEADS,
                        help="output head: per-bin probabilities with a mixture loss (default) or the paper's "
                             "blob grid")
    parser.add_argument("--minutes", type=float, default=None, help="wall-time budget in minutes (default 10 "
                        "unless --steps is given)")
    parser.add_argument("--steps", type=int, default=None, help="step budget")
    parser.add_argument("--seed", type=int, default=0, help="seed of initialisation, batches and validation set")
    parser.add_argument("--batch-size", type=int, default=16, help="frames per step (per process)")
    parser.add_argument("--steps-per-epoch", type=int, default=100,
                        help="steps between validations and checkpoints")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:N, mps or auto (default)")
    parser.add_argument("--photons-range", type=float, nargs=2, default=None, metavar=("LOW", "HIGH"),
                        help="draw each frame's photons per emitter log-uniformly from this range "
                             "(default: the --snr preset's)")
    parser.add_argument("--background-range", type=float, nargs=2, default=None, metavar=("LOW", "HIGH"),
                        help="draw each frame's background (photons/pixel) log-uniformly from this range "
                             "(default: the --snr preset's)")
    parser.add_argument("--psf-drift", default="bead", choices=("bead", "none"),
                        help="PSF centre drift of the training frames: the drift fitted to the bead stack "
                             "(default) or none (the image centred on its emitter, as models trained before "
                             "the drift existed; needed to resume them)")
    parser.add_argument("--unbalanced", action="store_true",
                        help="weight frames by their error as is, so dense frames dominate (the recipe of "
                             "models trained before balance_densities existed)")
    parser.add_argument("--snapshots", default="",
                        help="comma-separated wall-time points in minutes at which to keep a copy of the "
                             "checkpoint (MODEL.at{m}min.pt), for convergence curves")
    parser.add_argument("--restart", action="store_true", help="ignore an existing --out checkpoint instead of resuming")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--out", required=True, help="checkpoint MODEL.pt (MODEL.json gets the provenance)")
    return parser


def cli_train(args: argparse.Namespace) -> int:
    """``structloc train``: train, write MODEL.pt and MODEL.json; resumes an interrupted MODEL.pt."""
    minutes = args.minutes if (args.minutes is not None or args.steps is not None) else 10.0
    config = TrainConfig(sampler=args.sampler, snr=args.snr, preset=args.preset, head=args.head, seed=args.seed,
                         batch_size=args.batch_size, max_steps=args.steps, minutes=minutes,
                         steps_per_epoch=args.steps_per_epoch, balance_densities=not args.unbalanced,
                         photons_range=args.photons_range, background_range_photons=args.background_range,
                         psf=AstigmaticPSF() if args.psf_drift == "bead" else AstigmaticPSF().without_drift())
    out = check_output_path(args.out)
    check_output_path(out.with_suffix(".json"))  # the provenance, written after training
    try:
        snapshots = tuple(float(m) for m in args.snapshots.split(",") if m.strip())
    except ValueError:
        raise ValueError(f"--snapshots must be comma-separated minutes, got {args.snapshots!r}") from None
    result = train(config, out, device=args.device, resume=not args.restart, progress=not args.no_progress,
                   snapshot_minutes=snapshots)
    if result.extra.get("rank", 0) == 0:
        record = provenance(result)
        atomic_write(out.with_suffix(".json"),
                     lambda tmp: tmp.write_text(json.dumps(record, indent=2, default=float) + "\n"))
        final = record["final_validation"]
        print(f"wrote {out} and {out.with_suffix('.json')}: {result.step} steps in {result.wall_s:.0f} s on "
              f"{result.device}; validation JI {final['jaccard']:.3f}, RMSE_vol {final['rmse_vol_nm']:.1f} nm "
              f"at threshold {result.threshold}")
    if dist.is_initialized():
        dist.destroy_process_group()
    return 0
