"""The study loop: each approach localizes the same test frames; one results row per point.

:func:`run_point` evaluates one approach at one (SNR, test set) point: detection (JI,
precision, recall), accuracy (RMSE lateral/axial/volumetric), efficiency (lateral/axial/3D) with
percentile bootstrap confidence intervals over frames
(:func:`structloc.evaluate.metrics_with_intervals`), the checkerboard measure (sub-pixel bias
modulo the camera pixel and the output bin, :func:`structloc.render.subpixel_bias`; the ground
truth's value is the no-bias reference) and
the ``structloc study`` command that reproduces the row. :func:`run` does every point of a
:class:`~structloc.study.config.StudyConfig`, adds the paired helix - csr differences
(:func:`structloc.evaluate.paired_difference`) and returns the rows with the localizations it
was asked to keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from ..camera import Camera
from ..checks import integer_at_least
from ..emitters import Emitters
from ..evaluate import metrics_with_intervals, paired_difference
from ..field import Field
from ..localize import Localizer
from ..pretrained import MODELS_DIR
from ..psf import AstigmaticPSF
from ..render import subpixel_bias
from .config import StudyConfig, check_approach, check_snr, check_target, target_label
from .testsets import TestSet, simulate_test_set

__all__ = ["RESULT_COLUMNS", "model_path", "localizer_geometry", "shared_test_sets", "point_command", "run_point",
           "StudyRun", "run"]

_METRICS = ("jaccard", "precision", "recall", "rmse_lat_nm", "rmse_ax_nm", "rmse_vol_nm",
            "efficiency_lat", "efficiency_ax", "efficiency_3d")
#: Paired (helix - csr, same frames) differences; filled by :func:`run`, NaN for single points.
_DIFF_COLUMNS = ("jaccard_diff", "jaccard_diff_ci_low", "jaccard_diff_ci_high",
                 "rmse_vol_diff_nm", "rmse_vol_diff_ci_low", "rmse_vol_diff_ci_high")
#: Columns of the results table, in order.
RESULT_COLUMNS: tuple[str, ...] = (
    "approach", "snr", "test_set", "nominal_target", "count_density", "nominal_density", "n_frames",
    "n_truth", "n_pred", "tp", "fp", "fn",
    *[c for m in _METRICS for c in (m, f"{m}_ci_low", f"{m}_ci_high")],
    "checkerboard", "checkerboard_chi2", "checkerboard_dof", "checkerboard_p", "kl_pixel",
    "checkerboard_25nm", "checkerboard_25nm_chi2", "checkerboard_25nm_dof", "kl_25nm",
    "checkerboard_truth", "checkerboard_25nm_truth",
    *_DIFF_COLUMNS,
    "training_seed", "seed", "model", "command",
)


def model_path(models_dir: str | Path | None, approach: str, snr: str, training_seed: int | None = None) -> Path:
    """``models_dir/{approach}_{snr}.pt`` (shipped) or ``..._seed{s}.pt`` for another training seed.

    ``models_dir=None`` is the package's own models (:data:`structloc.pretrained.MODELS_DIR`).
    """
    suffix = "" if training_seed is None else f"_seed{int(training_seed)}"
    return Path(MODELS_DIR if models_dir is None else models_dir) / f"{check_approach(approach)}_{check_snr(snr)}{suffix}.pt"


def _load_localizer(path: Path, device: str) -> Localizer:
    if not path.exists():
        raise FileNotFoundError(f"no model {path}: train it with `structloc train` or pass --models DIR")
    return Localizer.from_checkpoint(path, device=device)


def localizer_geometry(localizer: Localizer) -> tuple[Field, AstigmaticPSF | None, Camera]:
    """Field, PSF and camera a model was trained with (its test frames must use the same)."""
    config = localizer.config
    return localizer.spec.field, config.psf if config is not None else None, localizer.camera


def shared_test_sets(snr: str, target: float | str, geometries: dict[str, tuple[Field, AstigmaticPSF | None, Camera]],
                     *, n_frames: int, seed: int, device: str = "cpu",
                     calibration_frames: int = 400) -> dict[str, TestSet]:
    """The test set of each approach at one point (:func:`simulate_test_set`): approaches whose
    models were trained with the same field, PSF and camera (``geometries``, from
    :func:`localizer_geometry`) get the very same frames, so their rows can be paired."""
    shared: dict[Any, TestSet] = {}
    tests = {}
    for approach, (field, psf, camera) in geometries.items():
        key = (field, repr(psf), repr(camera))
        if key not in shared:
            shared[key] = simulate_test_set(snr, target, n_frames=n_frames, seed=seed, field=field, psf=psf,
                                            camera=camera, device=device, calibration_frames=calibration_frames)
        tests[approach] = shared[key]
    return tests


def point_command(approach: str, snr: str, target: float | str, *, n_frames: int, seed: int,
                  n_boot: int = 1000, models_dir: str | None = None, training_seed: int | None = None) -> str:
    """The ``structloc study`` command that reproduces one row from the shipped models on a CPU."""
    target = check_target(target)
    where = f"--challenge {target}" if isinstance(target, str) else f"--nominal-density {target_label(target)}"
    parts = [f"structloc study --approach {approach} --snr {snr} {where} --frames {n_frames} --seed {seed}"]
    if n_boot != 1000:
        parts.append(f"--boot {n_boot}")
    if models_dir is not None:
        parts.append(f"--models {models_dir}")
    if training_seed is not None:
        parts.append(f"--training-seed {training_seed}")
    return " ".join(parts)


def run_point(approach: str, snr: str, target: float | str, *, n_frames: int = 200, seed: int = 7,
              models_dir: str | Path | None = None, training_seed: int | None = None,
              localizer: Localizer | None = None, test: TestSet | None = None, n_boot: int = 1000,
              confidence: float = 0.95,
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
    approach, snr, target = check_approach(approach), check_snr(snr), check_target(target)
    n_frames = integer_at_least("n_frames", n_frames)
    path = model_path(models_dir, approach, snr, training_seed)
    if localizer is None:
        localizer = _load_localizer(path, device)
    field, psf, camera = localizer_geometry(localizer)
    if test is None:
        test = simulate_test_set(snr, target, n_frames=n_frames, seed=seed, field=field, psf=psf, camera=camera,
                                 device=device)
    elif test.snr != snr or test.test_set != target_label(target) or len(test.frames) != n_frames:
        raise ValueError(f"the given test set ({test.snr}, {test.test_set}, {len(test.frames)} frames) is not "
                         f"the point ({snr}, {target_label(target)}, {n_frames} frames)")
    locs = localizer(test.frames)
    scored = metrics_with_intervals(test.truth, locs, n_frames=n_frames, n_boot=n_boot, seed=test.seed,
                                    confidence=confidence)
    pixel = subpixel_bias(locs, period_nm=field.pixel_nm)
    bin_nm = field.pixel_nm / localizer.spec.upsample
    fine = subpixel_bias(locs, period_nm=bin_nm)
    ckpt = localizer.checkpoint  # None for a network not loaded from a file: no training seed known
    used_seed = ckpt.config.seed if ckpt is not None else training_seed
    row: dict[str, Any] = {
        "approach": approach, "snr": snr, "test_set": test.test_set, "nominal_target": test.nominal_target,
        "count_density": test.count_density, "nominal_density": test.nominal_density, "n_frames": n_frames,
        "n_truth": len(test.truth), "n_pred": len(locs), **scored.to_dict(),
    }
    row.update({
        "checkerboard": pixel.checkerboard, "checkerboard_chi2": pixel.chi2, "checkerboard_dof": pixel.dof,
        "checkerboard_p": pixel.p_value, "kl_pixel": pixel.kl_divergence,
        "checkerboard_25nm": fine.checkerboard, "checkerboard_25nm_chi2": fine.chi2,
        "checkerboard_25nm_dof": fine.dof, "kl_25nm": fine.kl_divergence,
        "checkerboard_truth": subpixel_bias(test.truth, period_nm=field.pixel_nm).checkerboard,
        "checkerboard_25nm_truth": subpixel_bias(test.truth, period_nm=bin_nm).checkerboard,
        **{c: float("nan") for c in _DIFF_COLUMNS},
        "training_seed": used_seed, "seed": seed,
        "model": str(ckpt.path if ckpt is not None else path),
        "command": point_command(approach, snr, target, n_frames=n_frames, seed=seed, n_boot=n_boot,
                                 models_dir=None if models_dir is None else str(models_dir),
                                 training_seed=training_seed),
    })
    row = {k: row[k] for k in RESULT_COLUMNS}
    return (row, locs) if return_locs else row


@dataclass(frozen=True, eq=False)
class StudyRun:
    """What :func:`run` returns.

    Attributes
    ----------
    results : pandas.DataFrame
        One row per (approach, snr, test set, training seed), columns :data:`RESULT_COLUMNS`.
    locs : dict of (str, str) -> Emitters
        The kept test set's localizations, ``locs[(approach, snr)]``, and its ground truth,
        ``locs[("truth", snr)]``, for reconstructions (empty unless ``keep_locs_at`` was given).
    """

    results: pd.DataFrame
    locs: dict[tuple[str, str], Emitters]


def run(config: StudyConfig, progress: bool = True, *, localizers: dict | None = None,
        keep_locs_at: float | str | None = None) -> StudyRun:
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
        kept (:attr:`StudyRun.locs`).

    Returns
    -------
    StudyRun
        The results table and the kept localizations.
    """
    if not isinstance(config, StudyConfig):
        raise TypeError(f"config must be a StudyConfig, got {type(config).__name__}")
    localizers = dict(localizers or {})
    keep = None if keep_locs_at is None else target_label(check_target(keep_locs_at))
    rows: list[dict[str, Any]] = []
    kept: dict[tuple[str, str], Emitters] = {}
    total = len(config.snrs) * len(config.test_sets) * len(config.training_seeds) * len(config.approaches)
    bar = tqdm(total=total, disable=not progress, desc="study", unit="point")
    for snr in config.snrs:
        for tseed in config.training_seeds:
            models = {}
            for approach in config.approaches:
                key = (approach, snr, tseed)
                if key not in localizers:
                    localizers[key] = _load_localizer(model_path(config.models_dir, approach, snr, tseed),
                                                      config.device)
                models[approach] = localizers[key]
            geometries = {a: localizer_geometry(models[a]) for a in config.approaches}
            for target in config.test_sets:
                point_rows, point_locs = _run_test_set(config, snr, tseed, target, models, geometries, bar)
                rows.extend(point_rows)
                if keep is not None and target_label(target) == keep:
                    for approach, (locs, test) in point_locs.items():
                        kept[(approach, snr)] = locs
                        kept[("truth", snr)] = test.truth
    bar.close()
    return StudyRun(pd.DataFrame(rows, columns=list(RESULT_COLUMNS)), kept)


