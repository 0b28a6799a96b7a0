"""How dense is a frame? Nearest-neighbour distances, Ripley's K and L, and nominal density.

Counting emitters per um^2 says nothing about how crowded they look: emitters on a few filaments
are much closer to each other than the same number spread at random. The study therefore reports a
*nominal density* (after Byth & Ripley 1980): the mean nearest-neighbour (NN) distance of a frame's
emitters, mapped to the density of complete spatial randomness (CSR) that gives the same mean NN
distance in the same field (same edge effects). CSR frames get their true density back;
structured frames get a higher nominal density than their count density.

Ripley's K and L functions show the same clustering over a range of scales: for CSR
``K(r) = pi r^2`` and ``L(r) = sqrt(K / pi) = r``; clustered points have ``L(r) > r``.
"""

from __future__ import annotations

import functools
import warnings
from typing import Sequence

import numpy as np
from scipy.interpolate import PchipInterpolator
from scipy.optimize import brentq
from scipy.spatial import cKDTree

from ..checks import integer_at_least
from ..emitters import Emitters
from ..field import Field
from ..sampling import CSRSampler, MT0Sampler, fixed_counts, sample_frames

__all__ = [
    "nearest_neighbor_distances", "mean_nn_distance_nm", "mean_nn_distance_per_frame",
    "ripley_k", "ripley_l", "ripley_k_frames", "ripley_l_frames", "EDGE_CORRECTIONS",
    "nn_calibration_curve", "nominal_density", "nominal_density_per_frame",
    "mt0_nominal_curve", "mt0_count_density_for_nominal",
]

EDGE_CORRECTIONS = ("ripley", "border", "none")
#: Largest Ripley isotropic edge-correction weight (as spatstat's ``edge.Ripley``).
MAX_EDGE_WEIGHT = 100.0


# -- helpers -------------------------------------------------------------------------------------
def _check_emitters(emitters: Emitters) -> Emitters:
    if not isinstance(emitters, Emitters):
        raise TypeError(f"emitters must be a structloc.Emitters table, got {type(emitters).__name__}")
    return emitters


def _check_dims(dims: int) -> int:
    if isinstance(dims, bool) or dims not in (2, 3):
        raise ValueError(f"dims must be 2 (lateral) or 3 (with z), got {dims!r}")
    return int(dims)


def _framed_coordinates(frame: np.ndarray, coords: np.ndarray, gap_nm: float) -> np.ndarray:
    """Coordinates with the frame index as an extra axis, frames ``gap_nm`` apart.

    One k-d tree over all frames then answers per-frame queries: points of different frames are
    at least ``gap_nm`` apart, and same-frame distances are exact (the extra coordinate cancels).
    """
    return np.column_stack([coords, frame.astype(np.float64) * gap_nm])


def _gap_nm(coords: np.ndarray, at_least_nm: float = 0.0) -> float:
    span = float(np.ptp(coords, axis=0).max()) if coords.size else 0.0
    return 4.0 * max(span, at_least_nm) + 1.0


# -- nearest neighbours --------------------------------------------------------------------------
def nearest_neighbor_distances(emitters: Emitters, dims: int = 2) -> np.ndarray:
    """Distance from each emitter to its nearest neighbour in the same frame.

    Parameters
    ----------
    emitters : Emitters
        Any table; frames are treated independently.
    dims : {2, 3}
        2: lateral distance ``sqrt(dx^2 + dy^2)``; 3: with ``dz`` too.

    Returns
    -------
    numpy.ndarray of float64, shape (len(emitters),)
        NN distance in nm, in the table's row order; NaN for an emitter alone in its frame.
    """
    emitters = _check_emitters(emitters)
    dims = _check_dims(dims)
    if len(emitters) == 0:
        return np.zeros(0)
    coords = emitters.xyz_nm()[:, :dims]
    gap = _gap_nm(coords)
    tree = cKDTree(_framed_coordinates(emitters.frame, coords, gap), balanced_tree=False,
                   compact_nodes=False)
    distance, _ = tree.query(tree.data, k=2, distance_upper_bound=gap / 2)
    nn = distance[:, 1]
    nn[~np.isfinite(nn)] = np.nan
    return nn


