"""The study: CSR vs structure-based (helix) training, across signal levels and densities.

For each signal level (SNR preset) the shipped models (package data, :mod:`structloc.pretrained`;
``structloc/data/models/{csr,helix}_{snr}.pt``) localize the
*same* test frames, simulated from the SMLM Challenge 2016 MT0 ground-truth positions:

* at target **nominal** densities (default nine, log-spaced from 0.38 to 13 per um^2, as the
  study). MT0 emitters lie on microtubules, so a frame looks denser than its count says; the
  count density that gives each target nominal density is found by a seeded calibration
  (:func:`mt0_count_density_for_nominal`);
* on the challenge's own **LD** and **HD** activation tables: ``n_frames`` frames drawn (seeded)
  from the real table, positions kept, photons redrawn from the SNR preset so that only the
  positions come from the challenge.

Each point gives one table row (:func:`run_point`): detection (JI, precision, recall), accuracy
(RMSE lateral/axial/volumetric), efficiency (lateral/axial/3D) with percentile bootstrap
confidence intervals over frames (:func:`structloc.evaluate.bootstrap_ci`), the checkerboard
measure (sub-pixel bias modulo the 100 nm camera pixel and the 25 nm output bin,
:func:`structloc.render.subpixel_bias`; the ground truth's value is the no-bias reference), and
the exact ``structloc study`` command that reproduces the row on a CPU from the shipped models.
:func:`summarize_claims` turns the table into the study's comparisons, each next to the value the
paper reports.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import sys
import time
import warnings
import zlib
from dataclasses import asdict, dataclass, field as dataclass_field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .emitters import Emitters
from .field import Field
from .sampling import MT0Sampler, draw_photons, sample_frames
from .snr import SNR_PRESETS, SignalLevel

__all__ = [
    "APPROACHES", "CHALLENGE_SETS", "STUDY_NOMINAL_DENSITIES", "QUICK_NOMINAL_DENSITIES",
    "PAPER_CLAIMS", "RESULT_COLUMNS", "VERDICT_CLAIMS", "verdict_table", "claims_agreeing", "StudyConfig", "mt0_nominal_curve",
    "mt0_count_density_for_nominal", "model_path", "simulate_test_set", "TestSet", "run_point", "run_study",
    "write_results", "read_results", "write_locs", "read_locs", "locs_path_for", "write_provenance", "summarize_claims", "describe_claims", "paired_difference", "pooled_checkerboard",
    "recall_gap_by_depth",
    "point_command", "add_study_arguments", "cli_study",
]

#: The two training regimes compared.
APPROACHES: tuple[str, ...] = ("csr", "helix")
#: The SMLM Challenge 2016 MT0 activation tables used as extra test sets.
CHALLENGE_SETS: tuple[str, ...] = ("LD", "HD")
#: Target nominal densities (per um^2): 0.38 to 13, nine points log-spaced, 2 significant digits.
STUDY_NOMINAL_DENSITIES: tuple[float, ...] = (0.38, 0.59, 0.92, 1.4, 2.2, 3.5, 5.4, 8.4, 13.0)
#: The reduced grid of quick mode.
QUICK_NOMINAL_DENSITIES: tuple[float, ...] = (0.38, 2.2, 13.0)
#: Seed of the count-to-nominal density calibration of MT0 frames.
CALIBRATION_SEED = 20160314
#: Count densities (per um^2) of the calibration grid (log-spaced).
_CALIBRATION_COUNTS = tuple(float(v) for v in np.geomspace(0.02, 3.0, 16))

#: What the study reports (Abdehkakha et al.), per SNR: relative JI gain (%), RMSE_vol decrease
#: (relative % at high SNR, absolute nm at medium and low), relative 3D efficiency gain (%).
PAPER_CLAIMS: dict[str, dict[str, float]] = {
    "jaccard_gain_percent": {"high": 20.0, "medium": 7.2, "low": 2.2},
    "rmse_vol_decrease_percent": {"high": 35.0},
    "rmse_vol_decrease_nm": {"medium": 28.0, "low": 31.0},
    "efficiency_3d_gain_percent": {"high": 20.0, "medium": 20.0, "low": 20.0},
    # The paper's "%" may mean percentage points (it prints JI and E in percent): both are compared.
    "jaccard_gain_points": {"high": 20.0, "medium": 7.2, "low": 2.2},
    "efficiency_3d_gain_points": {"high": 20.0, "medium": 20.0, "low": 20.0},
}

_METRICS = ("jaccard", "precision", "recall", "rmse_lat_nm", "rmse_ax_nm", "rmse_vol_nm",
            "efficiency_lat", "efficiency_ax", "efficiency_3d")
#: Columns of the results table, in order.
RESULT_COLUMNS: tuple[str, ...] = (
    "approach", "snr", "test_set", "nominal_target", "count_density", "nominal_density", "n_frames",
    "n_truth", "n_pred", "tp", "fp", "fn",
    *[c for m in _METRICS for c in (m, f"{m}_ci_low", f"{m}_ci_high")],
    "checkerboard", "checkerboard_chi2", "checkerboard_dof", "checkerboard_p", "kl_pixel",
    "checkerboard_25nm", "checkerboard_25nm_chi2", "checkerboard_25nm_dof", "kl_25nm",
    "checkerboard_truth", "checkerboard_25nm_truth",
    "jaccard_diff", "jaccard_diff_ci_low", "jaccard_diff_ci_high",
    "rmse_vol_diff_nm", "rmse_vol_diff_ci_low", "rmse_vol_diff_ci_high",
    "training_seed", "seed", "model", "command",
)
#: Paired (helix - csr, same frames) differences; filled by :func:`run_study`, NaN for single points.
_DIFF_COLUMNS = ("jaccard_diff", "jaccard_diff_ci_low", "jaccard_diff_ci_high",
                 "rmse_vol_diff_nm", "rmse_vol_diff_ci_low", "rmse_vol_diff_ci_high")


def _positive_int(owner: str, name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{owner}{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_snr(snr: str) -> str:
    if snr not in SNR_PRESETS:
        raise ValueError(f"unknown SNR {snr!r}; choose one of {sorted(SNR_PRESETS)}")
    return snr


def _check_approach(approach: str) -> str:
    if approach not in APPROACHES:
        raise ValueError(f"unknown approach {approach!r}; choose one of {list(APPROACHES)}")
    return approach


def _check_target(target: float | str) -> float | str:
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
            _check_snr(snr)
        for approach in self.approaches:
            _check_approach(approach)
        object.__setattr__(self, "nominal_densities", tuple(_check_target(float(d)) for d in self.nominal_densities))
        object.__setattr__(self, "challenge_sets", tuple(str(s).upper() for s in self.challenge_sets))
        for name in self.challenge_sets:
            if name not in CHALLENGE_SETS:
                raise ValueError(f"StudyConfig.challenge_sets: unknown set {name!r}; choose from {list(CHALLENGE_SETS)}")
        if not (self.snrs and self.approaches and (self.nominal_densities or self.challenge_sets)):
            raise ValueError("StudyConfig needs at least one SNR, one approach and one test set")
        for seed in self.training_seeds:
            if seed is not None:
                _positive_int("StudyConfig.", "training_seeds[]", seed, minimum=0)
        _positive_int("StudyConfig.", "n_frames", self.n_frames)
        _positive_int("StudyConfig.", "seed", self.seed, minimum=0)
        _positive_int("StudyConfig.", "n_boot", self.n_boot)
        _positive_int("StudyConfig.", "calibration_frames", self.calibration_frames, minimum=10)
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


# -- count density <-> nominal density of MT0 frames ----------------------------------------------
@functools.lru_cache(maxsize=8)
def _mt0_curve(field: Field, n_frames: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from .density import nominal_density

    sampler = MT0Sampler(field)
    counts = np.array(_CALIBRATION_COUNTS)
    nominal = np.empty(counts.size)
    for i, density in enumerate(counts):
        emitters = sample_frames(sampler, n_frames, density_per_um2=float(density), seed=seed + i)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            nominal[i] = nominal_density(emitters, field, n_frames=n_frames)
    nominal = np.maximum.accumulate(nominal)  # monotone, so the inverse is a function
    for array in (counts, nominal):
        array.setflags(write=False)
    return counts, nominal


def mt0_nominal_curve(field: Field = Field(), *, n_frames: int = 400,
                      seed: int = CALIBRATION_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Nominal density of MT0 frames as a function of their count density (seeded, cached).

    For 16 count densities log-spaced in [0.02, 3] per um^2, ``n_frames`` frames of MT0
    positions are drawn (positions only: no rendering) and their nominal density measured with
    :func:`structloc.density.nominal_density`.

    Returns
    -------
    count_density_per_um2 : numpy.ndarray, shape (16,)
    nominal_density_per_um2 : numpy.ndarray, shape (16,)
        Non-decreasing (read-only arrays).
    """
    if not isinstance(field, Field):
        raise TypeError(f"field must be a structloc.Field, got {type(field).__name__}")
    return _mt0_curve(field, _positive_int("", "n_frames", n_frames, 10), _positive_int("", "seed", seed, 0))