def _run_test_set(config: StudyConfig, snr: str, training_seed: int | None, target: float | str,
                  models: dict[str, Localizer], geometries: dict[str, tuple[Field, AstigmaticPSF | None, Camera]],
                  bar: Any) -> tuple[list[dict[str, Any]], dict[str, tuple[Emitters, TestSet]]]:
    """Rows of every approach at one test point, on test frames shared by models of one geometry.

    Approaches trained with the same field, PSF and camera see the very same frames; when csr
    and helix do, both rows get their paired difference (:func:`structloc.evaluate.paired_difference`).
    """
    tests = shared_test_sets(snr, target, geometries, n_frames=config.n_frames, seed=config.seed,
                             device=config.device, calibration_frames=config.calibration_frames)
    rows, point_locs = [], {}
    for approach in config.approaches:
        row, locs = run_point(approach, snr, target, n_frames=config.n_frames, seed=config.seed,
                              models_dir=config.models_dir, training_seed=training_seed, localizer=models[approach],
                              test=tests[approach], n_boot=config.n_boot, confidence=config.confidence,
                              device=config.device, return_locs=True)
        rows.append(row)
        point_locs[approach] = (locs, tests[approach])
        bar.update(1)
    if {"csr", "helix"} <= set(point_locs) and point_locs["csr"][1] is point_locs["helix"][1]:
        test = point_locs["csr"][1]
        diff = paired_difference(test.truth, point_locs["csr"][0], point_locs["helix"][0], n_frames=config.n_frames,
                                 n_boot=config.n_boot, confidence=config.confidence, seed=test.seed)
        for row in rows:
            row.update(diff)
    return rows, point_locs
