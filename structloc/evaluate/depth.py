"""Evaluation by depth: detection and accuracy in slabs of the true (or predicted) z."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..emitters import Emitters
from .matching import _pair_errors, match

__all__ = ["axial_profile"]


def axial_profile(truth: Emitters, pred: Emitters, edges_nm: Sequence[float] | None = None,
                  **match_kwargs: Any):
    """Detection and accuracy in slabs of depth: where along z does a localizer lose emitters?

    The matching is done once on the whole tables (:func:`match`); the pairs and misses are then
    binned by the *true* z of the emitter, the false positives by their *predicted* z. Values
    outside ``edges_nm`` count in the first or last slab.

    Parameters
    ----------
    truth, pred : Emitters
        Ground truth and localizations (nm; frames from 0).
    edges_nm : sequence of float, optional
        Increasing slab edges in nm, at least two (default: six 250 nm slabs over -750..750 nm).
    **match_kwargs
        ``lateral_tol_nm``, ``axial_tol_nm``, ``method``, passed to :func:`match`.

    Returns
    -------
    pandas.DataFrame
        One row per slab: ``z_low_nm, z_high_nm, z_mid_nm, n_truth, tp, fp, fn, recall, jaccard,
        rmse_lat_nm, rmse_ax_nm, bias_z_nm`` (mean predicted minus true z of the pairs, nm).
        ``recall`` is NaN in a slab without emitters; the RMSEs and bias are NaN without pairs.
    """
    import pandas as pd

    edges = np.array([-750.0, -500.0, -250.0, 0.0, 250.0, 500.0, 750.0] if edges_nm is None else edges_nm,
                     dtype=float)
    if edges.ndim != 1 or edges.size < 2 or not np.isfinite(edges).all() or np.any(np.diff(edges) <= 0):
        raise ValueError(f"edges_nm must be at least two finite, strictly increasing values in nm, got {edges_nm!r}")
    m = match(truth, pred, **match_kwargs)
    n_bins = edges.size - 1

    def slab(z_nm: np.ndarray) -> np.ndarray:
        return np.clip(np.searchsorted(edges, z_nm, side="right") - 1, 0, n_bins - 1)

    def per_slab(z_nm: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(slab(z_nm), weights=weights, minlength=n_bins).astype(float)

    sq_lat, sq_ax = _pair_errors(truth, pred, m)
    z_pair = truth.z_nm[m.truth_index]
    dz = pred.z_nm[m.pred_index] - z_pair
    n_truth, tp = per_slab(truth.z_nm), per_slab(z_pair)
    unmatched = np.ones(len(pred), bool)
    unmatched[m.pred_index] = False
    fp = per_slab(pred.z_nm[unmatched])
    fn = n_truth - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        table = pd.DataFrame({
            "z_low_nm": edges[:-1], "z_high_nm": edges[1:], "z_mid_nm": (edges[:-1] + edges[1:]) / 2,
            "n_truth": n_truth.astype(np.int64), "tp": tp.astype(np.int64), "fp": fp.astype(np.int64),
            "fn": fn.astype(np.int64),
            "recall": np.where(n_truth > 0, tp / n_truth, np.nan),
            "jaccard": np.where(tp + fp + fn > 0, tp / (tp + fp + fn), np.nan),
            "rmse_lat_nm": np.sqrt(per_slab(z_pair, sq_lat) / tp),
            "rmse_ax_nm": np.sqrt(per_slab(z_pair, sq_ax) / tp),
            "bias_z_nm": per_slab(z_pair, dz) / tp,
        })
    return table
