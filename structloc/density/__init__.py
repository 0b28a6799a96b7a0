"""How dense is a frame? Nearest-neighbour distances, Ripley's K and L, and nominal density.

Counting emitters per um^2 says nothing about how crowded they look: emitters on a few filaments
are much closer to each other than the same number spread at random. The study therefore reports a
*nominal density* (after Byth & Ripley 1980): the mean nearest-neighbour (NN) distance of a frame's
emitters, mapped to the density of complete spatial randomness (CSR) that gives the same mean NN
distance in the same field (same edge effects). CSR frames get their true density back;
structured frames get a higher nominal density than their count density.

Ripley's K and L functions show the same clustering over a range of scales: for CSR
``K(r) = pi r^2`` and ``L(r) = sqrt(K / pi) = r``; clustered points have ``L(r) > r``.

One concept per module, every name importable from here:

* :mod:`~structloc.density.neighbours`: NN distances per frame and their means.
* :mod:`~structloc.density.ripley`: Ripley's K and L with edge corrections.
* :mod:`~structloc.density.nominal`: the CSR calibration curve (mean NN distance vs density,
  seeded by ``CALIBRATION_SEED``), nominal density, and :func:`nominal_curve`: the nominal density
  of a sampler's frames at each of a list of count densities.
* :mod:`~structloc.density.mt0`: the count <-> nominal density calibration of MT0 frames (seeded by
  ``MT0_CALIBRATION_SEED``; a :func:`nominal_curve` of MT0 frames), which the study uses to make
  test sets at chosen nominal densities.
"""

from __future__ import annotations

from .mt0 import MT0_CALIBRATION_SEED, mt0_count_density_for_nominal, mt0_nominal_curve
from .neighbours import mean_nn_distance_nm, mean_nn_distance_per_frame, nearest_neighbor_distances
from .nominal import (CALIBRATION_EMITTERS, CALIBRATION_GRID_SIZE, CALIBRATION_MAX_DENSITY_PER_UM2,
                      CALIBRATION_SEED, nn_calibration_curve, nominal_curve, nominal_density,
                      nominal_density_per_frame)
from .ripley import EDGE_CORRECTIONS, MAX_EDGE_WEIGHT, ripley_k, ripley_k_frames, ripley_l, ripley_l_frames

__all__ = [
    "nearest_neighbor_distances", "mean_nn_distance_nm", "mean_nn_distance_per_frame",
    "ripley_k", "ripley_l", "ripley_k_frames", "ripley_l_frames", "EDGE_CORRECTIONS",
    "nn_calibration_curve", "nominal_density", "nominal_density_per_frame", "nominal_curve",
    "mt0_nominal_curve", "mt0_count_density_for_nominal",
]
