"""Model checkpoints: atomic save, validated load, format and package versions.

A checkpoint is a ``torch.save`` dict of plain python values and tensors only (so it loads with
``weights_only=True``), with at least the keys in :data:`REQUIRED_KEYS`:

``format_version`` (int), ``structloc_version`` (str), ``config`` (the training config as a dict,
including the model config, sampler, SNR, seed, field and PSF), ``model`` (state dict),
``threshold`` (the detection threshold chosen on validation data), ``history`` (per-epoch loss,
validation metrics and wall time) and ``step``. Training checkpoints add optimiser, grad-scaler
and RNG states for exact resume.

:class:`Checkpoint` is the typed view of a loaded file (training config, network, threshold,
history, budget) that the book and the study read instead of the raw keys.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from . import __version__
from .io import atomic_write
from .model import LocNet, ModelConfig
from .train_config import TrainConfig

__all__ = ["FORMAT_VERSION", "REQUIRED_KEYS", "save_checkpoint", "load_checkpoint", "CheckpointError",
           "Checkpoint"]

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


@dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint, typed: what a network was trained on, how long, and how it validated.

    Parameters
    ----------
    path : Path
        The file it was read from.
    config : TrainConfig
        The training run (sampler, signal level, head, preset, seed, field, PSF, camera...).
    model_config : ModelConfig
        The network's architecture.
    state : dict
        The network's weights (a state dict; not part of the repr or of equality).
    threshold : float
        Detection threshold chosen on validation data at the end of training.
    step : int
        Optimiser steps taken.
    history : tuple of dict
        One record per validation: ``step``, ``frames_seen``, ``train_loss``, ``val_loss``,
        ``wall_s`` (s) and the validation metrics (``jaccard``, ``rmse_*_nm``, ...).
    elapsed_s : float or None
        Training wall time in seconds (None in checkpoints that did not record it).
    device : str or None
        Device it was trained on (``"cpu"``, ``"cuda"``...), None when not recorded.
    n_parameters : int or None
        Trainable parameters of the network, None when not recorded.
    """

    path: Path
    config: TrainConfig
    model_config: ModelConfig
    state: dict[str, Any] = field(repr=False, compare=False)
    threshold: float = 0.0
    step: int = 0
    history: tuple[dict[str, Any], ...] = ()
    elapsed_s: float | None = None
    device: str | None = None
    n_parameters: int | None = None

    @classmethod
    def load(cls, path: str | os.PathLike, map_location: str | torch.device = "cpu") -> "Checkpoint":
        """Read and validate ``path`` (:func:`load_checkpoint`) and type its fields.

        Raises
        ------
        FileNotFoundError
            If ``path`` does not exist.
        CheckpointError (a ValueError)
            If it is not a structloc checkpoint, or its config does not describe a network this
            structloc can build.
        """
        data = load_checkpoint(path, map_location=map_location)
        try:
            config = TrainConfig.from_dict(data["config"])
            model_config = ModelConfig.from_dict(data["model_config"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{path}: checkpoint does not match this structloc's model ({exc})") from None
        elapsed = data.get("elapsed_s")
        n_parameters = data.get("n_parameters")
        return cls(path=Path(path), config=config, model_config=model_config, state=data["model"],
                   threshold=float(data["threshold"]), step=int(data["step"]),
                   history=tuple(dict(record) for record in data["history"]),
                   elapsed_s=None if elapsed is None else float(elapsed), device=data.get("device"),
                   n_parameters=None if n_parameters is None else int(n_parameters))

    def network(self) -> LocNet:
        """The trained network, built from :attr:`model_config` with the stored weights, in eval mode.

        Raises
        ------
        CheckpointError
            If the stored weights do not fit the architecture.
        """
        model = LocNet(self.model_config)
        try:
            model.load_state_dict(self.state)
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[0]
            raise CheckpointError(f"{self.path}: weights do not fit the stored architecture ({first})") from None
        return model.eval()

    @property
    def last_validation(self) -> dict[str, Any]:
        """The last validation record of :attr:`history` (empty when training never validated)."""
        return dict(self.history[-1]) if self.history else {}

    @property
    def frames_seen(self) -> int:
        """Training frames seen up to the last validation (0 when it never validated)."""
        return int(self.last_validation.get("frames_seen", 0))

    def summary(self) -> dict[str, Any]:
        """One table row: the model's name, training recipe and budget, and its last validation."""
        last = self.last_validation
        return {
            "model": self.path.stem,
            "sampler": self.config.sampler,
            "snr": self.config.snr,
            "preset": self.config.preset,
            "head": self.config.head,
            "parameters": self.n_parameters,
            "steps": self.step,
            "training frames": self.frames_seen,
            "wall time (s)": None if self.elapsed_s is None else round(self.elapsed_s),
            "device": self.device,
            "threshold": self.threshold,
            "validation JI": None if "jaccard" not in last else round(float(last["jaccard"]), 3),
        }
