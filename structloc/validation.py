"""Validation of a network during training: its output on fixed frames and the detection threshold."""

from __future__ import annotations

import numpy as np
import torch

from .checks import integer_at_least
from .emitters import Emitters
from .evaluate import evaluate
from .heads import HeadSpec, decode_output

__all__ = ["THRESHOLD_GRID", "predict_grid", "choose_threshold", "rechoose_threshold"]

#: Detection thresholds (peak amplitude) tried on the validation set.
THRESHOLD_GRID = tuple(np.round(np.arange(0.05, 1.501, 0.05), 3))


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
    integer_at_least("n_groups", n_groups)
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


def rechoose_threshold(checkpoint: "Checkpoint") -> tuple[float, dict[str, float]]:
    """The threshold a finished training would choose with the decoder of this structloc.

    Rebuilds the run's own fixed validation set (:func:`structloc.batches.validation_batch`, seeded
    by the checkpoint's config), runs the checkpoint's network on it on the CPU and calls
    :func:`choose_threshold` as training does at every validation (frames grouped by emitter count
    when the run balanced densities). Used when the decoder changes after a model was trained:
    the weights stay, the threshold and the validation metrics are chosen anew.

    Parameters
    ----------
    checkpoint : structloc.checkpoint.Checkpoint
        A loaded checkpoint (:meth:`Checkpoint.load`).

    Returns
    -------
    threshold : float
        The chosen detection threshold (a value of :data:`THRESHOLD_GRID`).
    metrics : dict
        Validation metrics of all frames pooled at that threshold (``jaccard``, ``rmse_*_nm``...).
    """
    from .batches import validation_batch  # simulation code, only needed here

    config = checkpoint.config
    frames, _, truth = validation_batch(config, "cpu")
    spec = config.target_spec()
    output = predict_grid(checkpoint.network(), frames)
    return choose_threshold(output, truth, spec, n_groups=4 if config.balance_densities else 1)
