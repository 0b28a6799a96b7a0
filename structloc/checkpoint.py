"""Model checkpoints: atomic save, validated load, format and package versions.

A checkpoint is a ``torch.save`` dict of plain python values and tensors only (so it loads with
``weights_only=True``), with at least the keys in :data:`REQUIRED_KEYS`:

``format_version`` (int), ``structloc_version`` (str), ``config`` (the training config as a dict,
including the model config, sampler, SNR, seed, field and PSF), ``model`` (state dict),
``threshold`` (the detection threshold chosen on validation data), ``history`` (per-epoch loss,
validation metrics and wall time) and ``step``. Training checkpoints add optimiser, grad-scaler
and RNG states for exact resume.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from . import __version__
from .io import atomic_write

__all__ = ["FORMAT_VERSION", "REQUIRED_KEYS", "save_checkpoint", "load_checkpoint", "CheckpointError"]

#: Bumped whenever the checkpoint layout or the meaning of its fields changes.
FORMAT_VERSION = 1
REQUIRED_KEYS = ("format_version", "structloc_version", "config", "model", "threshold", "history", "step")


class CheckpointError(ValueError):
    """A file that is not a usable structloc checkpoint (corrupted, foreign or incompatible)."""


def save_checkpoint(path: str | os.PathLike, payload: dict[str, Any]) -> Path:
    """Write ``payload`` atomically (temporary file, then ``os.replace``) with version fields added.

    Returns
    -------
    Path
        The written path.
    """
    missing = [k for k in REQUIRED_KEYS if k not in payload and k not in ("format_version", "structloc_version")]
    if missing:
        raise ValueError(f"checkpoint payload is missing keys {missing}")
    data = {**payload, "format_version": FORMAT_VERSION, "structloc_version": __version__}
    return atomic_write(path, lambda tmp: torch.save(data, tmp))


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load and validate a checkpoint written by :func:`save_checkpoint`.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    CheckpointError (a ValueError)
        If the file is not a torch checkpoint, is corrupted, lacks required keys, or has another
        ``format_version`` than this structloc understands.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such model checkpoint: {path}")
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except Exception:  # torch raises many kinds (unpickling, zip, EOF) for corrupted or foreign files
        raise CheckpointError(f"{path} is not a structloc checkpoint (not a readable torch file of "
                              "tensors and plain values; corrupted or another format)") from None
    if not isinstance(data, dict) or "format_version" not in data:
        raise CheckpointError(f"{path} is not a structloc checkpoint (a torch file, but without "
                              "structloc's format_version field)")
    if data["format_version"] != FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format {data['format_version']!r} (written by structloc "
            f"{data.get('structloc_version', '?')}), but this structloc {__version__} reads format "
            f"{FORMAT_VERSION}; retrain the model or use a matching structloc version")
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise CheckpointError(f"{path} is an incomplete structloc checkpoint: missing {missing}")
    return data