def mt0_count_density_for_nominal(nominal_per_um2: float | Sequence[float], field: Field = Field(), *,
                                  n_frames: int = 400, seed: int = CALIBRATION_SEED) -> np.ndarray:
    """Count density of MT0 frames whose nominal density is ``nominal_per_um2``.

    Inverts :func:`mt0_nominal_curve` by monotone (PCHIP) interpolation in log-log.

    Parameters
    ----------
    nominal_per_um2 : float or sequence of float
        Target nominal densities in emitters per um^2, inside the calibrated range.
    field, n_frames, seed :
        Passed to :func:`mt0_nominal_curve`.

    Returns
    -------
    numpy.ndarray of float
        Count densities in emitters per um^2 (same shape as the input; 1-D for a scalar).

    Raises
    ------
    ValueError
        On NaN/inf/non-positive targets, or targets outside the calibrated range.
    """
    from scipy.interpolate import PchipInterpolator

    targets = np.atleast_1d(np.asarray(nominal_per_um2, dtype=float))
    if targets.ndim != 1:
        raise ValueError(f"nominal_per_um2 must be a number or 1-D sequence, got shape {targets.shape}")
    if not np.all(np.isfinite(targets)) or np.any(targets <= 0):
        raise ValueError("nominal_per_um2 must be finite and > 0 (emitters per um^2)")
    counts, nominal = mt0_nominal_curve(field, n_frames=n_frames, seed=seed)
    keep = np.concatenate([[True], np.diff(nominal) > 0])
    lo, hi = nominal[keep][0], nominal[keep][-1]
    if np.any((targets < lo) | (targets > hi)):
        raise ValueError(f"nominal densities {targets[(targets < lo) | (targets > hi)].tolist()} are outside the "
                         f"calibrated range [{lo:.3g}, {hi:.3g}] per um^2 of MT0 frames")
    inverse = PchipInterpolator(np.log(nominal[keep]), np.log(counts[keep]))
    return np.exp(inverse(np.log(targets)))


# -- test sets ---------------------------------------------------------------------------------
def _label(target: float | str) -> str:
    return target if isinstance(target, str) else f"{target:g}"


def _point_seed(seed: int, snr: str, target: float | str) -> int:
    """A seed of its own for each (seed, SNR, test set): points are reproducible one at a time."""
    key = zlib.crc32(f"{snr}/{_label(target)}".encode())
    return int(np.random.SeedSequence([int(seed), key]).generate_state(1)[0])


@dataclass(frozen=True, eq=False)
class _TableSampler:
    """Positions of a fixed table (frames 0..n-1, sorted), photons redrawn from the signal level."""

    field: Field
    table: Emitters

    def sample(self, counts: np.ndarray, rng: np.random.Generator,
               signal: SignalLevel | str = "high") -> Emitters:
        t = self.table
        if not np.array_equal(np.bincount(t.frame, minlength=len(counts)), np.asarray(counts)):
            raise ValueError("counts do not match the fixed table's frames")
        return Emitters(t.frame, t.x_nm, t.y_nm, t.z_nm, draw_photons(len(t), signal, rng))


def _challenge_frames(kind: str, n_frames: int, rng: np.random.Generator) -> Emitters:
    """``n_frames`` frames drawn without replacement from the MT0 ``kind`` table, renumbered 0.."""
    from .io import load_mt0_ground_truth

    table = load_mt0_ground_truth(kind)
    if n_frames > table.n_frames:
        raise ValueError(f"MT0 {kind} has {table.n_frames} frames; cannot take n_frames={n_frames}")
    chosen = np.sort(rng.choice(table.n_frames, size=n_frames, replace=False))
    new_index = np.full(table.n_frames, -1, dtype=np.int64)
    new_index[chosen] = np.arange(n_frames)
    keep = new_index[table.frame] >= 0
    picked = table.take(keep)
    return Emitters(new_index[picked.frame], picked.x_nm, picked.y_nm, picked.z_nm, picked.photons).sorted()


