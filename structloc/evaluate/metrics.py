"""The challenge's metrics: detection (JI, precision, recall), accuracy (RMSE) and efficiency.

:func:`evaluate` matches once (:func:`~structloc.evaluate.matching.match`) and returns
:class:`Metrics`; :func:`frame_statistics` keeps, per frame, the sufficient statistics (TP, FP,
FN and the summed squared errors in nm^2) from which :func:`metrics_from_sums` computes every
metric, so that per-frame tables (:func:`evaluate_per_frame`), sums over frames and bootstrap
replicates (:mod:`~structloc.evaluate.intervals`) all share one set of formulas. The formulas and
the conventions for empty cases are those of :mod:`structloc.evaluate`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from ..emitters import Emitters
from .matching import _pair_errors, match

__all__ = [
    "ALPHA_LATERAL_PER_NM", "ALPHA_AXIAL_PER_NM", "Metrics", "efficiency", "metrics_from_sums", "evaluate",
    "frame_statistics", "evaluate_per_frame", "density_sweep",
]

#: Weight of the lateral RMSE in the efficiency, per nm (Sage et al. 2019).
ALPHA_LATERAL_PER_NM = 0.01
#: Weight of the axial RMSE in the efficiency, per nm (Sage et al. 2019).
ALPHA_AXIAL_PER_NM = 0.005
#: Per-frame sufficient statistics, in this column order (see :func:`frame_statistics`).
_STAT_COLUMNS = ("tp", "fp", "fn", "sse_lat_nm2", "sse_ax_nm2")


def efficiency(jaccard: Any, rmse_nm: Any, alpha_per_nm: float) -> Any:
    """Localization efficiency of Sage et al. (2019): ``1 - sqrt((1 - JI)^2 + alpha^2 RMSE^2)``.

    Parameters
    ----------
    jaccard : float or array_like
        Jaccard index as a fraction in [0, 1] (not in percent).
    rmse_nm : float or array_like
        Root-mean-square error in nm (lateral or axial). NaN gives NaN.
    alpha_per_nm : float
        Weight of the RMSE, per nm: 0.01 lateral, 0.005 axial.

    Returns
    -------
    float or np.ndarray
        Efficiency as a fraction (1 is perfect; it can be negative). Multiply by 100 for the
        paper's percent values: JI = 0.91204 and RMSE = 32.077 nm with alpha = 0.01 /nm give
        0.66739 (66.739 %).
    """
    ji = np.asarray(jaccard, dtype=float)
    rmse = np.asarray(rmse_nm, dtype=float)
    if np.any((ji < 0) | (ji > 1)):
        raise ValueError("jaccard must be a fraction in [0, 1] (not percent)")
    if np.any(rmse < 0):
        raise ValueError("rmse_nm must be >= 0 nm")
    if not (np.isfinite(alpha_per_nm) and alpha_per_nm >= 0):
        raise ValueError(f"alpha_per_nm must be finite and >= 0, got {alpha_per_nm!r}")
    out = 1.0 - np.sqrt((1.0 - ji) ** 2 + (alpha_per_nm * rmse) ** 2)
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class Metrics:
    """Detection and accuracy metrics of one evaluation (see the module docstring for formulas).

    Attributes
    ----------
    tp, fp, fn : int
        True positives, false positives, false negatives.
    precision, recall, jaccard : float
        ``TP/(TP+FP)``, ``TP/(TP+FN)``, ``TP/(TP+FP+FN)``, fractions in [0, 1].
    rmse_lat_nm, rmse_ax_nm, rmse_vol_nm : float
        Lateral, axial and 3D root-mean-square error of the matched pairs in nm (NaN if TP = 0).
    efficiency_lat, efficiency_ax, efficiency_3d : float
        Efficiencies (fractions) with alpha 0.01 /nm, 0.005 /nm, and their mean.
    """

    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    jaccard: float
    rmse_lat_nm: float
    rmse_ax_nm: float
    rmse_vol_nm: float
    efficiency_lat: float
    efficiency_ax: float
    efficiency_3d: float

    def to_dict(self) -> dict[str, float | int]:
        """The metrics as a plain dict (ints and floats; NaN stays NaN)."""
        return asdict(self)

    @classmethod
    def from_sums(cls, sums: Any) -> Metrics:
        """The metrics of one row of summed statistics (see :func:`metrics_from_sums`).

        Parameters
        ----------
        sums : array_like, shape (5,)
            tp, fp, fn, the summed squared lateral errors (nm^2) and the summed squared axial
            errors (nm^2), e.g. :func:`frame_statistics` summed over frames.

        Returns
        -------
        Metrics
            tp, fp, fn as ints, every other field as a float.
        """
        sums = np.asarray(sums, dtype=float)
        if sums.shape != (5,):
            raise ValueError(f"Metrics.from_sums takes the 5 summed statistics, got shape {sums.shape}")
        cols = metrics_from_sums(sums)
        return cls(**{k: (int(v) if k in ("tp", "fp", "fn") else float(v)) for k, v in cols.items()})


def metrics_from_sums(stats: np.ndarray) -> dict[str, np.ndarray]:
    """Metric columns from summed per-frame statistics.

    Parameters
    ----------
    stats : array_like, shape (..., 5)
        Sums of tp, fp, fn, squared lateral errors (nm^2) and squared axial errors (nm^2), as
        produced by :func:`frame_statistics` summed over frames (or bootstrap-weighted).

    Returns
    -------
    dict of str -> np.ndarray
        The :class:`Metrics` fields other than tp/fp/fn, each of shape ``stats.shape[:-1]``.
    """
    stats = np.asarray(stats, dtype=float)
    tp, fp, fn, sse_lat, sse_ax = np.moveaxis(stats, -1, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), 1.0)
        recall = np.where(tp + fn > 0, tp / (tp + fn), 1.0)
        jaccard = np.where(tp + fp + fn > 0, tp / (tp + fp + fn), 1.0)
        rmse_lat = np.where(tp > 0, np.sqrt(sse_lat / tp), np.nan)
        rmse_ax = np.where(tp > 0, np.sqrt(sse_ax / tp), np.nan)
        rmse_vol = np.where(tp > 0, np.sqrt((sse_lat + sse_ax) / tp), np.nan)
    # Without a matched pair there is no accuracy term (see the module docstring).
    e_lat = efficiency(jaccard, np.nan_to_num(rmse_lat, nan=0.0), ALPHA_LATERAL_PER_NM)
    e_ax = efficiency(jaccard, np.nan_to_num(rmse_ax, nan=0.0), ALPHA_AXIAL_PER_NM)
    return {
        "tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "jaccard": jaccard,
        "rmse_lat_nm": rmse_lat, "rmse_ax_nm": rmse_ax, "rmse_vol_nm": rmse_vol,
        "efficiency_lat": e_lat, "efficiency_ax": e_ax, "efficiency_3d": (e_lat + e_ax) / 2.0,
    }

def evaluate(truth: Emitters, pred: Emitters, **match_kwargs: Any) -> Metrics:
    """Match ``pred`` to ``truth`` (see :func:`match`) and compute the challenge metrics.

    Parameters
    ----------
    truth, pred : Emitters
        Ground truth and localizations (nm; frames from 0).
    **match_kwargs
        ``lateral_tol_nm``, ``axial_tol_nm``, ``method``, passed to :func:`match`.

    Returns
    -------
    Metrics
    """
    m = match(truth, pred, **match_kwargs)
    sq_lat, sq_ax = _pair_errors(truth, pred, m)
    return Metrics.from_sums(np.array([m.tp, m.fp, m.fn, sq_lat.sum(), sq_ax.sum()], float))


def frame_statistics(truth: Emitters, pred: Emitters, *, n_frames: int | None = None,
                     **match_kwargs: Any) -> np.ndarray:
    """Per-frame sufficient statistics of the evaluation.

    Parameters
    ----------
    truth, pred : Emitters
    n_frames : int, optional
        Number of frames (rows); default: one more than the largest frame in either table.
    **match_kwargs
        Passed to :func:`match`.

    Returns
    -------
    np.ndarray, shape (n_frames, 5)
        Columns tp, fp, fn, sum(dx^2 + dy^2) in nm^2, sum(dz^2) in nm^2. Summing rows and
        computing metrics from the sums reproduces :func:`evaluate`.
    """
    m = match(truth, pred, **match_kwargs)
    needed = max(truth.n_frames, pred.n_frames)
    if n_frames is None:
        n_frames = needed
    if not isinstance(n_frames, (int, np.integer)) or n_frames < needed:
        raise ValueError(f"n_frames must be an integer >= {needed} (frames present), got {n_frames!r}")
    sq_lat, sq_ax = _pair_errors(truth, pred, m)
    pair_frame = truth.frame[m.truth_index]
    tp = np.bincount(pair_frame, minlength=n_frames)
    n_pred = np.bincount(pred.frame, minlength=n_frames)
    n_truth = np.bincount(truth.frame, minlength=n_frames)
    return np.column_stack([
        tp, n_pred - tp, n_truth - tp,
        np.bincount(pair_frame, weights=sq_lat, minlength=n_frames),
        np.bincount(pair_frame, weights=sq_ax, minlength=n_frames),
    ]).astype(float)


def evaluate_per_frame(truth: Emitters, pred: Emitters, *, n_frames: int | None = None,
                       **match_kwargs: Any):
    """Metrics of every frame, as a pandas DataFrame with a ``frame`` column (from 0).

    Same conventions as :func:`evaluate`; empty frames get JI = 1 and NaN RMSEs.
    """
    import pandas as pd

    stats = frame_statistics(truth, pred, n_frames=n_frames, **match_kwargs)
    cols = metrics_from_sums(stats)
    df = pd.DataFrame({"frame": np.arange(stats.shape[0]), **cols})
    return df.astype({"tp": np.int64, "fp": np.int64, "fn": np.int64})


def density_sweep(cases: Callable[[float], tuple[Emitters, Emitters]] | Iterable[tuple[float, Emitters, Emitters]],
                  densities: Sequence[float] | None = None, **match_kwargs: Any):
    """Evaluate at several emitter densities; one table row per density.

    Parameters
    ----------
    cases : callable or iterable
        Either a function ``density_per_um2 -> (truth, pred)`` (then ``densities`` is required),
        or an iterable of ``(density_per_um2, truth, pred)`` triples.
    densities : sequence of float, optional
        Densities in emitters per um^2, for a callable ``cases``.
    **match_kwargs
        Passed to :func:`match`.

    Returns
    -------
    pandas.DataFrame
        Columns ``density_per_um2, n_truth, n_pred`` and every :class:`Metrics` field.
    """
    import pandas as pd

    if callable(cases):
        if densities is None:
            raise ValueError("density_sweep: give `densities` when `cases` is a function")
        triples: Iterable = ((d, *cases(d)) for d in densities)
    else:
        if densities is not None:
            raise ValueError("density_sweep: `densities` is only used when `cases` is a function")
        triples = cases
    rows = []
    for item in triples:
        if len(item) != 3:
            raise ValueError("density_sweep: each case must be (density_per_um2, truth, pred)")
        density, truth, pred = item
        metrics = evaluate(truth, pred, **match_kwargs)
        rows.append({"density_per_um2": float(density), "n_truth": len(truth), "n_pred": len(pred),
                     **metrics.to_dict()})
    columns = ["density_per_um2", "n_truth", "n_pred", *Metrics.__dataclass_fields__]
    return pd.DataFrame(rows, columns=columns)
