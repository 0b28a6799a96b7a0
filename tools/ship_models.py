#!/usr/bin/env python
"""Copy trained checkpoints into the package (structloc/data/models), without optimiser state.

``models/`` holds the resumable training checkpoints (with optimiser, grad-scaler and RNG
states) and their ``.json`` provenance. The package ships only what localizing needs, so each
``{csr,helix}_{high,medium,low}.pt`` and ``general.pt`` of SRC_DIR is loaded (validated by
:func:`structloc.checkpoint.load_checkpoint`), stripped of the resume-only states and written
atomically to DEST, with its ``.json`` copied next to it.

Usage::

    python tools/ship_models.py models            # -> structloc/data/models
    python tools/ship_models.py runs/x --dest DIR
    python tools/ship_models.py models --only general
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

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


def ship(src: Path, dest: Path, names: list[str] = NAMES) -> list[Path]:
    """Ship every ``names`` checkpoint of ``src`` to ``dest``; returns the written paths."""
    missing = [n for n in names if not (src / f"{n}.pt").is_file() or not (src / f"{n}.json").is_file()]
    if missing:
        raise FileNotFoundError(f"{src} lacks {', '.join(m + '.pt/.json' for m in missing)}")
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        written.append(save_checkpoint(dest / f"{name}.pt", stripped(load_checkpoint(src / f"{name}.pt"))))
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
    args = parser.parse_args(argv)
    try:
        paths = ship(args.src, args.dest, args.only)
    except (FileNotFoundError, ValueError) as exc:
        print(f"ship_models: {exc}", file=sys.stderr)
        return 2
    for path in paths:
        print(f"{path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