@dataclass(frozen=True, eq=False)
class TestSet:
    """Frames of one test point and their ground truth (see :func:`simulate_test_set`)."""

    __test__ = False  # not a pytest class

    frames: np.ndarray
    truth: Emitters
    snr: str
    test_set: str
    nominal_target: float
    count_density: float
    nominal_density: float
    seed: int


def simulate_test_set(snr: str, target: float | str, *, n_frames: int = 200, seed: int = 7, field: Field = Field(),
             psf=None, camera=None, device: str = "cpu", calibration_frames: int = 400) -> TestSet:
    """Simulate the test frames of one (SNR, test set) point from the MT0 ground truth.

    Parameters
    ----------
    snr : str
        Signal level preset.
    target : float or {"LD", "HD"}
        Target nominal density (per um^2; the count density comes from
        :func:`mt0_count_density_for_nominal`) or a challenge activation table (``n_frames`` of its
        frames, seeded; positions kept, photons drawn from the SNR preset).
    n_frames, seed : int
        Frames and the study seed (the point's own seed derives from it, ``snr`` and ``target``).
    field, psf, camera :
        Must be those the models were trained with (see :func:`run_point`).
    device : str
        Torch device for rendering and noise.

    Returns
    -------
    TestSet
        With the measured nominal density of its ground truth.
    """
    from .density import nominal_density
    from .simulate import simulate

    snr, target = _check_snr(snr), _check_target(target)
    n_frames = _positive_int("", "n_frames", n_frames)
    point_seed = _point_seed(_positive_int("", "seed", seed, 0), snr, target)
    if isinstance(target, str):
        table = _challenge_frames(target, n_frames, np.random.default_rng(point_seed))
        sampler = _TableSampler(field, table)
        sim = simulate(sampler, n_frames, snr=snr, counts=np.bincount(table.frame, minlength=n_frames),
                       psf=psf, camera=camera, seed=point_seed, device=device)
        nominal_target = float("nan")
        count_density = len(table) / (n_frames * field.area_um2)
    else:
        count_density = float(mt0_count_density_for_nominal(target, field, n_frames=calibration_frames)[0])
        sim = simulate(MT0Sampler(field), n_frames, snr=snr, density_per_um2=count_density, psf=psf,
                       camera=camera, seed=point_seed, device=device)
        nominal_target = target
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        measured = nominal_density(sim.emitters, field, n_frames=n_frames) if len(sim.emitters) else float("nan")
    return TestSet(sim.frames, sim.emitters, snr, _label(target), nominal_target, count_density,
                   float(measured), point_seed)


# -- one point ---------------------------------------------------------------------------------
def model_path(models_dir: str | Path | None, approach: str, snr: str, training_seed: int | None = None) -> Path:
    """``models_dir/{approach}_{snr}.pt`` (shipped) or ``..._seed{s}.pt`` for another training seed.

    ``models_dir=None`` is the package's own models (:data:`structloc.pretrained.MODELS_DIR`).
    """
    from .pretrained import MODELS_DIR

    suffix = "" if training_seed is None else f"_seed{int(training_seed)}"
    return Path(MODELS_DIR if models_dir is None else models_dir) / f"{_check_approach(approach)}_{_check_snr(snr)}{suffix}.pt"


def _load_localizer(path: Path, device: str):
    from .localize import Localizer

    if not path.exists():
        raise FileNotFoundError(f"no model {path}: train it with `structloc train` or pass --models DIR")
    return Localizer.from_checkpoint(path, device=device)


def _localizer_geometry(localizer) -> tuple[Field, Any, Any]:
    from .train import TrainConfig

    config = TrainConfig.from_dict(localizer.info["config"]) if localizer.info.get("config") else None
    psf = config.psf if config is not None else None
    return localizer.spec.field, psf, localizer.camera


def point_command(approach: str, snr: str, target: float | str, *, n_frames: int, seed: int,
                  n_boot: int = 1000, models_dir: str | None = None, training_seed: int | None = None) -> str:
    """The ``structloc study`` command that reproduces one row from the shipped models on a CPU."""
    target = _check_target(target)
    where = f"--challenge {target}" if isinstance(target, str) else f"--nominal-density {_label(target)}"
    parts = [f"structloc study --approach {approach} --snr {snr} {where} --frames {n_frames} --seed {seed}"]
    if n_boot != 1000:
        parts.append(f"--boot {n_boot}")
    if models_dir is not None:
        parts.append(f"--models {models_dir}")
    if training_seed is not None:
        parts.append(f"--training-seed {training_seed}")
    return " ".join(parts)


