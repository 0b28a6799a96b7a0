"""Bootstrap confidence intervals of the metrics, resampling frames with replacement.

Frames are the independent units of a test set, so each replicate draws as many frames as there
are, with replacement, and recomputes the metrics from the summed per-frame statistics of
:func:`~structloc.evaluate.metrics.frame_statistics` (the matching is done once). One resampling
routine, :func:`_resampled_metrics`, serves :func:`bootstrap_ci` (one table) and
:func:`paired_difference` (two tables resampled with the *same* frame counts); intervals are
two-sided percentile intervals. :func:`metrics_with_intervals` gives what a results table reports
per localizer, the metrics on all frames and their intervals, from one matching.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from ..checks import integer_at_least
from ..emitters import Emitters
from .metrics import Metrics, frame_statistics, metrics_from_sums

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["bootstrap_ci", "paired_difference", "MetricsWithIntervals", "metrics_with_intervals"]

#: The metrics that get an interval: every :class:`Metrics` field but the counts tp, fp, fn.
_INTERVAL_METRICS: tuple[str, ...] = tuple(n for n in Metrics.__dataclass_fields__ if n not in ("tp", "fp", "fn"))


def _resampled_metrics(stats: Sequence[np.ndarray], n_boot: int, seed: int) -> list[dict[str, np.ndarray]]:
    """Metrics of ``n_boot`` bootstrap replicates of frames, drawn jointly for every table.

    Each replicate draws as many frames as there are, with replacement (multinomial counts from
    ``np.random.default_rng(seed)``), and recomputes the metrics of each per-frame statistics
    table in ``stats`` (all of the same frames, see :func:`frame_statistics`) with the *same*
    counts, so paired comparisons share their resampling.

    Returns
    -------
    list of dict
        One :func:`metrics_from_sums` dict of arrays (length ``n_boot``) per table.
    """
    n = stats[0].shape[0]
    rng = np.random.default_rng(seed)
    block = max(1, 2_000_000 // n)  # bound the (replicates x frames) count matrix in memory
    blocks: list[list[dict[str, np.ndarray]]] = [[] for _ in stats]
    for start in range(0, n_boot, block):
        counts = rng.multinomial(n, np.full(n, 1.0 / n), size=min(block, n_boot - start))
        for table_blocks, table in zip(blocks, stats):
            table_blocks.append(metrics_from_sums(counts @ table))
    return [{k: np.concatenate([b[k] for b in table_blocks]) for k in table_blocks[0]} for table_blocks in blocks]


def _percentile_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """Two-sided percentile interval of the finite ``values`` (NaN, NaN if none is finite)."""
    finite = values[np.isfinite(values)]
    q = [(1 - confidence) / 2 * 100, (1 + confidence) / 2 * 100]
    low, high = np.percentile(finite, q) if finite.size else (np.nan, np.nan)
    return float(low), float(high)


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")


def _check_bootstrap(n_boot: int, confidence: float) -> None:
    """The checks of :func:`bootstrap_ci` (and :func:`metrics_with_intervals`), in this order."""
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot!r}")
    _check_confidence(confidence)


def _interval_table(stats: np.ndarray, n_boot: int, confidence: float, seed: int) -> pd.DataFrame:
    """:func:`bootstrap_ci`'s table from the per-frame statistics ``stats``, shape (n_frames, 5)."""
    import pandas as pd

    names = list(_INTERVAL_METRICS)
    estimate = metrics_from_sums(stats.sum(axis=0))
    n = stats.shape[0]
    if n == 0:
        return pd.DataFrame({"estimate": [float(estimate[k]) for k in names], "low": np.nan,
                             "high": np.nan}, index=names)
    (samples,) = _resampled_metrics([stats], n_boot, seed)
    rows = {}
    for k in names:
        low, high = _percentile_interval(samples[k], confidence)
        rows[k] = {"estimate": float(estimate[k]), "low": low, "high": high}
    return pd.DataFrame.from_dict(rows, orient="index")[["estimate", "low", "high"]]


def bootstrap_ci(truth: Emitters, pred: Emitters, *, n_boot: int = 1000, confidence: float = 0.95,
                 seed: int = 0, n_frames: int | None = None, **match_kwargs: Any):
    """Bootstrap confidence intervals of the metrics, resampling frames with replacement.

    The matching is done once; each bootstrap replicate draws ``n_frames`` frames with
    replacement (multinomial counts) and recomputes the metrics from the summed per-frame
    statistics (:func:`frame_statistics`), so the cost is independent of the number of emitters.

    Parameters
    ----------
    truth, pred : Emitters
    n_boot : int
        Number of bootstrap replicates (>= 1).
    confidence : float
        Two-sided confidence level in (0, 1); percentile intervals.
    seed : int
        Seed of ``np.random.default_rng``.
    n_frames : int, optional
        Frames to resample from (default: one more than the largest frame in either table).
    **match_kwargs
        Passed to :func:`match`.

    Returns
    -------
    pandas.DataFrame
        Indexed by metric name (jaccard, precision, recall, the RMSEs and efficiencies), columns
        ``estimate`` (on all frames), ``low``, ``high``. NaN replicates (no matched pair) are
        ignored in the RMSE percentiles.
    """
    _check_bootstrap(n_boot, confidence)
    stats = frame_statistics(truth, pred, n_frames=n_frames, **match_kwargs)
    return _interval_table(stats, n_boot, confidence, seed)


