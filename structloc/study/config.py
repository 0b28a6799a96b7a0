"""What the study runs: its signal levels, approaches and test sets, and their checks."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..checks import integer_at_least
from ..snr import SNR_PRESETS

__all__ = ["APPROACHES", "CHALLENGE_SETS", "STUDY_NOMINAL_DENSITIES", "QUICK_NOMINAL_DENSITIES", "StudyConfig",
           "check_snr", "check_approach", "check_target", "target_label"]

#: The two training regimes compared.
APPROACHES: tuple[str, ...] = ("csr", "helix")
#: The SMLM Challenge 2016 MT0 activation tables used as extra test sets.
CHALLENGE_SETS: tuple[str, ...] = ("LD", "HD")
#: Target nominal densities (per um^2): 0.38 to 13, nine points log-spaced, 2 significant digits.
STUDY_NOMINAL_DENSITIES: tuple[float, ...] = (0.38, 0.59, 0.92, 1.4, 2.2, 3.5, 5.4, 8.4, 13.0)
#: The reduced grid of quick mode.
QUICK_NOMINAL_DENSITIES: tuple[float, ...] = (0.38, 2.2, 13.0)


def check_snr(snr: str) -> str:
    """``snr`` if it names a signal level of :data:`structloc.snr.SNR_PRESETS`."""
    if snr not in SNR_PRESETS:
        raise ValueError(f"unknown SNR {snr!r}; choose one of {sorted(SNR_PRESETS)}")
    return snr


def check_approach(approach: str) -> str:
    """``approach`` if it is one of :data:`APPROACHES`."""
    if approach not in APPROACHES:
        raise ValueError(f"unknown approach {approach!r}; choose one of {list(APPROACHES)}")
    return approach


def check_target(target: float | str) -> float | str:
    """A target nominal density (finite, > 0, per um^2) or a challenge set name."""
    if isinstance(target, str):
        if target.upper() in CHALLENGE_SETS:
            return target.upper()
        try:
            target = float(target)
        except ValueError:
            raise ValueError(f"test set {target!r} is neither a nominal density nor one of "
                             f"{list(CHALLENGE_SETS)}") from None
    if isinstance(target, bool) or not isinstance(target, (int, float, np.floating, np.integer)):
        raise TypeError(f"nominal density must be a number, got {type(target).__name__}")
    if not (math.isfinite(target) and target > 0):
        raise ValueError(f"nominal density must be finite and > 0 per um^2, got {target!r}")
    return float(target)


@dataclass(frozen=True)
class StudyConfig:
    """What the study runs.

    Parameters
    ----------
    snrs : tuple of str
        Signal levels (keys of :data:`structloc.snr.SNR_PRESETS`).
    approaches : tuple of str
        Training regimes (``"csr"``, ``"helix"``).
    nominal_densities : tuple of float
        Target nominal densities in emitters per um^2 (> 0).
    challenge_sets : tuple of str
        Challenge activation tables evaluated as extra test sets (``"LD"``, ``"HD"``).
    n_frames : int
        Test frames per point (>= 1).
    seed : int
        Seed of the test sets and bootstrap (each point derives its own from it, the SNR and the
        test set, so a single point is reproducible on its own).
    training_seeds : tuple of int or None
        Training seeds of the models; ``None`` uses the shipped ``{approach}_{snr}.pt``, an
        integer ``s`` the file ``{approach}_{snr}_seed{s}.pt``.
    models_dir : str or None
        Directory of the checkpoints; ``None`` (the default) uses the models shipped inside the
        package (:data:`structloc.pretrained.MODELS_DIR`).
    n_boot : int
        Bootstrap replicates (>= 1).
    confidence : float
        Two-sided confidence level of the intervals, in (0, 1).
    device : str
        Torch device for simulation and inference.
    calibration_frames : int
        MT0 frames per grid point of the count-to-nominal density calibration.
    """

    snrs: tuple[str, ...] = ("high", "medium", "low")
    approaches: tuple[str, ...] = APPROACHES
    nominal_densities: tuple[float, ...] = STUDY_NOMINAL_DENSITIES
    challenge_sets: tuple[str, ...] = CHALLENGE_SETS
    n_frames: int = 200
    seed: int = 7
    training_seeds: tuple[int | None, ...] = (None,)
    models_dir: str | None = None
    n_boot: int = 1000
    confidence: float = 0.95
    device: str = "cpu"
    calibration_frames: int = 400

    def __post_init__(self) -> None:
        for name in ("snrs", "approaches", "nominal_densities", "challenge_sets", "training_seeds"):
            value = getattr(self, name)
            if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
                raise TypeError(f"StudyConfig.{name} must be a tuple, got {type(value).__name__}")
            object.__setattr__(self, name, tuple(value))
        for snr in self.snrs:
            check_snr(snr)
        for approach in self.approaches:
            check_approach(approach)
        object.__setattr__(self, "nominal_densities", tuple(check_target(float(d)) for d in self.nominal_densities))
        object.__setattr__(self, "challenge_sets", tuple(str(s).upper() for s in self.challenge_sets))
        for name in self.challenge_sets:
            if name not in CHALLENGE_SETS:
                raise ValueError(f"StudyConfig.challenge_sets: unknown set {name!r}; choose from {list(CHALLENGE_SETS)}")
        if not (self.snrs and self.approaches and (self.nominal_densities or self.challenge_sets)):
            raise ValueError("StudyConfig needs at least one SNR, one approach and one test set")
        for seed in self.training_seeds:
            if seed is not None:
                integer_at_least("StudyConfig.training_seeds[]", seed, minimum=0)
        integer_at_least("StudyConfig.n_frames", self.n_frames)
        integer_at_least("StudyConfig.seed", self.seed, minimum=0)
        integer_at_least("StudyConfig.n_boot", self.n_boot)
        integer_at_least("StudyConfig.calibration_frames", self.calibration_frames, minimum=10)
        if not 0 < self.confidence < 1:
            raise ValueError(f"StudyConfig.confidence must be in (0, 1), got {self.confidence!r}")

    @property
    def test_sets(self) -> tuple[float | str, ...]:
        """Nominal densities, then the challenge sets."""
        return (*self.nominal_densities, *self.challenge_sets)

    @classmethod
    def quick(cls, **overrides: Any) -> "StudyConfig":
        """A reduced study (three densities, no challenge sets, 30 frames, 200 replicates)."""
        options: dict[str, Any] = dict(nominal_densities=QUICK_NOMINAL_DENSITIES, challenge_sets=(),
                                       n_frames=30, n_boot=200)
        options.update(overrides)
        return cls(**options)


def target_label(target: float | str) -> str:
    """A test set's name in tables: the challenge set, or the nominal density as ``f"{d:g}"``."""
    return target if isinstance(target, str) else f"{target:g}"
