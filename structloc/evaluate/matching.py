"""Matching of localizations to ground-truth emitters, frame by frame (the challenge's rule).

A localization and an emitter of the same frame may pair when their lateral distance is within
``lateral_tol_nm`` (default 250 nm) and their axial distance within ``axial_tol_nm`` (500 nm).
The feasible pairs are found with one KD-tree query for all frames (:func:`_candidate_pairs`);
:func:`match` then keeps a one-to-one subset of them, greedily by distance as the challenge does
(``method="greedy"``) or as the maximum assignment of smallest summed distance
(``method="hungarian"``). The resulting :class:`Matching` holds the paired row indices and the
TP / FP / FN counts that :mod:`~structloc.evaluate.metrics` turns into metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from ..emitters import Emitters

__all__ = ["MATCHING_METHODS", "Matching", "match"]

#: Ways of matching predictions to the ground truth (``evaluate(method=...)``).
MATCHING_METHODS: tuple[str, ...] = ("greedy", "hungarian")


@dataclass(frozen=True, eq=False)
class Matching:
    """Pairs of matched ground-truth emitters and localizations.

    Attributes
    ----------
    truth_index, pred_index : np.ndarray of int64, shape (tp,)
        Row indices into the ground-truth and the prediction table; pair ``k`` is
        ``(truth_index[k], pred_index[k])``. Sorted by ``truth_index``.
    tp, fp, fn : int
        True positives (pairs), false positives (unmatched localizations) and false negatives
        (unmatched emitters).
    """

    truth_index: np.ndarray
    pred_index: np.ndarray
    tp: int
    fp: int
    fn: int

    def __post_init__(self) -> None:
        if self.truth_index.shape != self.pred_index.shape or self.truth_index.ndim != 1:
            raise ValueError("Matching.truth_index and pred_index must be 1-D arrays of equal length")
        if self.tp != len(self.truth_index):
            raise ValueError(f"Matching.tp ({self.tp}) must equal the number of pairs ({len(self.truth_index)})")


def _check_tables(truth: Any, pred: Any) -> None:
    for name, table in (("truth", truth), ("pred", pred)):
        if not isinstance(table, Emitters):
            raise TypeError(f"{name} must be a structloc Emitters table, got {type(table).__name__}")


def _check_tolerances(lateral_tol_nm: float, axial_tol_nm: float, method: str) -> None:
    for name, value in (("lateral_tol_nm", lateral_tol_nm), ("axial_tol_nm", axial_tol_nm)):
        if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
            raise TypeError(f"{name} must be a number in nm, got {type(value).__name__}")
        if not (np.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be finite and >= 0 nm, got {value!r}")
    if method not in MATCHING_METHODS:
        raise ValueError(f"unknown matching method {method!r}; choose one of {list(MATCHING_METHODS)}")


def _candidate_pairs(truth: Emitters, pred: Emitters, lateral_tol_nm: float,
                     axial_tol_nm: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All feasible (truth, pred) pairs of the same frame, with their 3D distance in nm.

    One KD-tree query for every frame at once: each frame's x is shifted by ``frame * stride``
    with a stride wider than the data plus the tolerance, so that points of different frames are
    never within reach. Distances are then recomputed from the unshifted coordinates.
    """
    empty = np.zeros(0, np.int64)
    if len(truth) == 0 or len(pred) == 0:
        return empty, empty, np.zeros(0)
    x_all = np.concatenate([truth.x_nm, pred.x_nm])
    stride = float(x_all.max() - x_all.min()) + 4.0 * lateral_tol_nm + 1.0
    x0 = float(x_all.min())
    tree_t = cKDTree(np.column_stack([truth.x_nm - x0 + truth.frame * stride, truth.y_nm]))
    tree_p = cKDTree(np.column_stack([pred.x_nm - x0 + pred.frame * stride, pred.y_nm]))
    # Slack for the rounding of the shifted coordinates; the exact test below uses the originals.
    largest = stride * (max(truth.n_frames, pred.n_frames) + 1) + float(np.abs(truth.y_nm).max()
                                                                      + np.abs(pred.y_nm).max())
    slack = 1e-6 + 8 * np.finfo(float).eps * largest
    sparse = tree_t.sparse_distance_matrix(tree_p, lateral_tol_nm + slack, output_type="ndarray")
    ti = sparse["i"].astype(np.int64)
    pi = sparse["j"].astype(np.int64)
    dx = truth.x_nm[ti] - pred.x_nm[pi]
    dy = truth.y_nm[ti] - pred.y_nm[pi]
    dz = truth.z_nm[ti] - pred.z_nm[pi]
    keep = ((truth.frame[ti] == pred.frame[pi]) & (np.hypot(dx, dy) <= lateral_tol_nm)
            & (np.abs(dz) <= axial_tol_nm))
    ti, pi = ti[keep], pi[keep]
    dist = np.sqrt(dx[keep] ** 2 + dy[keep] ** 2 + dz[keep] ** 2)
    return ti, pi, dist