def run_point(approach: str, snr: str, target: float | str, *, n_frames: int = 200, seed: int = 7,
              models_dir: str | Path | None = None, training_seed: int | None = None, localizer=None,
              test: TestSet | None = None, n_boot: int = 1000, confidence: float = 0.95,
              device: str = "cpu", return_locs: bool = False) -> dict[str, Any] | tuple[dict[str, Any], Emitters]:
    """Evaluate one approach at one (SNR, test set) point; one results row.

    Parameters
    ----------
    approach : {"csr", "helix"}
    snr : str
    target : float or {"LD", "HD"}
        Target nominal density (per um^2) or challenge set.
    n_frames, seed :
        Test frames and study seed (see :func:`simulate_test_set`).
    models_dir, training_seed :
        Where the checkpoint is (:func:`model_path`); ignored when ``localizer`` is given.
    localizer : structloc.localize.Localizer, optional
        An already loaded model (the study reuses one per approach and SNR).
    test : TestSet, optional
        Already simulated test frames (the study shares them between approaches).
    n_boot, confidence :
        Bootstrap replicates and confidence level.
    device : str
        Torch device.
    return_locs : bool
        Also return the localizations.

    Returns
    -------
    dict
        Keys :data:`RESULT_COLUMNS`; JI etc. as fractions, RMSEs in nm. With ``return_locs``,
        ``(row, localizations)``.
    """
    from .evaluate import bootstrap_ci, frame_statistics
    from .render import subpixel_bias

    approach, snr, target = _check_approach(approach), _check_snr(snr), _check_target(target)
    n_frames = _positive_int("", "n_frames", n_frames)
    path = model_path(models_dir, approach, snr, training_seed)
    if localizer is None:
        localizer = _load_localizer(path, device)
    field, psf, camera = _localizer_geometry(localizer)
    if test is None:
        test = simulate_test_set(snr, target, n_frames=n_frames, seed=seed, field=field, psf=psf, camera=camera,
                        device=device)
    elif test.snr != snr or test.test_set != _label(target) or len(test.frames) != n_frames:
        raise ValueError(f"the given test set ({test.snr}, {test.test_set}, {len(test.frames)} frames) is not "
                         f"the point ({snr}, {_label(target)}, {n_frames} frames)")
    locs = localizer(test.frames)
    ci = bootstrap_ci(test.truth, locs, n_boot=n_boot, confidence=confidence, seed=test.seed, n_frames=n_frames)
    totals = frame_statistics(test.truth, locs, n_frames=n_frames).sum(axis=0)
    pixel = subpixel_bias(locs, period_nm=field.pixel_nm)
    bin_nm = field.pixel_nm / localizer.spec.upsample
    fine = subpixel_bias(locs, period_nm=bin_nm)
    used_seed = localizer.info.get("config", {}).get("seed", training_seed)
    row: dict[str, Any] = {
        "approach": approach, "snr": snr, "test_set": test.test_set, "nominal_target": test.nominal_target,
        "count_density": test.count_density, "nominal_density": test.nominal_density, "n_frames": n_frames,
        "n_truth": len(test.truth), "n_pred": len(locs),
        "tp": int(totals[0]), "fp": int(totals[1]), "fn": int(totals[2]),
    }
    for metric in _METRICS:
        row[metric] = float(ci.loc[metric, "estimate"])
        row[f"{metric}_ci_low"] = float(ci.loc[metric, "low"])
        row[f"{metric}_ci_high"] = float(ci.loc[metric, "high"])
    row.update({
        "checkerboard": pixel.checkerboard, "checkerboard_chi2": pixel.chi2, "checkerboard_dof": pixel.dof,
        "checkerboard_p": pixel.p_value, "kl_pixel": pixel.kl_divergence,
        "checkerboard_25nm": fine.checkerboard, "checkerboard_25nm_chi2": fine.chi2,
        "checkerboard_25nm_dof": fine.dof, "kl_25nm": fine.kl_divergence,
        "checkerboard_truth": subpixel_bias(test.truth, period_nm=field.pixel_nm).checkerboard,
        "checkerboard_25nm_truth": subpixel_bias(test.truth, period_nm=bin_nm).checkerboard,
        **{c: float("nan") for c in _DIFF_COLUMNS},
        "training_seed": used_seed, "seed": seed,
        "model": str(localizer.info.get("path", path)),
        "command": point_command(approach, snr, target, n_frames=n_frames, seed=seed, n_boot=n_boot,
                                 models_dir=None if models_dir is None else str(models_dir),
                                 training_seed=training_seed),
    })
    row = {k: row[k] for k in RESULT_COLUMNS}
    return (row, locs) if return_locs else row


def paired_difference(truth: Emitters, pred_a: Emitters, pred_b: Emitters, *, n_frames: int, n_boot: int = 1000,
                      confidence: float = 0.95, seed: int = 0) -> dict[str, float]:
    """Paired bootstrap of ``b - a`` on the same frames: JI difference and RMSE_vol difference (nm).

    Frames are resampled jointly for both localization tables (multinomial counts over the
    per-frame statistics of :func:`structloc.evaluate.frame_statistics`), so variation shared by
    both (how crowded a frame happens to be) cancels.

    Returns
    -------
    dict
        ``jaccard_diff`` and ``rmse_vol_diff_nm`` (estimates on all frames) with ``..._ci_low`` /
        ``..._ci_high`` percentile bounds (for the RMSE, ``rmse_vol_diff_ci_low/high``).
    """
    from .evaluate import metrics_from_sums, frame_statistics

    n_frames = _positive_int("", "n_frames", n_frames)
    n_boot = _positive_int("", "n_boot", n_boot)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    stats = [frame_statistics(truth, pred, n_frames=n_frames) for pred in (pred_a, pred_b)]
    counts = np.random.default_rng(seed).multinomial(n_frames, np.full(n_frames, 1.0 / n_frames), size=n_boot)
    full = [metrics_from_sums(s.sum(axis=0)) for s in stats]
    boot = [metrics_from_sums(counts @ s) for s in stats]
    q = [(1 - confidence) / 2 * 100, (1 + confidence) / 2 * 100]
    out: dict[str, float] = {}
    for key, name in (("jaccard", "jaccard_diff"), ("rmse_vol_nm", "rmse_vol_diff")):
        diff = boot[1][key] - boot[0][key]
        finite = diff[np.isfinite(diff)]
        low, high = np.percentile(finite, q) if finite.size else (np.nan, np.nan)
        out[name if key == "jaccard" else "rmse_vol_diff_nm"] = float(full[1][key] - full[0][key])
        out[f"{name}_ci_low"], out[f"{name}_ci_high"] = float(low), float(high)
    return out


