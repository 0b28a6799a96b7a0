"""Merging the mixture head's bins into emitters: one localization per emitter's probability.

A trained network rarely puts one emitter's probability into a single 50 nm bin: it shares it
between several bins, each of which predicts (nearly) the same position, and the less it is
trained the wider it spreads. Reporting every local maximum of ``p`` then reports one emitter more
than once (on MT0 frames at 0.1 /um^2 every false positive of helix_high and csr_high lay within
250 nm of a true positive, a median 65 and 103 nm away, at the same depth).

:func:`merge_bins` groups the bins by their *predicted* positions instead of their bin indices:

1. only bins with ``p > min_probability`` take part;
2. a bin is a *seed* if no other free bin within ``lateral_nm`` (in x, y) and ``axial_nm`` (in z)
   of its predicted position has a larger ``p`` (ties: the earlier bin);
3. every free non-seed bin near a seed is offered to the largest such seed; each seed takes its
   offers in descending ``p`` while its cluster's summed probability (the expected number of
   emitters it holds) stays at or below ``mass_cap``; the first offer that would overfill it and
   all smaller ones stay free;
4. steps 2-3 repeat on the free bins until every bin belongs to a cluster.

Each cluster is one localization: its score is its mass and its position the ``p``-weighted mean
of its bins' predictions. The cap is what keeps resolution: two emitters that the network is sure
of (``p`` near 1 each) are never merged, however close, so a perfect network's output still
decodes to the truth (:func:`structloc.mixture.ideal_output`); only probability that adds up to
about one emitter is pooled. The defaults were chosen on simulated validation frames of the
training distribution (helix and CSR, all densities of training), not on the MT0 test frames.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from .checks import positive_float

__all__ = ["merge_bins", "MIN_PROBABILITY", "MERGE_LATERAL_NM", "MERGE_AXIAL_NM", "MASS_CAP"]

#: Bins at or below this probability are ignored.
MIN_PROBABILITY = 0.03
#: Bins whose predicted positions lie closer than this laterally (nm) may share a cluster ...
MERGE_LATERAL_NM = 200.0
#: ... and closer than this axially (nm).
MERGE_AXIAL_NM = 250.0
#: Largest summed probability of one cluster (about one emitter's worth).
MASS_CAP = 1.2


def merge_bins(frame: np.ndarray, x_nm: np.ndarray, y_nm: np.ndarray, z_nm: np.ndarray,
               p: np.ndarray, *, lateral_nm: float = MERGE_LATERAL_NM, axial_nm: float = MERGE_AXIAL_NM,
               mass_cap: float = MASS_CAP) -> tuple[np.ndarray, np.ndarray]:
    """Cluster bins by their predicted positions (see the module docstring).

    Parameters
    ----------
    frame : np.ndarray of int, shape (n,)
        Frame of each bin; bins of different frames never share a cluster.
    x_nm, y_nm, z_nm : np.ndarray, shape (n,)
        Predicted position of each bin, nm.
    p : np.ndarray, shape (n,)
        Detection probability of each bin, in (0, 1] (callers drop bins at or below
        :data:`MIN_PROBABILITY` first).
    lateral_nm, axial_nm : float
        Merge radii, nm (> 0).
    mass_cap : float
        Largest summed probability of a cluster (> 0).

    Returns
    -------
    owner : np.ndarray of int64, shape (n,)
        Index of the seed bin of each bin's cluster (a seed owns itself).
    seeds : np.ndarray of int64
        The seed bins, in increasing index order.
    """
    positive_float("lateral_nm", lateral_nm)
    positive_float("axial_nm", axial_nm)
    positive_float("mass_cap", mass_cap)
    frame = np.asarray(frame, np.int64)
    x, y, z, p = (np.asarray(a, np.float64) for a in (x_nm, y_nm, z_nm, p))
    n = len(p)
    if not all(len(a) == n for a in (frame, x, y, z)):
        raise ValueError("merge_bins: frame, x_nm, y_nm, z_nm and p must have the same length")
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = np.lexsort((np.arange(n), -p))  # descending p, ties by index
    rank = np.empty(n, np.int64)
    rank[order] = n - np.arange(n)  # 1..n, larger for larger p
    # frames side by side along x, far enough apart that no pair crosses from one to the next
    span = float(x.max() - x.min()) + 4.0 * lateral_nm
    pairs = cKDTree(np.c_[x + (frame - frame.min()) * span, y]).query_pairs(lateral_nm, output_type="ndarray")
    pairs = pairs[np.abs(z[pairs[:, 0]] - z[pairs[:, 1]]) < axial_nm] if len(pairs) else pairs.reshape(0, 2)
    a = np.concatenate([pairs[:, 0], pairs[:, 1]]).astype(np.int64)
    b = np.concatenate([pairs[:, 1], pairs[:, 0]]).astype(np.int64)
    owner = np.full(n, -1, np.int64)
    while (free := owner < 0).any():
        live = free[a] & free[b]
        a, b = a[live], b[live]  # a bin that has joined a cluster never takes part again
        outranked = np.zeros(n, bool)
        outranked[a[rank[b] > rank[a]]] = True  # a free neighbour has a larger p
        seed = free & ~outranked
        owner[seed] = np.nonzero(seed)[0]
        edge = seed[b] & ~seed[a]
        claim = np.zeros(n, np.int64)  # the rank of the largest seed next to each free bin
        np.maximum.at(claim, a[edge], rank[b[edge]])
        joining = np.nonzero(claim > 0)[0]
        if not len(joining):
            continue
        target = order[n - claim[joining]]
        by_seed = np.lexsort((-p[joining], target))
        joining, target = joining[by_seed], target[by_seed]
        total = np.cumsum(p[joining])
        first = np.r_[0, np.nonzero(target[1:] != target[:-1])[0] + 1]
        before_group = np.repeat(total[first] - p[joining[first]], np.diff(np.r_[first, len(joining)]))
        mass_after = p[target] + total - before_group  # the seed's cluster with this bin added
        fits = mass_after <= mass_cap  # increases along each seed's bins: the first misfit ends its intake
        owner[joining[fits]] = target[fits]
    return owner, np.nonzero(owner == np.arange(n))[0]