def mean_nn_distance_per_frame(emitters: Emitters, dims: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Mean NN distance of each frame that has at least two emitters.

    Returns
    -------
    frames : numpy.ndarray of int64
        The frames with >= 2 emitters, ascending.
    mean_nn_nm : numpy.ndarray of float64
        Their mean NN distance in nm.
    """
    nn = nearest_neighbor_distances(emitters, dims)
    ok = np.isfinite(nn)
    frames, inverse = np.unique(emitters.frame[ok], return_inverse=True)
    sums = np.bincount(inverse, weights=nn[ok], minlength=frames.size)
    counts = np.bincount(inverse, minlength=frames.size)
    return frames, sums / np.maximum(counts, 1)


def mean_nn_distance_nm(emitters: Emitters, dims: int = 2) -> float:
    """Mean NN distance (nm) over all emitters that have a neighbour in their frame; NaN if none."""
    nn = nearest_neighbor_distances(emitters, dims)
    nn = nn[np.isfinite(nn)]
    return float(nn.mean()) if nn.size else float("nan")


# -- Ripley's K and L ----------------------------------------------------------------------------
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


# -- nominal density -----------------------------------------------------------------------------
#: Largest calibrated density, emitters per um^2. The study's nominal densities are 0.38 - 13 /um^2,
#: but structured frames reach nominal densities far above their count density.
CALIBRATION_MAX_DENSITY_PER_UM2 = 1000.0
#: Number of points of the calibration grid (log-spaced emitter counts from 2 upwards).
CALIBRATION_GRID_SIZE = 40
#: Emitters simulated per grid point (sets the curve's precision: ~0.4 % in distance).
CALIBRATION_EMITTERS = 20000
#: Seed of the CSR calibration of :func:`nn_calibration_curve`.
CALIBRATION_SEED = 20240611


@functools.lru_cache(maxsize=32)
def _calibration(field: Field, dims: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(CALIBRATION_SEED)
    sampler = CSRSampler(field)
    n_max = max(CALIBRATION_MAX_DENSITY_PER_UM2 * field.area_um2, 10.0)
    counts = np.unique(np.round(np.geomspace(2.0, n_max, CALIBRATION_GRID_SIZE)).astype(np.int64))
    mean_nn = np.empty(counts.size)
    for index, n in enumerate(counts):
        n_frames = int(max(np.ceil(CALIBRATION_EMITTERS / n), 2))
        emitters = sampler.sample(fixed_counts(n_frames, int(n)), rng)
        mean_nn[index] = mean_nn_distance_per_frame(emitters, dims)[1].mean()
    # Simulation noise (~0.4 %) is far below the step between grid points (~15 %); enforce the
    # monotone decrease anyway so the inverse is a function.
    mean_nn = np.minimum.accumulate(mean_nn)
    densities = counts / field.area_um2
    for array in (densities, mean_nn):
        array.setflags(write=False)
    return densities, mean_nn


def nn_calibration_curve(field: Field = Field(), dims: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Mean NN distance of CSR frames as a function of their density, by simulation (cached).

    For log-spaced emitter counts ``n`` per frame (2 up to 1000 emitters/um^2 of the field), CSR
    frames with exactly ``n`` emitters are simulated in ``field`` (seeded; ~20,000 emitters per
    point), and the per-frame mean NN distances averaged: the same edge effects and the same
    per-frame handling as the observed frames. Density is ``n / field.area_um2``.

    Returns
    -------
    densities_per_um2 : numpy.ndarray, shape (m,)
        Increasing densities (read-only).
    mean_nn_nm : numpy.ndarray, shape (m,)
        Mean NN distance in nm at each density, non-increasing (read-only).
    """
    if not isinstance(field, Field):
        raise TypeError(f"field must be a structloc.Field, got {type(field).__name__}")
    return _calibration(field, _check_dims(dims))


def _log_curves(field: Field, dims: int) -> tuple[PchipInterpolator, PchipInterpolator, np.ndarray]:
    """Monotone (PCHIP) maps log density -> log mean NN and back, and the calibrated log range."""
    densities, distances = nn_calibration_curve(field, dims)
    log_rho, log_d = np.log(densities), np.log(distances)
    keep = np.concatenate([[True], np.diff(log_d) < 0])  # strictly decreasing for the inverse
    forward = PchipInterpolator(log_rho[keep], log_d[keep])
    inverse = PchipInterpolator(log_d[keep][::-1], log_rho[keep][::-1])
    return forward, inverse, np.array([log_rho[keep][0], log_rho[keep][-1]])


def _warn_clipped(n_outside: int, field: Field, dims: int, stacklevel: int = 4) -> None:
    """Warn, pointing at the caller of the public function, that values were clipped."""
    if n_outside:
        densities, distances = nn_calibration_curve(field, dims)
        warnings.warn(
            f"{n_outside} value(s) outside the calibrated range of mean NN distances "
            f"[{distances[-1]:.1f}, {distances[0]:.1f}] nm; nominal density clipped to "
            f"[{densities[0]:.3g}, {densities[-1]:.3g}] per um^2", RuntimeWarning, stacklevel=stacklevel,
        )


def nominal_density_per_frame(emitters: Emitters, field: Field = Field(),
                              dims: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Nominal density of each frame with >= 2 emitters (emitters per um^2).

    Each frame's mean NN distance is mapped through :func:`nn_calibration_curve` (monotone
    interpolation in log-log). One frame with few emitters gives a noisy value, biased upwards
    because the map is convex (~ 1 / distance^2): averaging these over frames overestimates.

    Returns
    -------
    frames : numpy.ndarray of int64
    density_per_um2 : numpy.ndarray of float64
    """
    frames, mean_nn = mean_nn_distance_per_frame(emitters, dims)
    return frames, _densities_of_frames(mean_nn, field, dims)


def _densities_of_frames(mean_nn: np.ndarray, field: Field, dims: int) -> np.ndarray:
    if mean_nn.size == 0:
        return np.zeros(0)
    _, inverse, log_range = _log_curves(field, dims)
    log_rho = inverse(np.log(mean_nn))
    _warn_clipped(int(np.sum((log_rho < log_range[0]) | (log_rho > log_range[1]))), field, dims)
    return np.exp(np.clip(log_rho, *log_range))


def nominal_density(emitters: Emitters, field: Field = Field(), dims: int = 2,
                    average: str = "distance", n_frames: int | None = None) -> float:
    """Nominal density (emitters per um^2): the CSR density with the same mean NN distance.

    Parameters
    ----------
    emitters : Emitters
        Frames of emitters in ``field``; frames with fewer than two emitters have no NN distance.
    field : Field
        The field the emitters were placed in (sets the edge effects of the calibration).
    dims : {2, 3}
        Lateral (default, as the study) or 3D NN distances.
    average : {"distance", "density"}
        How frames are combined.

        * "distance" (default): the scale factor ``s`` for which CSR frames holding ``s`` times
          each observed frame's count would have, averaged over frames, the observed average of the
          per-frame mean NN distances; the result is ``s`` times the count density. It uses the
          frames' own counts, so CSR tables give back their true density whether the counts are
          fixed or Poisson, and for frames with one count ``n`` it equals the per-frame value.
          ``s`` > 1 says "looks s times denser than it is".
        * "density": the mean of :func:`nominal_density_per_frame` (the literal "per frame, then
          average"); biased upwards for few emitters per frame (about +4 % at 40 per frame).
    n_frames : int, optional
        Number of frames the table covers, for the count density (default ``emitters.n_frames``;
        give it when trailing frames are empty).

    Returns
    -------
    float
        NaN when no frame has two emitters.
    """
    if average not in ("distance", "density"):
        raise ValueError(f"average must be 'distance' or 'density', got {average!r}")
    frames, mean_nn = mean_nn_distance_per_frame(emitters, dims)
    n_frames = emitters.n_frames if n_frames is None else n_frames
    if isinstance(n_frames, bool) or not isinstance(n_frames, (int, np.integer)) or n_frames < emitters.n_frames:
        raise ValueError(
            f"n_frames must be an integer >= the table's {emitters.n_frames} frames, got {n_frames!r}"
        )
    if frames.size == 0:
        return float("nan")
    if average == "density":
        return float(np.mean(_densities_of_frames(mean_nn, field, dims)))
    forward, _, log_range = _log_curves(field, dims)
    log_count_density = np.log(np.bincount(emitters.frame)[frames] / field.area_um2)
    target = float(np.mean(mean_nn))

    def excess(log_s: float) -> float:
        log_rho = np.clip(log_count_density + log_s, *log_range)
        return float(np.mean(np.exp(forward(log_rho)))) - target

    lo, hi = log_range[0] - log_count_density.max(), log_range[1] - log_count_density.min()
    if excess(lo) <= 0 or excess(hi) >= 0:
        _warn_clipped(1, field, dims, stacklevel=3)
        log_s = lo if excess(lo) <= 0 else hi
    else:
        log_s = brentq(excess, lo, hi, xtol=1e-6)
    count_density = len(emitters) / (n_frames * field.area_um2)
    return float(np.exp(log_s) * count_density)


# -- count density <-> nominal density of MT0 frames ----------------------------------------------
#: Seed of the count-to-nominal density calibration of MT0 frames (:func:`mt0_nominal_curve`); it
#: is another calibration than :data:`CALIBRATION_SEED`'s, which maps CSR NN distances to density.
MT0_CALIBRATION_SEED = 20160314
#: Count densities (per um^2) of the MT0 calibration grid (log-spaced).
_MT0_CALIBRATION_COUNTS = tuple(float(v) for v in np.geomspace(0.02, 3.0, 16))


@functools.lru_cache(maxsize=8)
def _mt0_curve(field: Field, n_frames: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    sampler = MT0Sampler(field)
    counts = np.array(_MT0_CALIBRATION_COUNTS)
    nominal = np.empty(counts.size)
    for i, density in enumerate(counts):
        emitters = sample_frames(sampler, n_frames, density_per_um2=float(density), seed=seed + i)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            nominal[i] = nominal_density(emitters, field, n_frames=n_frames)
    nominal = np.maximum.accumulate(nominal)  # monotone, so the inverse is a function
    for array in (counts, nominal):
        array.setflags(write=False)
    return counts, nominal


def mt0_nominal_curve(field: Field = Field(), *, n_frames: int = 400,
                      seed: int = MT0_CALIBRATION_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Nominal density of MT0 frames as a function of their count density (seeded, cached).

    For 16 count densities log-spaced in [0.02, 3] per um^2, ``n_frames`` frames of MT0
    positions are drawn (positions only: no rendering) and their nominal density measured with
    :func:`nominal_density`.

    Returns
    -------
    count_density_per_um2 : numpy.ndarray, shape (16,)
    nominal_density_per_um2 : numpy.ndarray, shape (16,)
        Non-decreasing (read-only arrays).
    """
    if not isinstance(field, Field):
        raise TypeError(f"field must be a structloc.Field, got {type(field).__name__}")
    return _mt0_curve(field, integer_at_least("n_frames", n_frames, 10), integer_at_least("seed", seed, 0))


def mt0_count_density_for_nominal(nominal_per_um2: float | Sequence[float], field: Field = Field(), *,
                                  n_frames: int = 400, seed: int = MT0_CALIBRATION_SEED) -> np.ndarray:
    """Count density of MT0 frames whose nominal density is ``nominal_per_um2``.

    Inverts :func:`mt0_nominal_curve` by monotone (PCHIP) interpolation in log-log.

    Parameters
    ----------
    nominal_per_um2 : float or sequence of float
        Target nominal densities in emitters per um^2, inside the calibrated range.
    field, n_frames, seed :
        Passed to :func:`mt0_nominal_curve`.

    Returns
    -------
    numpy.ndarray of float
        Count densities in emitters per um^2 (same shape as the input; 1-D for a scalar).

    Raises
    ------
    ValueError
        On NaN/inf/non-positive targets, or targets outside the calibrated range.
    """
    targets = np.atleast_1d(np.asarray(nominal_per_um2, dtype=float))
    if targets.ndim != 1:
        raise ValueError(f"nominal_per_um2 must be a number or 1-D sequence, got shape {targets.shape}")
    if not np.all(np.isfinite(targets)) or np.any(targets <= 0):
        raise ValueError("nominal_per_um2 must be finite and > 0 (emitters per um^2)")
    counts, nominal = mt0_nominal_curve(field, n_frames=n_frames, seed=seed)
    keep = np.concatenate([[True], np.diff(nominal) > 0])
    lo, hi = nominal[keep][0], nominal[keep][-1]
    if np.any((targets < lo) | (targets > hi)):
        raise ValueError(f"nominal densities {targets[(targets < lo) | (targets > hi)].tolist()} are outside the "
                         f"calibrated range [{lo:.3g}, {hi:.3g}] per um^2 of MT0 frames")
    inverse = PchipInterpolator(np.log(nominal[keep]), np.log(counts[keep]))
    return np.exp(inverse(np.log(targets)))
