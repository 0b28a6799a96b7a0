"""Bootstrap confidence intervals of the metrics, resampling frames with replacement.

Frames are the independent units of a test set, so each replicate draws as many frames as there
are, with replacement, and recomputes the metrics from the summed per-frame statistics of
:func:`~structloc.evaluate.metrics.frame_statistics` (the matching is done once). One resampling
routine, :func:`_resampled_metrics`, serves :func:`bootstrap_ci` (one table) and
:func:`paired_difference` (two tables resampled with the *same* frame counts); intervals are
two-sided percentile intervals.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..checks import integer_at_least
from ..emitters import Emitters
from .metrics import Metrics, frame_statistics, metrics_from_sums

__all__ = ["bootstrap_ci", "paired_difference"]


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
    import pandas as pd

    if not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    stats = frame_statistics(truth, pred, n_frames=n_frames, **match_kwargs)
    names = [n for n in Metrics.__dataclass_fields__ if n not in ("tp", "fp", "fn")]
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
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    stats = [frame_statistics(truth, pred, n_frames=n_frames) for pred in (pred_a, pred_b)]
    full = [metrics_from_sums(s.sum(axis=0)) for s in stats]
    boot = _resampled_metrics(stats, n_boot, seed)
    out: dict[str, float] = {}
    for key, name in (("jaccard", "jaccard_diff"), ("rmse_vol_nm", "rmse_vol_diff")):
        out[name if key == "jaccard" else "rmse_vol_diff_nm"] = float(full[1][key] - full[0][key])
        out[f"{name}_ci_low"], out[f"{name}_ci_high"] = _percentile_interval(boot[1][key] - boot[0][key], confidence)
    return out

