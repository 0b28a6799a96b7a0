"""Accuracy against the bound of each emitter in its frame: is a localizer's error the frame's physics?

A frame costs some emitters precision that no estimator can recover: a neighbour's overlapping
PSF, or the frame's edge cutting a defocused spot (:func:`structloc.frame_crlb.frame_crlb`). This
module groups the true emitters by that cost, the *crowding factor*

    c = (bound of the emitter in its frame) / (bound of the same emitter alone, whole PSF),

both volumetric (``sqrt(x^2 + y^2 + z^2)`` of the CRLBs), and reports per group the recall, the
RMSE of the matched pairs, their median bound, and the error in units of the bound,
``sqrt(mean((error_i / bound_i)^2))``: 1 for an unbiased estimator that reaches the bound, the
same number in every group for a localizer whose inefficiency does not depend on the frame.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..emitters import Emitters
from .matching import _pair_errors, match

__all__ = ["bound_profile", "crowding_group", "crowding_labels", "CROWDING_EDGES"]

#: Default group edges of the crowding factor: as if alone (< 1.25), then 1.25-2, 2-4 and >= 4
#: (the last holds the emitters that cannot be told apart from a neighbour, bound ``inf``).
CROWDING_EDGES = (1.0, 1.25, 2.0, 4.0, np.inf)


def _check_edges(edges: Sequence[float]) -> np.ndarray:
    edges = np.asarray(edges, np.float64)
    if edges.ndim != 1 or edges.size < 2 or np.isnan(edges).any() or np.any(np.diff(edges) <= 0):
        raise ValueError(f"edges must be at least two strictly increasing values, got {edges!r}")
    return edges


def crowding_group(factor, edges: Sequence[float] = CROWDING_EDGES) -> np.ndarray:
    """Index of the group of each crowding factor (values outside ``edges`` go to the first or
    last group; ``inf`` to the last)."""
    edges = _check_edges(edges)
    return np.clip(np.searchsorted(edges, np.asarray(factor, np.float64), side="right") - 1, 0, edges.size - 2)


def crowding_labels(edges: Sequence[float] = CROWDING_EDGES) -> list[str]:
    """``"1-1.25"``, ..., ``"4-inf"``: one label per group of ``edges``."""
    edges = _check_edges(edges)
    return [f"{low:g}-{'inf' if np.isinf(high) else f'{high:g}'}" for low, high in zip(edges[:-1], edges[1:])]


def bound_profile(truth: Emitters, pred: Emitters, frame_bound_nm, isolated_bound_nm,
                  edges: Sequence[float] = CROWDING_EDGES, **match_kwargs: Any):
    """Recall and accuracy of a localizer by how much each emitter's frame costs its precision.

    Parameters
    ----------
    truth, pred : Emitters
        Ground truth and localizations (nm; frames from 0).
    frame_bound_nm : array_like, shape (len(truth),)
        Volumetric CRLB of each true emitter in its frame (nm; ``inf`` where it cannot be told
        apart from a neighbour), e.g. ``frame_crlb(...).volumetric_nm``.
    isolated_bound_nm : array_like, shape (len(truth),)
        Volumetric CRLB of the same emitter alone (nm, > 0), e.g. ``crlb(...).volumetric_nm``.
    edges : sequence of float
        Increasing group edges of the crowding factor (at least two; the last may be ``inf``).
        Factors outside count in the first or last group.
    **match_kwargs
        ``lateral_tol_nm``, ``axial_tol_nm``, ``method``, passed to :func:`match`.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``crowding_low, crowding_high, n_truth, share`` (of all emitters),
        ``tp, recall, rmse_vol_nm, median_bound_nm`` (the median bound of the matched pairs,
        ``inf`` when most have none), ``error_over_bound`` (see the module docstring; the pairs with
        a finite bound), and ``unbounded`` (emitters of the group with an infinite bound). Recall
        is NaN in an empty group, the accuracy columns without pairs.

    Raises
    ------
    ValueError
        For bounds of the wrong length, NaN or non-positive bounds, or bad edges.
    """
    import pandas as pd

    frame_bound = np.asarray(frame_bound_nm, np.float64)
    isolated = np.asarray(isolated_bound_nm, np.float64)
    for name, values in (("frame_bound_nm", frame_bound), ("isolated_bound_nm", isolated)):
        if values.shape != (len(truth),):
            raise ValueError(f"{name} must hold one bound per true emitter ({len(truth)}), got shape {values.shape}")
        if np.isnan(values).any() or (values <= 0).any():
            raise ValueError(f"{name} must be positive (inf allowed for the frame bound), without NaN")
    if not np.isfinite(isolated).all():
        raise ValueError("isolated_bound_nm must be finite")
    edges = _check_edges(edges)
    n_groups = edges.size - 1
    group = crowding_group(frame_bound / isolated, edges)
    m = match(truth, pred, **match_kwargs)
    sq_lat, sq_ax = _pair_errors(truth, pred, m)
    error_sq = sq_lat + sq_ax
    pair_bound = frame_bound[m.truth_index]
    pair_group = group[m.truth_index]
    finite = np.isfinite(pair_bound)

    def per_group(groups: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(groups, weights=weights, minlength=n_groups).astype(float)

    n_truth = per_group(group)
    tp = per_group(pair_group)
    fin = per_group(pair_group[finite])
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame({
            "crowding_low": edges[:-1], "crowding_high": edges[1:],
            "n_truth": n_truth.astype(np.int64),
            "share": n_truth / max(len(truth), 1),
            "tp": tp.astype(np.int64),
            "recall": np.where(n_truth > 0, tp / n_truth, np.nan),
            "rmse_vol_nm": np.sqrt(per_group(pair_group, error_sq) / tp),
            "median_bound_nm": [np.median(pair_bound[pair_group == g]) if tp[g] else np.nan for g in range(n_groups)],
            "error_over_bound": np.sqrt(per_group(pair_group[finite], error_sq[finite] / pair_bound[finite] ** 2) / fin),
            "unbounded": per_group(group[~np.isfinite(frame_bound)]).astype(np.int64),
        })
