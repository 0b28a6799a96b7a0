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

The package holds one concept per module, all re-exported here (``from structloc.evaluate import
evaluate`` etc.):

- :mod:`~structloc.evaluate.matching`: pairing localizations with emitters (:func:`match`,
  :class:`Matching`, :data:`MATCHING_METHODS`).
- :mod:`~structloc.evaluate.metrics`: the metrics above (:func:`evaluate`, :class:`Metrics`,
  :func:`efficiency`), per frame (:func:`frame_statistics`, :func:`evaluate_per_frame`) and over
  densities (:func:`density_sweep`).
- :mod:`~structloc.evaluate.intervals`: bootstrap confidence intervals over frames
  (:func:`bootstrap_ci`), the metrics with their intervals in one call
  (:func:`metrics_with_intervals`) and paired differences of two localizers
  (:func:`paired_difference`).
- :mod:`~structloc.evaluate.depth`: detection and accuracy by depth (:func:`axial_profile`).
- :mod:`~structloc.evaluate.bound`: recall and accuracy against each emitter's CRLB in its own
  frame, grouped by how much the frame (neighbours, edges) costs it (:func:`bound_profile`).
"""

from .bound import CROWDING_EDGES, bound_profile, crowding_group, crowding_labels
from .depth import axial_profile
from .intervals import MetricsWithIntervals, bootstrap_ci, metrics_with_intervals, paired_difference
from .matching import MATCHING_METHODS, Matching, match
from .metrics import (ALPHA_AXIAL_PER_NM, ALPHA_LATERAL_PER_NM, Metrics, density_sweep, efficiency, evaluate,
                      evaluate_per_frame, frame_statistics, metrics_from_sums)

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
    "bound_profile",
    "crowding_group",
    "crowding_labels",
    "CROWDING_EDGES",
    "MetricsWithIntervals",
    "metrics_with_intervals",
]
