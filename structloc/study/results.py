"""Files of the study: the results table, the kept localizations and the provenance record."""

from __future__ import annotations

import hashlib
import json
import platform
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from .. import __version__
from ..checkpoint import Checkpoint
from ..emitters import Emitters
from ..io import atomic_path, atomic_write
from ..provenance import git_commit
from .config import StudyConfig
from .runner import model_path

__all__ = ["write_results", "read_results", "write_locs", "read_locs", "locs_path_for", "write_provenance",
           "model_checksums", "model_budgets"]


def write_results(df: pd.DataFrame, path: str | Path) -> Path:
    """Write the results table to CSV atomically (floats with full precision)."""
    missing = [c for c in ("approach", "snr", "nominal_density", "jaccard", "command") if c not in df.columns]
    if missing:
        raise ValueError(f"results table lacks the column(s) {missing}")
    return atomic_write(path, lambda tmp: df.to_csv(tmp, index=False, float_format="%.10g"))


def read_results(path: str | Path) -> pd.DataFrame:
    """Read a results CSV written by :func:`write_results` (a pandas DataFrame)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no results table {path}")
    return pd.read_csv(path)


def write_locs(locs: dict, path: str | Path) -> Path:
    """Write ``{(row, snr): Emitters}`` (e.g. :attr:`structloc.study.StudyRun.locs`) to one CSV (gzip if ``.gz``), atomically.

    Columns: row (csr, helix, truth), snr, frame (from 0), x_nm, y_nm, z_nm (0.1 nm precision).
    An empty table is kept as one row with frame -1 and no position, so it reads back empty.
    """
    if not isinstance(locs, dict):
        raise TypeError(f"locs must be a dict of (row, snr) -> Emitters, got {type(locs).__name__}")
    parts = []
    for (row, snr), table in locs.items():
        if not isinstance(table, Emitters):
            raise TypeError(f"locs[{(row, snr)!r}] must be an Emitters table, got {type(table).__name__}")
        frame = table.to_dataframe()[["frame", "x_nm", "y_nm", "z_nm"]]
        if frame.empty:
            frame = pd.DataFrame({"frame": [-1], "x_nm": [np.nan], "y_nm": [np.nan], "z_nm": [np.nan]})
        parts.append(frame.assign(row=row, snr=snr)[["row", "snr", "frame", "x_nm", "y_nm", "z_nm"]])
    df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["row", "snr", "frame", "x_nm", "y_nm", "z_nm"])
    compression = "gzip" if str(path).endswith(".gz") else None
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, float_format="%.1f", compression=compression)
    return Path(path)


def read_locs(path: str | Path) -> dict:
    """Read :func:`write_locs` output back to ``{(row, snr): Emitters}`` (photons set to 0)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no localization file {path}")
    df = pd.read_csv(path)
    out = {}
    for (row, snr), part in df.groupby(["row", "snr"], sort=False):
        part = part[part["frame"] >= 0]  # an empty table's marker row
        out[(row, snr)] = Emitters(part["frame"].to_numpy(), part["x_nm"].to_numpy(), part["y_nm"].to_numpy(),
                                   part["z_nm"].to_numpy(), np.zeros(len(part)))
    return out


def locs_path_for(results_path: str | Path) -> Path:
    """Where ``structloc study --out`` writes the lowest-density localizations next to a results CSV."""
    results_path = Path(results_path)
    return results_path.with_name(f"{results_path.stem}_lowest_density_locs.csv.gz")


def write_provenance(path: str | Path, config: StudyConfig, *, command: str, wall_s: float,
                     extra: dict[str, Any] | None = None) -> Path:
    """Write a JSON record of how a results table was made (command, commit, device, time)."""
    record = {
        "command": command, "git_commit": git_commit(), "structloc_version": __version__,
        "torch_version": torch.__version__, "device": config.device,
        "gpu_available": bool(torch.cuda.is_available()), "torch_threads": torch.get_num_threads(),
        "machine": platform.platform(), "processor": platform.processor() or platform.machine(),
        "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "wall_time_s": round(wall_s, 1),
        "config": asdict(config), **(extra or {}),
    }
    text = json.dumps(record, indent=2, default=str) + "\n"
    return atomic_write(path, lambda tmp: tmp.write_text(text))


def model_checksums(config: StudyConfig) -> dict[str, str]:
    """SHA-256 of every checkpoint a study config uses, keyed by file name (for provenance)."""
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in _model_paths(config)}


def _model_paths(config: StudyConfig) -> list[Path]:
    """The checkpoints a study config uses that exist, in study order."""
    paths = (model_path(config.models_dir, approach, snr, tseed) for snr in config.snrs
             for approach in config.approaches for tseed in config.training_seeds)
    return [path for path in paths if path.exists()]


def model_budgets(config: StudyConfig) -> dict[str, dict[str, Any]]:
    """The training budget of every checkpoint a study config uses, keyed by file name (for
    provenance): training seed, steps, training frames, wall time (s), device, and whether the
    network ran in bfloat16 on a CPU."""
    budgets = {}
    for path in _model_paths(config):
        ckpt = Checkpoint.load(path)
        budgets[path.name] = {
            "training_seed": ckpt.config.seed, "steps": ckpt.step, "frames_seen": ckpt.frames_seen,
            "wall_time_s": None if ckpt.elapsed_s is None else round(ckpt.elapsed_s, 1),
            "device": ckpt.device, "bf16_on_cpu": ckpt.config.bf16_on_cpu}
    return budgets
