"""Paths of the reference data shipped inside the package (SMLM Challenge 2016, see data/README.md)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["DATA_DIR", "mt0_activations_path", "bead_zstack_path", "bead_positions_path",
           "BEAD_Z_START_NM", "BEAD_Z_STEP_NM", "BEAD_PHOTONS"]

DATA_DIR = Path(__file__).resolve().parent / "data"

#: Axial position of the first bead z-stack frame and the step between frames, in nm.
BEAD_Z_START_NM = -750.0
BEAD_Z_STEP_NM = 10.0
#: Photons each bead emits per frame in the challenge simulation.
BEAD_PHOTONS = 30000.0


def mt0_activations_path(kind: str = "LD") -> Path:
    """Path of the MT0 ground-truth activations CSV, ``kind`` "LD" (low) or "HD" (high density)."""
    kind = str(kind).upper()
    if kind not in ("LD", "HD"):
        raise ValueError(f"MT0 data set must be 'LD' or 'HD', got {kind!r}")
    return DATA_DIR / "mt0" / f"MT0.N1.{kind}_activations.csv"


def bead_zstack_path() -> Path:
    """Path of the astigmatic bead z-stack TIFF (151 x 150 x 150, uint16, ZYX)."""
    return DATA_DIR / "beads" / "AS-Exp_beads_zstack.tif"


def bead_positions_path() -> Path:
    """Path of the CSV with the six beads' true lateral positions in nm."""
    return DATA_DIR / "beads" / "AS-Exp_beads_positions.csv"
