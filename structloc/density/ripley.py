"""Ripley's K and L functions of 2D point sets in the field's window, with edge corrections.

For complete spatial randomness (CSR) ``K(r) = pi r^2`` and ``L(r) = sqrt(K / pi) = r``; clustered
points have ``L(r) > r``. Circles about points near the window's edge stick out of it; the
corrections of :data:`EDGE_CORRECTIONS` (Ripley's isotropic weights, the border method, or none)
make up for that.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from ..emitters import Emitters
from ..field import Field
from .neighbours import _check_emitters, _framed_coordinates, _gap_nm

__all__ = ["ripley_k", "ripley_l", "ripley_k_frames", "ripley_l_frames", "EDGE_CORRECTIONS"]

EDGE_CORRECTIONS = ("ripley", "border", "none")
#: Largest Ripley isotropic edge-correction weight (as spatstat's ``edge.Ripley``).
MAX_EDGE_WEIGHT = 100.0


def _check_radii(radii_nm: np.ndarray) -> np.ndarray:
    radii = np.asarray(radii_nm, dtype=np.float64)
    if radii.ndim != 1:
        raise ValueError(f"radii_nm must be 1-D, got shape {radii.shape}")
    if not np.all(np.isfinite(radii)) or np.any(radii < 0):
        raise ValueError("radii_nm must be finite and >= 0")
    return radii


def _isotropic_weight(x: np.ndarray, y: np.ndarray, r: np.ndarray, field: Field) -> np.ndarray:
    """Ripley's isotropic edge-correction weight in the rectangle ``[0, W] x [0, H]``.

    The inverse of the fraction of the circle of radius ``r`` about ``(x, y)`` that lies inside
    the window. Each edge at distance ``d < r`` cuts off an arc of ``2 acos(d / r)``; arcs of two
    adjacent edges overlap by ``acos(d1/r) + acos(d2/r) - pi/2`` when the corner is within ``r``.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        half = [np.arccos(np.clip(d / r, 0.0, 1.0)) for d in
                (x, field.width_nm - x, y, field.height_nm - y)]
    outside = 2.0 * sum(half)
    for a, b in ((0, 2), (0, 3), (1, 2), (1, 3)):
        outside -= np.maximum(half[a] + half[b] - np.pi / 2, 0.0)
    inside = np.clip(1.0 - outside / (2.0 * np.pi), 1.0 / MAX_EDGE_WEIGHT, 1.0)
    return np.where(r > 0, 1.0 / inside, 1.0)


def _ripley_sums(frame: np.ndarray, xy: np.ndarray, radii: np.ndarray, field: Field,
                 edge_correction: str) -> np.ndarray:
    """Pooled K(r) over frames: sum of weighted pair counts over sum of normalisations."""
    if edge_correction not in EDGE_CORRECTIONS:
        raise ValueError(f"unknown edge_correction {edge_correction!r}; choose one of {EDGE_CORRECTIONS}")
    x, y = xy[:, 0], xy[:, 1]
    if np.any((x < 0) | (x > field.width_nm) | (y < 0) | (y > field.height_nm)):
        raise ValueError("points lie outside the field's window [0, width_nm] x [0, height_nm]")
    area_nm2 = field.width_nm * field.height_nm
    _, inverse, n_per_frame = np.unique(frame, return_inverse=True, return_counts=True)
    n_of_point = n_per_frame[inverse]
    r_max = float(radii.max()) if radii.size else 0.0
    gap = _gap_nm(xy, r_max)
    tree = cKDTree(_framed_coordinates(frame, xy, gap))
    pairs = tree.query_pairs(r_max, output_type="ndarray") if r_max > 0 else np.zeros((0, 2), int)
    i = np.concatenate([pairs[:, 0], pairs[:, 1]])  # ordered pairs (i, j), i != j
    j = np.concatenate([pairs[:, 1], pairs[:, 0]])
    d = np.hypot(x[i] - x[j], y[i] - y[j])
    if edge_correction == "border":
        # Only points at least r from the window edge count as centres; each centre's expected
        # count of others within r is (n - 1) pi r^2 / A under CSR with n points. A pair counts
        # for the radii in [d_ij, border_i]; a difference array over sorted radii sums them.
        border = np.minimum.reduce([x, field.width_nm - x, y, field.height_nm - y])
        order = np.argsort(radii)
        sorted_radii = radii[order]
        start = np.searchsorted(sorted_radii, d, side="left")
        stop = np.searchsorted(sorted_radii, border[i], side="right")
        valid = start < stop
        steps = np.bincount(start[valid], minlength=radii.size + 1)
        steps = steps - np.bincount(stop[valid], minlength=radii.size + 1)
        numerator = np.empty(radii.size)
        numerator[order] = np.cumsum(steps)[:-1] * area_nm2
        by_border = np.argsort(border)
        tail = np.concatenate([np.cumsum((n_of_point[by_border] - 1.0)[::-1])[::-1], [0.0]])
        denominator = tail[np.searchsorted(border[by_border], radii, side="left")]
        return _divide(numerator, denominator)
    w = _isotropic_weight(x[i], y[i], d, field) if edge_correction == "ripley" else np.ones(d.size)
    order = np.argsort(d)
    cumulative = np.concatenate([[0.0], np.cumsum(w[order])])
    numerator = cumulative[np.searchsorted(d[order], radii, side="right")] * area_nm2
    denominator = float(np.sum(n_per_frame * (n_per_frame - 1.0)))
    return _divide(numerator, np.full(radii.size, denominator))


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan)