# -- the whole study ---------------------------------------------------------------------------
def run_study(config: StudyConfig, progress: bool = True, *, localizers: dict | None = None,
              keep_locs_at: float | str | None = None) -> "Any":
    """Run every point of ``config``; both approaches localize the same test frames.

    Parameters
    ----------
    config : StudyConfig
    progress : bool
        tqdm progress bar over points.
    localizers : dict, optional
        ``{(approach, snr, training_seed): Localizer}`` to use instead of loading checkpoints.
    keep_locs_at : float or str, optional
        A test set (e.g. the lowest nominal density) whose localizations and ground truth are
        kept, for reconstructions, in ``df.attrs["locs"][(approach, snr)]`` and
        ``df.attrs["locs"][("truth", snr)]``.

    Returns
    -------
    pandas.DataFrame
        One row per (approach, snr, test set, training seed), columns :data:`RESULT_COLUMNS`.
    """
    import pandas as pd
    from tqdm.auto import tqdm

    if not isinstance(config, StudyConfig):
        raise TypeError(f"config must be a StudyConfig, got {type(config).__name__}")
    localizers = dict(localizers or {})
    keep = None if keep_locs_at is None else _label(_check_target(keep_locs_at))
    rows, kept = [], {}
    total = len(config.snrs) * len(config.test_sets) * len(config.training_seeds) * len(config.approaches)
    bar = tqdm(total=total, disable=not progress, desc="study", unit="point")
    for snr in config.snrs:
        for tseed in config.training_seeds:
            for approach in config.approaches:
                key = (approach, snr, tseed)
                if key not in localizers:
                    localizers[key] = _load_localizer(model_path(config.models_dir, approach, snr, tseed),
                                                      config.device)
            geometries = {a: _localizer_geometry(localizers[(a, snr, tseed)]) for a in config.approaches}
            for target in config.test_sets:
                shared: dict[Any, TestSet] = {}
                point_locs: dict[str, tuple[Emitters, TestSet]] = {}
                for approach in config.approaches:
                    field, psf, camera = geometries[approach]
                    geometry_key = (field, repr(psf), repr(camera))
                    if geometry_key not in shared:
                        shared[geometry_key] = simulate_test_set(snr, target, n_frames=config.n_frames, seed=config.seed,
                                                        field=field, psf=psf, camera=camera, device=config.device,
                                                        calibration_frames=config.calibration_frames)
                    row, locs = run_point(approach, snr, target, n_frames=config.n_frames, seed=config.seed,
                                          models_dir=config.models_dir, training_seed=tseed,
                                          localizer=localizers[(approach, snr, tseed)], test=shared[geometry_key],
                                          n_boot=config.n_boot, confidence=config.confidence,
                                          device=config.device, return_locs=True)
                    rows.append(row)
                    point_locs[approach] = (locs, shared[geometry_key])
                    if keep is not None and _label(target) == keep:
                        kept[(approach, snr)] = locs
                        kept[("truth", snr)] = shared[geometry_key].truth
                    bar.update(1)
                if {"csr", "helix"} <= set(point_locs) and point_locs["csr"][1] is point_locs["helix"][1]:
                    test = point_locs["csr"][1]
                    diff = paired_difference(test.truth, point_locs["csr"][0], point_locs["helix"][0],
                                             n_frames=config.n_frames, n_boot=config.n_boot,
                                             confidence=config.confidence, seed=test.seed)
                    for row in rows[-len(config.approaches):]:
                        row.update(diff)
    bar.close()
    df = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    df.attrs["locs"] = kept
    return df


def write_results(df, path: str | Path) -> Path:
    """Write the results table to CSV atomically (floats with full precision)."""
    from .io import atomic_write

    missing = [c for c in ("approach", "snr", "nominal_density", "jaccard", "command") if c not in df.columns]
    if missing:
        raise ValueError(f"results table lacks the column(s) {missing}")
    return atomic_write(path, lambda tmp: df.to_csv(tmp, index=False, float_format="%.10g"))


def read_results(path: str | Path):
    """Read a results CSV written by :func:`write_results` (a pandas DataFrame)."""
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no results table {path}")
    return pd.read_csv(path)


def write_locs(locs: dict, path: str | Path) -> Path:
    """Write ``{(row, snr): Emitters}`` (e.g. ``df.attrs["locs"]``) to one CSV (gzip if ``.gz``), atomically.

    Columns: row (csr, helix, truth), snr, frame (from 0), x_nm, y_nm, z_nm (0.1 nm precision).
    An empty table is kept as one row with frame -1 and no position, so it reads back empty.
    """
    import pandas as pd

    from .io import atomic_path

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
    import pandas as pd

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
    """Where :func:`cli_study` writes the lowest-density localizations next to a results CSV."""
    results_path = Path(results_path)
    return results_path.with_name(f"{results_path.stem}_lowest_density_locs.csv.gz")


def write_provenance(path: str | Path, config: StudyConfig, *, command: str, wall_s: float,
                     extra: dict[str, Any] | None = None) -> Path:
    """Write a JSON record of how a results table was made (command, commit, device, time)."""
    import platform

    import torch

    from . import __version__
    from .io import atomic_write
    from .train import _git_commit

    record = {
        "command": command, "git_commit": _git_commit(), "structloc_version": __version__,
        "torch_version": torch.__version__, "device": config.device,
        "gpu_available": bool(torch.cuda.is_available()), "torch_threads": torch.get_num_threads(),
        "machine": platform.platform(), "processor": platform.processor() or platform.machine(),
        "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "wall_time_s": round(wall_s, 1),
        "config": asdict(config), **(extra or {}),
    }
    text = json.dumps(record, indent=2, default=str) + "\n"
    return atomic_write(path, lambda tmp: tmp.write_text(text))


# -- the study's claims --------------------------------------------------------------------------
def pooled_checkerboard(df, period: str = "pixel"):
    """Checkerboard index pooled over test sets, per (approach, snr): sum chi2 / sum dof.

    Independent test sets' chi-square statistics add (as do their degrees of freedom), so the
    pooled index is again about 1 without sub-pixel bias; its standard error under no bias is
    ``sqrt(2 / sum dof)``.

    Parameters
    ----------
    df : pandas.DataFrame
        Results table.
    period : {"pixel", "25nm"}
        Camera pixel (100 nm) or output bin (25 nm).

    Returns
    -------
    pandas.DataFrame
        Columns approach, snr, checkerboard, dof, se_no_bias.
    """
    prefix = {"pixel": "checkerboard", "25nm": "checkerboard_25nm"}.get(period)
    if prefix is None:
        raise ValueError(f"period must be 'pixel' or '25nm', got {period!r}")
    grouped = df.groupby(["approach", "snr"], sort=False)[[f"{prefix}_chi2", f"{prefix}_dof"]].sum()
    out = grouped.reset_index()
    out["checkerboard"] = out[f"{prefix}_chi2"] / out[f"{prefix}_dof"]
    out["dof"] = out[f"{prefix}_dof"].astype(int)
    out["se_no_bias"] = np.sqrt(2.0 / out["dof"])
    return out[["approach", "snr", "checkerboard", "dof", "se_no_bias"]]


