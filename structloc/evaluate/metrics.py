"""Evaluation of localizations against ground truth, as in the SMLM Challenge 2016.

Sage et al., "Super-resolution fight club", Nature Methods 16, 387-395 (2019):

1. **Matching**, frame by frame: a localization may be paired with a ground-truth emitter of the
   same frame when their lateral distance is <= 250 nm and their axial distance |dz| <= 500 nm.
   Among the feasible pairs the challenge takes, again and again, the pair with the smallest 3D
   distance whose two members are both still free (``method="greedy"``). ``method="hungarian"``
   instead finds, per frame, the largest set of feasible pairs and among those the one with the
   smallest summed 3D distance (:func:`scipy.optimize.linear_sum_assignment`).
2. **Detection**: matched pairs are true positives (TP), unmatched localizations false positives
   (FP), unmatched emitters false negatives (FN); Jaccard index ``JI = TP / (TP + FP + FN)``.
3. **Accuracy** over the TP pairs: ``RMSE_lat = sqrt(sum(dx^2 + dy^2) / TP)``,
   ``RMSE_ax = sqrt(sum(dz^2) / TP)``, ``RMSE_vol = sqrt(sum(dx^2 + dy^2 + dz^2) / TP)``.
4. **Efficiency** ``E = 1 - sqrt((1 - JI)^2 + alpha^2 RMSE^2)`` with JI as a *fraction* (0..1),
   RMSE in nm, ``alpha = 0.01 /nm`` (lateral) and ``0.005 /nm`` (axial); the 3D efficiency is the
   mean of the two. (The paper prints JI and E in percent: ``E% = 100 - sqrt((100 - JI%)^2 +
   (100 alpha RMSE)^2)``, the same number times 100.) E is 1 for a perfect result and may be
   negative for a very poor one.

Conventions for empty cases (every metric stays a number that plots and averages sensibly, except
the RMSEs, which do not exist without a matched pair):

- ``TP + FP + FN == 0`` (no emitters and no localizations): ``JI = 1``.
- no localizations: ``precision = 1`` (none was wrong); no emitters: ``recall = 1`` (none missed).
- ``TP == 0``: the RMSEs are NaN (written as ``null`` in JSON); the efficiencies then use no
  accuracy term, ``E = 1 - (1 - JI)``, i.e. 0 unless both tables are empty (then 1).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterable, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from ..checks import integer_at_least
from ..emitters import Emitters

__all__ = [
    "ALPHA_LATERAL_PER_NM",
    "ALPHA_AXIAL_PER_NM",
    "MATCHING_METHODS",
    "Matching",
    "Metrics",
    "match",
    "efficiency",
    "metrics_from_sums",
    "evaluate",
    "frame_statistics",
    "evaluate_per_frame",
    "density_sweep",
    "bootstrap_ci",
    "paired_difference",
    "axial_profile",
]

#: Weight of the lateral RMSE in the efficiency, per nm (Sage et al. 2019).
ALPHA_LATERAL_PER_NM = 0.01
#: Weight of the axial RMSE in the efficiency, per nm (Sage et al. 2019).
ALPHA_AXIAL_PER_NM = 0.005

#: Ways of matching predictions to the ground truth (``evaluate(method=...)``).
MATCHING_METHODS: tuple[str, ...] = ("greedy", "hungarian")
#: Per-frame sufficient statistics, in this column order (see :func:`frame_statistics`).
_STAT_COLUMNS = ("tp", "fp", "fn", "sse_lat_nm2", "sse_ax_nm2")


# -- matching ---------------------------------------------------------------------------------
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


# -- metrics ----------------------------------------------------------------------------------
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


def _pair_errors(truth: Emitters, pred: Emitters, m: Matching) -> tuple[np.ndarray, np.ndarray]:
    """Squared lateral and squared axial errors of the matched pairs, in nm^2."""
    dx = pred.x_nm[m.pred_index] - truth.x_nm[m.truth_index]
    dy = pred.y_nm[m.pred_index] - truth.y_nm[m.truth_index]
    dz = pred.z_nm[m.pred_index] - truth.z_nm[m.truth_index]
    return dx ** 2 + dy ** 2, dz ** 2


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
    cols = metrics_from_sums(np.array([m.tp, m.fp, m.fn, sq_lat.sum(), sq_ax.sum()], float))
    values = {k: (int(v) if k in ("tp", "fp", "fn") else float(v)) for k, v in cols.items()}
    return Metrics(**values)


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


# -- bootstrap over frames -----------------------------------------------------------------------
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