def _greedy(ti: np.ndarray, pi: np.ndarray, dist: np.ndarray,
            max_rounds: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Challenge-style greedy matching on pairs, smallest distance first (ties: lower indices).

    Equivalent to one pass over the sorted pairs that keeps a pair when both members are free,
    but vectorised: in each round, every pair that comes first in sorted order for both its
    emitter and its localization is kept (the sequential pass would keep exactly those), then
    all pairs touching a kept member are dropped. Rounds are few for real data (chains of
    competing pairs); after ``max_rounds`` the rest is finished by the sequential pass, which
    bounds the cost for pathological chains.
    """
    order = np.lexsort((pi, ti, dist))
    ti, pi = ti[order], pi[order]
    kept_t, kept_p = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for _ in range(max_rounds):
        if ti.size == 0:
            break
        first_t = np.zeros(ti.size, bool)
        first_t[np.unique(ti, return_index=True)[1]] = True
        first_p = np.zeros(ti.size, bool)
        first_p[np.unique(pi, return_index=True)[1]] = True
        take = first_t & first_p
        kept_t.append(ti[take])
        kept_p.append(pi[take])
        free = ~np.isin(ti, ti[take]) & ~np.isin(pi, pi[take])
        ti, pi = ti[free], pi[free]  # still in sorted order
    if ti.size:
        used_t, used_p, rest = set(), set(), []
        for t, p in zip(ti.tolist(), pi.tolist()):
            if t not in used_t and p not in used_p:
                used_t.add(t)
                used_p.add(p)
                rest.append((t, p))
        kept_t.append(np.array([t for t, _ in rest], np.int64))
        kept_p.append(np.array([p for _, p in rest], np.int64))
    return np.concatenate(kept_t), np.concatenate(kept_p)


def _hungarian(ti: np.ndarray, pi: np.ndarray, dist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The maximum number of feasible pairs with the smallest summed distance.

    Solved independently on each connected component of the bipartite graph of feasible pairs
    (components never span frames). Components that are a single pair are matched directly,
    vectorised; only the others go through :func:`scipy.optimize.linear_sum_assignment`.
    """
    if ti.size == 0:
        return ti, pi
    rows, row_of = np.unique(ti, return_inverse=True)
    cols, col_of = np.unique(pi, return_inverse=True)
    n_nodes = rows.size + cols.size
    graph = coo_matrix((np.ones(ti.size), (row_of, rows.size + col_of)), shape=(n_nodes, n_nodes))
    _, label = connected_components(graph, directed=False)
    comp = label[row_of]
    single = np.bincount(comp)[comp] == 1
    kept_t, kept_p = [ti[single]], [pi[single]]
    ti, pi, dist, comp = ti[~single], pi[~single], dist[~single], comp[~single]
    # Infeasible pairs cost more than all feasible ones together, so cardinality comes first.
    infeasible = 2.0 + 2.0 * float(dist.sum())
    order = np.argsort(comp, kind="stable")
    ti, pi, dist, comp = ti[order], pi[order], dist[order], comp[order]
    bounds = np.flatnonzero(np.diff(comp)) + 1
    for sl_t, sl_p, sl_d in zip(np.split(ti, bounds), np.split(pi, bounds), np.split(dist, bounds)):
        if sl_t.size == 0:
            continue
        r_ids, r_of = np.unique(sl_t, return_inverse=True)
        c_ids, c_of = np.unique(sl_p, return_inverse=True)
        cost = np.full((r_ids.size, c_ids.size), infeasible)
        cost[r_of, c_of] = sl_d
        r, c = linear_sum_assignment(cost)
        ok = cost[r, c] < infeasible
        kept_t.append(r_ids[r[ok]])
        kept_p.append(c_ids[c[ok]])
    return np.concatenate(kept_t), np.concatenate(kept_p)


def match(truth: Emitters, pred: Emitters, *, lateral_tol_nm: float = 250.0,
          axial_tol_nm: float = 500.0, method: str = "greedy") -> Matching:
    """Pair localizations with ground-truth emitters, frame by frame.

    Parameters
    ----------
    truth, pred : Emitters
        Ground truth and localizations (positions in nm, frames from 0).
    lateral_tol_nm : float
        Largest lateral (xy) distance of a pair, in nm (inclusive). Default 250 nm.
    axial_tol_nm : float
        Largest axial distance |dz| of a pair, in nm (inclusive). Default 500 nm.
    method : {"greedy", "hungarian"}
        ``"greedy"`` (the challenge): repeatedly take the free pair with the smallest 3D distance,
        ties broken by the lower truth index, then the lower prediction index.
        ``"hungarian"``: per frame, the most pairs, and among those the smallest summed distance.

    Returns
    -------
    Matching
        Matched row indices and the TP / FP / FN counts.
    """
    _check_tables(truth, pred)
    _check_tolerances(lateral_tol_nm, axial_tol_nm, method)
    ti, pi, dist = _candidate_pairs(truth, pred, float(lateral_tol_nm), float(axial_tol_nm))
    if method == "greedy":
        ti, pi = _greedy(ti, pi, dist)
    else:
        ti, pi = _hungarian(ti, pi, dist)
    order = np.argsort(ti, kind="stable")
    ti, pi = ti[order].astype(np.int64), pi[order].astype(np.int64)
    tp = int(ti.size)
    return Matching(ti, pi, tp=tp, fp=len(pred) - tp, fn=len(truth) - tp)


def _pair_errors(truth: Emitters, pred: Emitters, m: Matching) -> tuple[np.ndarray, np.ndarray]:
    """Squared lateral and squared axial errors of the matched pairs, in nm^2."""
    dx = pred.x_nm[m.pred_index] - truth.x_nm[m.truth_index]
    dy = pred.y_nm[m.pred_index] - truth.y_nm[m.truth_index]
    dz = pred.z_nm[m.pred_index] - truth.z_nm[m.truth_index]
    return dx ** 2 + dy ** 2, dz ** 2