def recall_gap_by_depth(locs: dict, edges_nm: Sequence[float] | None = None):
    """Split the csr - helix recall difference into slabs of true depth z.

    With the same ground truth for both approaches, the overall recall is the sum over slabs of
    (share of the emitters in the slab) x (recall in the slab), so the recall difference is the
    sum of the per-slab contributions ``share * (recall_csr - recall_helix)``.

    Parameters
    ----------
    locs : dict of (row, snr) -> Emitters
        ``("truth", snr)``, ``("csr", snr)`` and ``("helix", snr)`` tables of the same frames (see
        :func:`read_locs`); SNRs without all three are skipped.
    edges_nm : sequence of float, optional
        Slab edges in nm (default: see :func:`structloc.evaluate.axial_profile`).

    Returns
    -------
    pandas.DataFrame
        Columns snr, z_low_nm, z_high_nm, share (fraction of the emitters in the slab),
        recall_csr, recall_helix, gap_contribution (adds up over slabs to the overall
        recall_csr - recall_helix of that SNR).
    """
    import pandas as pd

    from .evaluate import axial_profile

    if not isinstance(locs, dict):
        raise TypeError(f"locs must be a dict of (row, snr) -> Emitters, got {type(locs).__name__}")
    parts = []
    for snr in SNR_PRESETS:
        if not all((row, snr) in locs for row in ("truth", *APPROACHES)):
            continue
        truth = locs[("truth", snr)]
        prof = {a: axial_profile(truth, locs[(a, snr)], edges_nm) for a in APPROACHES}
        share = prof["csr"].n_truth / max(1, len(truth))
        recall = {a: prof[a].recall.fillna(0.0) for a in APPROACHES}
        parts.append(pd.DataFrame({
            "snr": snr, "z_low_nm": prof["csr"].z_low_nm, "z_high_nm": prof["csr"].z_high_nm, "share": share,
            "recall_csr": prof["csr"].recall, "recall_helix": prof["helix"].recall,
            "gap_contribution": share * (recall["csr"] - recall["helix"]),
        }))
    if not parts:
        raise ValueError("locs holds no SNR with truth, csr and helix tables")
    return pd.concat(parts, ignore_index=True)


def _pivot(df, metric: str):
    """Mean of ``metric`` per (snr, approach) over the nominal-density grid (challenge sets out)."""
    grid = df[df["test_set"].map(lambda s: str(s).upper() not in CHALLENGE_SETS)]
    return grid.groupby(["snr", "approach"])[metric].mean().unstack("approach")


def summarize_claims(df):
    """The study's comparisons, computed from a results table.

    Every comparison is helix vs csr per SNR, on the nominal-density grid (challenge sets
    excluded; metrics averaged over the densities, each density weighted equally):

    * ``jaccard_gain_percent``: 100 (JI_helix - JI_csr) / JI_csr;
    * ``rmse_vol_decrease_percent`` and ``rmse_vol_decrease_nm``: (RMSE_csr - RMSE_helix),
      relative (%) and in nm;
    * ``rmse_ax_decrease_nm``, ``rmse_lat_decrease_nm``: the same for the axial and lateral RMSE;
    * ``jaccard_gain_points``: 100 (JI_helix - JI_csr), percentage points;
    * ``efficiency_3d_gain_percent``: 100 (E_helix - E_csr) / |E_csr| (ill-conditioned when E_csr
      is near 0), and ``efficiency_3d_gain_points``: 100 (E_helix - E_csr), percentage points
      (the paper prints JI and E in percent, so its "20 % better" may mean either);
    * ``jaccard_gain_trend_per_decade``: least-squares slope of (JI_helix - JI_csr) against
      log10(nominal density) (> 0: the advantage grows with density);
    * ``isolated_jaccard_gain_percent``, ``isolated_rmse_vol_decrease_nm``: the same at the lowest
      nominal density;
    * ``jaccard_points_helix_better``: of the densities with a paired interval
      (:func:`paired_difference`), how many show helix significantly better (``helix`` column)
      and csr significantly better (``csr`` column); ``measured`` is their difference;
    * ``checkerboard_pixel``, ``checkerboard_25nm``: pooled index (:func:`pooled_checkerboard`)
      per approach (csr/helix columns; difference = csr - helix).

    Returns
    -------
    pandas.DataFrame
        Columns claim, snr, csr, helix, difference, measured, paper, agrees. ``measured`` is the
        number to compare with ``paper`` (the paper's value, NaN if it gives none); ``agrees`` is
        True when the measured effect has the paper's sign (helix better), NaN when undefined.
    """
    import pandas as pd

    required = {"approach", "snr", "test_set", "nominal_density", "jaccard", "rmse_lat_nm", "rmse_ax_nm",
                "rmse_vol_nm", "efficiency_3d", "checkerboard_chi2", "checkerboard_dof",
                "checkerboard_25nm_chi2", "checkerboard_25nm_dof"}
    missing = sorted(required - set(df.columns))
    if missing:
        raise ValueError(f"results table lacks the column(s) {missing}")
    if not set(APPROACHES) <= set(df["approach"]):
        raise ValueError(f"results table needs both approaches {list(APPROACHES)}, has {sorted(set(df['approach']))}")
    rows: list[dict[str, Any]] = []
    snrs = [s for s in SNR_PRESETS if s in set(df["snr"])]

    def add(claim: str, snr: str, csr: float, helix: float, difference: float, measured: float) -> None:
        paper = PAPER_CLAIMS.get(claim, {}).get(snr, float("nan"))
        agrees = float("nan") if not np.isfinite(measured) else bool(measured > 0)
        rows.append({"claim": claim, "snr": snr, "csr": float(csr), "helix": float(helix),
                     "difference": float(difference), "measured": float(measured), "paper": paper,
                     "agrees": agrees})

    means = {m: _pivot(df, m) for m in ("jaccard", "rmse_vol_nm", "rmse_ax_nm", "rmse_lat_nm", "efficiency_3d")}
    grid = df[df["test_set"].map(lambda s: str(s).upper() not in CHALLENGE_SETS)].copy()
    grid["nominal_key"] = grid["test_set"].astype(str)
    for snr in snrs:
        ji = means["jaccard"].loc[snr]
        add("jaccard_gain_percent", snr, ji["csr"], ji["helix"], ji["helix"] - ji["csr"],
            100 * (ji["helix"] - ji["csr"]) / ji["csr"])
        for metric, name in (("rmse_vol_nm", "vol"), ("rmse_ax_nm", "ax"), ("rmse_lat_nm", "lat")):
            r = means[metric].loc[snr]
            add(f"rmse_{name}_decrease_nm", snr, r["csr"], r["helix"], r["csr"] - r["helix"], r["csr"] - r["helix"])
            if name == "vol":
                add("rmse_vol_decrease_percent", snr, r["csr"], r["helix"], r["csr"] - r["helix"],
                    100 * (r["csr"] - r["helix"]) / r["csr"])
        add("jaccard_gain_points", snr, ji["csr"], ji["helix"], ji["helix"] - ji["csr"],
            100 * (ji["helix"] - ji["csr"]))
        e = means["efficiency_3d"].loc[snr]
        add("efficiency_3d_gain_percent", snr, e["csr"], e["helix"], e["helix"] - e["csr"],
            100 * (e["helix"] - e["csr"]) / abs(e["csr"]))
        add("efficiency_3d_gain_points", snr, e["csr"], e["helix"], e["helix"] - e["csr"],
            100 * (e["helix"] - e["csr"]))
        per = grid[grid["snr"] == snr].pivot_table(index="nominal_key", columns="approach",
                                                    values=["jaccard", "rmse_vol_nm", "nominal_density"])
        if len(per) >= 1:
            density = per["nominal_density"].mean(axis=1)
            gain = per["jaccard"]["helix"] - per["jaccard"]["csr"]
            if len(per) >= 2:
                slope = float(np.polyfit(np.log10(density.to_numpy()), gain.to_numpy(), 1)[0])
                add("jaccard_gain_trend_per_decade", snr, float("nan"), float("nan"), slope, slope)
            lowest = density.idxmin()
            j, r = per["jaccard"].loc[lowest], per["rmse_vol_nm"].loc[lowest]
            add("isolated_jaccard_gain_percent", snr, j["csr"], j["helix"], j["helix"] - j["csr"],
                100 * (j["helix"] - j["csr"]) / j["csr"])
            add("isolated_rmse_vol_decrease_nm", snr, r["csr"], r["helix"], r["csr"] - r["helix"],
                r["csr"] - r["helix"])
        if "jaccard_diff_ci_low" in df.columns:
            sel = grid[(grid["snr"] == snr) & (grid["approach"] == "helix")]
            finite = sel[np.isfinite(sel["jaccard_diff_ci_low"])]
            if len(finite):
                better = int(np.sum(finite["jaccard_diff_ci_low"] > 0))
                worse = int(np.sum(finite["jaccard_diff_ci_high"] < 0))
                add("jaccard_points_helix_better", snr, worse, better, better - worse, better - worse)
    for period in ("pixel", "25nm"):
        pooled = pooled_checkerboard(df, period).set_index(["snr", "approach"])["checkerboard"]
        for snr in snrs:
            c, h = pooled.get((snr, "csr"), np.nan), pooled.get((snr, "helix"), np.nan)
            add(f"checkerboard_{period}", snr, c, h, c - h, c - h)
    return pd.DataFrame(rows, columns=["claim", "snr", "csr", "helix", "difference", "measured", "paper", "agrees"])


