"""The pretrained models shipped inside the package (``structloc/data/models``).

Seven localizers come with structloc: the study's six, one per sampler and signal level
(``csr_high``, ``csr_medium``, ``csr_low``, ``helix_high``, ``helix_medium``, ``helix_low``, on the
PSF centred on its emitter), and ``general`` (helix sampler, the PSF with the bead stack's centre
drift, each training frame's photons and background drawn over ranges that cover the three
levels and real data: the model for a user's own frames). Each is a
checkpoint (:mod:`structloc.checkpoint`, without optimiser state) next to a ``.json`` file with
its provenance (command, commit, device, wall time, validation metrics). They are copied there
from a training directory by ``tools/ship_models.py``. Load one with
``Localizer.pretrained("helix_high")``; they are found after a plain ``pip install``, from any
directory.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["MODELS_DIR", "available", "checkpoint_path", "provenance", "resolve_model"]

#: Where the shipped checkpoints live inside the installed package.
MODELS_DIR: Path = Path(__file__).resolve().parent / "data" / "models"


def available(models_dir: Path = MODELS_DIR) -> list[str]:
    """Names of the shipped models (e.g. ``"helix_high"``), sorted."""
    return sorted(p.stem for p in Path(models_dir).glob("*.pt"))


def checkpoint_path(name: str, models_dir: Path = MODELS_DIR) -> Path:
    """The checkpoint file of the shipped model ``name``.

    Raises
    ------
    ValueError
        If no shipped model has that name (the message lists those that exist).
    """
    names = available(models_dir)
    if name not in names:
        raise ValueError(f"no pretrained model {name!r}; available: {', '.join(names) or 'none'}")
    return Path(models_dir) / f"{name}.pt"


def provenance(name: str, models_dir: Path = MODELS_DIR) -> dict[str, Any]:
    """How the shipped model ``name`` was made (its ``.json``: command, commit, metrics...)."""
    return json.loads(checkpoint_path(name, models_dir).with_suffix(".json").read_text())


def resolve_model(model: str | Path, models_dir: Path = MODELS_DIR) -> Path:
    """The checkpoint a user names: an existing file, else the shipped model of that name.

    Raises
    ------
    FileNotFoundError
        If ``model`` is neither a file nor a shipped model (the message lists those that exist).
    """
    path = Path(model)
    if path.is_file():
        return path
    if str(model) in available(models_dir):
        return Path(models_dir) / f"{model}.pt"
    raise FileNotFoundError(f"no such model checkpoint: {model} (nor a shipped model: "
                            f"{', '.join(available(models_dir)) or 'none'})")
