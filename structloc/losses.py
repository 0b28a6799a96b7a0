"""Training losses: the head's loss of a batch and the per-frame weights that balance densities."""

from __future__ import annotations

import numpy as np
import torch

from .emitters import Emitters
from .heads import HeadSpec, head_name
from .mixture import mixture_loss
from .train_config import TrainConfig

__all__ = ["target_loss", "batch_loss", "frame_weights", "loss_weights"]


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


def loss_weights(config: TrainConfig, truth: Emitters, n_frames: int, device) -> torch.Tensor | None:
    """:func:`frame_weights` of a batch's ground truth with ``balance_densities``, else None."""
    if not config.balance_densities:
        return None
    return frame_weights(np.bincount(truth.frame, minlength=n_frames)).to(device)