_CLAIM_TEXT = {
    "jaccard_gain_percent": ("Jaccard index, helix vs csr", "{:+.1f} %"),
    "rmse_vol_decrease_percent": ("volumetric RMSE decrease", "{:+.1f} %"),
    "rmse_vol_decrease_nm": ("volumetric RMSE decrease", "{:+.1f} nm"),
    "rmse_ax_decrease_nm": ("axial RMSE decrease", "{:+.1f} nm"),
    "rmse_lat_decrease_nm": ("lateral RMSE decrease", "{:+.1f} nm"),
    "efficiency_3d_gain_percent": ("3D efficiency, helix vs csr", "{:+.1f} %"),
    "jaccard_gain_points": ("Jaccard index, helix - csr", "{:+.1f} points"),
    "efficiency_3d_gain_points": ("3D efficiency, helix - csr", "{:+.1f} points"),
    "jaccard_gain_trend_per_decade": ("JI gain (helix - csr) per decade of density", "{:+.3f}"),
    "isolated_jaccard_gain_percent": ("JI gain at the lowest density", "{:+.1f} %"),
    "isolated_rmse_vol_decrease_nm": ("RMSE_vol decrease at the lowest density", "{:+.1f} nm"),
    "jaccard_points_helix_better": ("densities with JI significantly better (paired 95 % CI)",
                                    "helix {helix:.0f}, csr {csr:.0f}"),
    "checkerboard_pixel": ("checkerboard chi2/dof mod 100 nm", "csr {csr:.2f}, helix {helix:.2f}"),
    "checkerboard_25nm": ("checkerboard chi2/dof mod 25 nm", "csr {csr:.2f}, helix {helix:.2f}"),
}


def describe_claims(claims) -> list[str]:
    """One sentence per row of :func:`summarize_claims`: the measured value, the paper's, agreement.

    Positive numbers mean helix training is better (higher JI/efficiency, lower RMSE or
    checkerboard index).
    """
    lines = []
    for _, c in claims.iterrows():
        what, fmt = _CLAIM_TEXT.get(c["claim"], (c["claim"], "{:+.3g}"))
        value = fmt.format(c["measured"], csr=c["csr"], helix=c["helix"])
        paper = "" if not np.isfinite(c["paper"]) else "; paper " + fmt.format(c["paper"], csr=np.nan, helix=np.nan)
        if isinstance(c["agrees"], (bool, np.bool_)):
            verdict = "helix better" if c["agrees"] else "helix not better"
        else:
            verdict = "undefined"
        lines.append(f"{c['snr']:>6} SNR | {what}: {value}{paper} -> {verdict}")
    return lines


#: Rows of :func:`verdict_table`: claim, label. The paper's "+20 %" JI gain is relative; its
#: efficiency gains are compared in percentage points (the paper prints E in percent).
VERDICT_CLAIMS: tuple[tuple[str, str], ...] = (
    ("jaccard_gain_percent", "Jaccard index, relative gain (%)"),
    ("rmse_vol_decrease_percent", "RMSE_vol decrease (%)"),
    ("rmse_vol_decrease_nm", "RMSE_vol decrease (nm)"),
    ("efficiency_3d_gain_points", "3D efficiency gain (points)"),
    ("rmse_ax_decrease_nm", "axial RMSE decrease (nm)"),
    ("isolated_jaccard_gain_percent", "JI gain at the lowest density (%)"),
    ("jaccard_gain_trend_per_decade", "helix advantage grows with density (JI slope per decade)"),
    ("checkerboard_pixel", "checkerboard index mod pixel, csr - helix"),
)


