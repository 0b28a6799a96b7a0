"""Provenance: which code made a result (git commit, versions) and how a model was trained."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from . import __version__
from .model import count_parameters

if TYPE_CHECKING:
    from .train import TrainResult

__all__ = ["git_commit", "training_provenance"]

#: The validation metrics a training record reports.
_FINAL_KEYS = ("jaccard", "rmse_lat_nm", "rmse_ax_nm", "rmse_vol_nm", "efficiency_3d", "val_loss")


def git_commit() -> str:
    """The commit of the structloc source that runs (``"unknown"`` outside a git checkout)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10,
                             cwd=Path(__file__).resolve().parent)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def training_provenance(result: TrainResult, command: list[str] | None = None) -> dict[str, Any]:
    """JSON-ready record of how a model was made (command, commit, device, time, seed, metrics).

    Parameters
    ----------
    result : structloc.train.TrainResult
        The finished training run.
    command : list of str, optional
        The command line (default: ``structloc`` and this process's arguments).
    """
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
        "final_validation": {k: final.get(k) for k in _FINAL_KEYS},
        "config": result.config.to_dict(),
    }