def paired_difference(truth: Emitters, pred_a: Emitters, pred_b: Emitters, *, n_frames: int, n_boot: int = 1000,
                      confidence: float = 0.95, seed: int = 0) -> dict[str, float]:
    """Paired bootstrap of ``b - a`` on the same frames: JI difference and RMSE_vol difference (nm).

    Frames are resampled jointly for both localization tables (multinomial counts over the
    per-frame statistics of :func:`frame_statistics`, as :func:`bootstrap_ci`), so variation
    shared by both (how crowded a frame happens to be) cancels.

    Returns
    -------
    dict
        ``jaccard_diff`` and ``rmse_vol_diff_nm`` (estimates on all frames) with ``..._ci_low`` /
        ``..._ci_high`` percentile bounds (for the RMSE, ``rmse_vol_diff_ci_low/high``).
    """
    n_frames = integer_at_least("n_frames", n_frames)
    n_boot = integer_at_least("n_boot", n_boot)
    _check_confidence(confidence)
    stats = [frame_statistics(truth, pred, n_frames=n_frames) for pred in (pred_a, pred_b)]
    full = [metrics_from_sums(s.sum(axis=0)) for s in stats]
    boot = _resampled_metrics(stats, n_boot, seed)
    out: dict[str, float] = {}
    for key, name in (("jaccard", "jaccard_diff"), ("rmse_vol_nm", "rmse_vol_diff")):
        out[name if key == "jaccard" else "rmse_vol_diff_nm"] = float(full[1][key] - full[0][key])
        out[f"{name}_ci_low"], out[f"{name}_ci_high"] = _percentile_interval(boot[1][key] - boot[0][key], confidence)
    return out



@dataclass(frozen=True, eq=False)
class MetricsWithIntervals:
    """The metrics of one localization table on all frames, with their bootstrap intervals.

    Attributes
    ----------
    metrics : Metrics
        The metrics on all frames, from the summed per-frame statistics. These are the numbers of
        :func:`~structloc.evaluate.metrics.evaluate`: TP, FP, FN, precision, recall and JI
        exactly, the RMSEs (nm) and efficiencies up to the order in which the squared errors
        are summed (relative differences of order 1e-16).
    intervals : pandas.DataFrame
        :func:`bootstrap_ci`'s table: indexed by metric name (every :class:`Metrics` field but
        tp, fp, fn), columns ``estimate`` (exactly the value in ``metrics``), ``low``, ``high``.
    confidence : float
        Two-sided confidence level of the percentile intervals, in (0, 1).
    """

    metrics: Metrics
    intervals: pd.DataFrame
    confidence: float

    def to_dict(self) -> dict[str, float | int]:
        """One flat row: ``tp, fp, fn``, then per metric its value, ``{metric}_ci_low`` and
        ``{metric}_ci_high`` (fractions; RMSEs in nm; NaN stays NaN)."""
        row: dict[str, float | int] = {"tp": self.metrics.tp, "fp": self.metrics.fp, "fn": self.metrics.fn}
        for name in self.intervals.index:
            row[name] = getattr(self.metrics, name)
            row[f"{name}_ci_low"] = float(self.intervals.loc[name, "low"])
            row[f"{name}_ci_high"] = float(self.intervals.loc[name, "high"])
        return row


def metrics_with_intervals(truth: Emitters, pred: Emitters, *, n_frames: int, n_boot: int, seed: int,
                           confidence: float = 0.95, **match_kwargs: Any) -> MetricsWithIntervals:
    """The metrics on all frames and their bootstrap confidence intervals, from one matching.

    What a results table reports for one localizer on one test set: the metrics of
    :func:`~structloc.evaluate.metrics.evaluate` and the intervals of :func:`bootstrap_ci` (with
    the same arguments, the very same intervals), with the frames matched once and the point
    metrics taken from the same per-frame statistics as the intervals.

    Parameters
    ----------
    truth, pred : Emitters
        Ground truth and localizations (nm; frames from 0).
    n_frames : int
        Frames of the test set, resampled by the bootstrap; frames in which neither table has a
        row count too, so give the number of frames localized, not the largest frame present.
    n_boot : int
        Number of bootstrap replicates (>= 1).
    seed : int
        Seed of ``np.random.default_rng``; the same seed gives the same intervals.
    confidence : float
        Two-sided confidence level in (0, 1); percentile intervals. Default 0.95.
    **match_kwargs
        ``lateral_tol_nm``, ``axial_tol_nm``, ``method``, passed to
        :func:`~structloc.evaluate.matching.match`.

    Returns
    -------
    MetricsWithIntervals
        ``metrics`` (:class:`Metrics`) and ``intervals`` (:func:`bootstrap_ci`'s table).

    Raises
    ------
    ValueError
        As :func:`bootstrap_ci`: ``n_boot`` not a positive integer, ``confidence`` outside
        (0, 1), ``n_frames`` fewer than the frames present, or bad matching arguments.
    """
    _check_bootstrap(n_boot, confidence)
    stats = frame_statistics(truth, pred, n_frames=n_frames, **match_kwargs)
    return MetricsWithIntervals(Metrics.from_sums(stats.sum(axis=0)), _interval_table(stats, n_boot, confidence, seed),
                                float(confidence))