def verdict_table(claims):
    """The claims as one compact table: a row per claim, a column per SNR.

    Each cell reads ``measured (paper P): yes|no`` — the measured helix-vs-csr effect of
    :func:`summarize_claims` (positive: helix better), the paper's value where it gives one, and
    whether helix training is better. Claims without a row for an SNR are left blank. A rising
    JI difference counts as a growing advantage only where helix is better on average; a rising
    deficit reads "no (a deficit that shrinks)".

    Returns
    -------
    pandas.DataFrame
        Index: the claim labels of :data:`VERDICT_CLAIMS`; columns: SNRs.
    """
    import pandas as pd

    by = claims.set_index(["claim", "snr"])
    snrs = [s for s in SNR_PRESETS if s in set(claims["snr"])]
    table = {}
    for claim, label in VERDICT_CLAIMS:
        fmt = _CLAIM_TEXT[claim][1] if "{:" in _CLAIM_TEXT[claim][1] else "{:+.2f}"
        cells = []
        for snr in snrs:
            if (claim, snr) not in by.index:
                cells.append("")
                continue
            c = by.loc[(claim, snr)]
            text = fmt.format(c["measured"])
            if np.isfinite(c["paper"]):
                text += f" (paper {fmt.format(c['paper'])})"
            agrees = c["agrees"]
            verdict = "yes" if agrees is True or agrees == 1.0 else "no" if agrees is False or agrees == 0.0 \
                else "undefined"
            if claim == "jaccard_gain_trend_per_decade" and verdict == "yes" and \
                    ("jaccard_gain_points", snr) in by.index and by.loc[("jaccard_gain_points", snr)]["measured"] < 0:
                verdict = "no (a deficit that shrinks)"  # a rising difference is only an advantage above 0
            text += ": " + verdict
            cells.append(text)
        table[label] = cells
    return pd.DataFrame.from_dict(table, orient="index", columns=snrs)


def claims_agreeing(claims) -> "pandas.Series":
    """Per SNR, how many of :data:`VERDICT_CLAIMS` show helix training better (of those defined)."""
    rows = claims[claims["claim"].isin([c for c, _ in VERDICT_CLAIMS])]
    defined = rows[rows["agrees"].notna()]
    return defined.groupby("snr", sort=False)["agrees"].agg(lambda a: int(sum(bool(x) for x in a)))


# -- command line --------------------------------------------------------------------------------
def add_study_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Options of ``structloc study`` (see :func:`cli_study`)."""
    parser.add_argument("--snr", nargs="+", choices=sorted(SNR_PRESETS), default=None,
                        help="signal level(s) (default: high medium low)")
    parser.add_argument("--approach", nargs="+", choices=APPROACHES, default=None,
                        help="training regime(s) (default: csr helix)")
    parser.add_argument("--nominal-density", nargs="+", type=float, default=None, metavar="D",
                        help="target nominal densities per um^2 (default: nine from 0.38 to 13; with "
                             "--challenge only those sets)")
    parser.add_argument("--challenge", nargs="+", type=str.upper, choices=CHALLENGE_SETS, default=None,
                        help="challenge test sets LD and/or HD (default: both, unless --nominal-density is given)")
    parser.add_argument("--frames", type=int, default=None, help="test frames per point (default 200; quick 30)")
    parser.add_argument("--seed", type=int, default=7, help="study seed (test frames and bootstrap)")
    parser.add_argument("--boot", type=int, default=None, help="bootstrap replicates (default 1000; quick 200)")
    parser.add_argument("--models", default=None,
                        help="directory of {approach}_{snr}.pt checkpoints (default: the models shipped "
                             "with structloc)")
    parser.add_argument("--training-seed", type=int, nargs="+", default=None,
                        help="use {approach}_{snr}_seed{S}.pt models (default: the shipped ones)")
    parser.add_argument("--device", default="cpu", help="torch device (cpu, cuda, ...)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--out", default=None, help="write the rows to this CSV (atomic), a .json provenance and "
                        "the lowest nominal density's localizations (OUT_lowest_density_locs.csv.gz)")
    parser.add_argument("--quick", action="store_true", help="reduced study: densities 0.38, 2.2, 13; 30 frames")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _config_from_args(args: argparse.Namespace) -> StudyConfig:
    options: dict[str, Any] = {"seed": args.seed, "models_dir": args.models, "device": args.device}
    if args.snr:
        options["snrs"] = tuple(args.snr)
    if args.approach:
        options["approaches"] = tuple(args.approach)
    if args.nominal_density is not None or args.challenge is not None:
        options["nominal_densities"] = tuple(args.nominal_density or ())
        options["challenge_sets"] = tuple(args.challenge or ())
    if args.frames is not None:
        options["n_frames"] = args.frames
    if args.boot is not None:
        options["n_boot"] = args.boot
    if args.training_seed is not None:
        options["training_seeds"] = tuple(args.training_seed)
    return StudyConfig.quick(**options) if args.quick else StudyConfig(**options)


def model_checksums(config: StudyConfig) -> dict[str, str]:
    """SHA-256 of every checkpoint a study config uses, keyed by file name (for provenance)."""
    import hashlib

    sums = {}
    for snr in config.snrs:
        for approach in config.approaches:
            for tseed in config.training_seeds:
                path = model_path(config.models_dir, approach, snr, tseed)
                if path.exists():
                    sums[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return sums


def cli_study(args: argparse.Namespace) -> int:
    """``structloc study``: run points of the study, print their rows, optionally write a CSV."""
    import torch

    if args.threads is not None:
        if args.threads < 1:
            raise ValueError(f"--threads must be >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    config = _config_from_args(args)
    start = time.perf_counter()
    lowest = min(config.nominal_densities) if config.nominal_densities else None
    df = run_study(config, progress=not args.no_progress, keep_locs_at=lowest)
    wall_s = time.perf_counter() - start
    shown = ["approach", "snr", "test_set", "count_density", "nominal_density", "n_frames", "jaccard",
             "jaccard_ci_low", "jaccard_ci_high", "rmse_lat_nm", "rmse_ax_nm", "rmse_vol_nm", "efficiency_3d",
             "checkerboard"]
    with __import__("pandas").option_context("display.width", 200, "display.max_columns", 30):
        print(df[shown].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if args.out:
        out = write_results(df, args.out)
        command = "structloc " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["study"] else "structloc study"
        write_provenance(Path(out).with_suffix(".json"), config, command=command, wall_s=wall_s,
                         extra={"training_seeds_note": "one training seed per approach (the shipped models)"
                                if config.training_seeds == (None,) else "several training seeds",
                                "model_sha256": model_checksums(config)})
        if df.attrs.get("locs"):
            write_locs(df.attrs["locs"], locs_path_for(out))
        print(f"wrote {len(df)} rows to {out} and {Path(out).with_suffix('.json')} in {wall_s:.0f} s")
    return 0