def ripley_k(points_xy_nm: np.ndarray, radii_nm: np.ndarray, field: Field = Field(),
             edge_correction: str = "ripley") -> np.ndarray:
    """Ripley's K function of one 2D point set in the field's rectangular window.

    ``K(r) = A / (n (n - 1)) sum_{i != j} w_ij 1(d_ij <= r)``, with ``w_ij`` Ripley's isotropic
    edge correction (``"ripley"``, capped at 100), 1 (``"none"``, biased low near edges), or the
    border method (``"border"``: only centres at least ``r`` from the edge). Under CSR,
    ``K(r) = pi r^2``.

    Parameters
    ----------
    points_xy_nm : numpy.ndarray, shape (n, 2)
        Lateral positions in nm, inside ``[0, W] x [0, H]``.
    radii_nm : array_like, shape (m,)
        Radii in nm (>= 0). The isotropic correction is reliable up to about a quarter of the
        shorter side of the window.
    field : Field
        The window.
    edge_correction : {"ripley", "border", "none"}

    Returns
    -------
    numpy.ndarray, shape (m,)
        K(r) in nm^2; NaN where undefined (fewer than two points, or no border centres).
    """
    points = np.asarray(points_xy_nm, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points_xy_nm must have shape (n, 2), got {points.shape}")
    if not np.all(np.isfinite(points)):
        raise ValueError("points_xy_nm holds NaN or infinite values")
    radii = _check_radii(radii_nm)
    return _ripley_sums(np.zeros(points.shape[0], np.int64), points, radii, field, edge_correction)


def ripley_l(points_xy_nm: np.ndarray, radii_nm: np.ndarray, field: Field = Field(),
             edge_correction: str = "ripley") -> np.ndarray:
    """Ripley's L function ``L(r) = sqrt(K(r) / pi)`` in nm; ``L(r) = r`` under CSR."""
    return np.sqrt(ripley_k(points_xy_nm, radii_nm, field, edge_correction) / np.pi)


def ripley_k_frames(emitters: Emitters, radii_nm: np.ndarray, field: Field = Field(),
                    edge_correction: str = "ripley") -> np.ndarray:
    """K(r) pooled over the frames of a table (lateral positions; pairs only within a frame).

    The pooled estimator sums every frame's weighted pair counts and divides by the sum of
    their normalisations (``n_f (n_f - 1)`` per frame), so frames count by their number of pairs.
    """
    emitters = _check_emitters(emitters)
    radii = _check_radii(radii_nm)
    return _ripley_sums(emitters.frame, emitters.xyz_nm()[:, :2], radii, field, edge_correction)


def ripley_l_frames(emitters: Emitters, radii_nm: np.ndarray, field: Field = Field(),
                    edge_correction: str = "ripley") -> np.ndarray:
    """``sqrt(K / pi)`` of :func:`ripley_k_frames`, in nm."""
    return np.sqrt(ripley_k_frames(emitters, radii_nm, field, edge_correction) / np.pi)
