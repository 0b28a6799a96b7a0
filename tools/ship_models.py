#!/usr/bin/env python
"""Copy trained checkpoints into the package (structloc/data/models), without optimiser state.

``models/`` holds the resumable training checkpoints (with optimiser, grad-scaler and RNG
states) and their ``.json`` provenance. The package ships only what localizing needs, so each
``{csr,helix}_{high,medium,low}.pt`` and ``general.pt`` of SRC_DIR is loaded (validated by
:func:`structloc.checkpoint.load_checkpoint`), stripped of the resume-only states and written
atomically to DEST, with its ``.json`` copied next to it. With ``--float16`` the network's
floating-point weights are stored in float16 (half the bytes, for the ``large`` preset's 4.4 M
parameters: 8.7 MB instead of 17 MB); the network is float32 as before once loaded
(``load_state_dict`` casts them back), and the shipped checkpoint says ``weights_dtype: float16``;
a tensor with values beyond float16's range stays float32.

Usage::

    python tools/ship_models.py models            # -> structloc/data/models
    python tools/ship_models.py runs/x --dest DIR
    python tools/ship_models.py models --only general
    python tools/ship_models.py models --only csr_high helix_high --float16
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import torch

from structloc.checkpoint import load_checkpoint, save_checkpoint
from structloc.io import atomic_write

ROOT = Path(__file__).resolve().parents[1]
DEST = ROOT / "structloc" / "data" / "models"
#: The study's six (one per sampler and SNR preset) and ``general`` (trained over signal ranges).
NAMES = [f"{a}_{s}" for a in ("csr", "helix") for s in ("high", "medium", "low")] + ["general"]
#: Keys a checkpoint needs only to resume training.
RESUME_KEYS = ("optimizer", "scaler", "torch_rng")


def stripped(checkpoint: dict) -> dict:
    """The checkpoint without its resume-only states."""
    return {k: v for k, v in checkpoint.items() if k not in RESUME_KEYS}


def in_float16(checkpoint: dict) -> dict:
    """The checkpoint with its network's floating-point tensors stored in float16, marked
    ``weights_dtype: float16``. Integer tensors (batch-norm counters) are kept, and so is, in
    float32, any tensor with a value beyond float16's range (65504), which rounding would turn into
    infinity (a batch-norm running variance of the ``large`` preset is one)."""
    limit = torch.finfo(torch.float16).max
    state = {}
    for key, tensor in checkpoint["model"].items():
        if tensor.is_floating_point() and (tensor.numel() == 0 or float(tensor.abs().max()) <= limit):
            tensor = tensor.to(torch.float16)
        state[key] = tensor
    return {**checkpoint, "model": state, "weights_dtype": "float16"}


def ship(src: Path, dest: Path, names: list[str] = NAMES, float16: bool = False) -> list[Path]:
    """Ship every ``names`` checkpoint of ``src`` to ``dest`` (weights in float16 with ``float16``);
    returns the written paths."""
    missing = [n for n in names if not (src / f"{n}.pt").is_file() or not (src / f"{n}.json").is_file()]
    if missing:
        raise FileNotFoundError(f"{src} lacks {', '.join(m + '.pt/.json' for m in missing)}")
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        checkpoint = stripped(load_checkpoint(src / f"{name}.pt"))
        written.append(save_checkpoint(dest / f"{name}.pt", in_float16(checkpoint) if float16 else checkpoint))
        atomic_write(dest / f"{name}.json", lambda tmp, n=name: shutil.copyfile(src / f"{n}.json", tmp))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path, help="training directory with {csr,helix}_{snr}.pt, general.pt and their .json")
    parser.add_argument("--dest", type=Path, default=DEST, help=f"default: {DEST.relative_to(ROOT)}")
    parser.add_argument("--only", nargs="+", choices=NAMES, default=NAMES, metavar="NAME",
                        help="ship only these models (the others keep their bytes: a rewritten checkpoint "
                             "differs in bytes even with the same content, and the study's provenance "
                             "records the sha256 of the models it ran on)")
    parser.add_argument("--float16", action="store_true",
                        help="store the weights in float16 (half the bytes; loaded back as float32)")
    args = parser.parse_args(argv)
    try:
        paths = ship(args.src, args.dest, args.only, args.float16)
    except (FileNotFoundError, ValueError) as exc:
        print(f"ship_models: {exc}", file=sys.stderr)
        return 2
    for path in paths:
        print(f"{path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
