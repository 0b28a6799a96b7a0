"""Nominal density: the CSR density with the same mean nearest-neighbour distance.

:func:`nn_calibration_curve` simulates complete spatial randomness (CSR) frames in the field, over
a grid of densities, and records their mean NN distance (seeded by :data:`CALIBRATION_SEED`);
:func:`nominal_density` and :func:`nominal_density_per_frame` read observed frames' mean NN
distances back through that curve (after Byth & Ripley 1980). :func:`nominal_curve` measures
the nominal density of a sampler's frames over a list of count densities.
"""

from __future__ import annotations

import functools
import warnings
from typing import Sequence

import numpy as np
from scipy.interpolate import PchipInterpolator
from scipy.optimize import brentq

from ..emitters import Emitters
from ..field import Field
from ..checks import integer_at_least
from ..sampling import CSRSampler, Sampler, fixed_counts, sample_frames
from .neighbours import _check_dims, mean_nn_distance_per_frame

__all__ = ["nn_calibration_curve", "nominal_density", "nominal_density_per_frame", "nominal_curve"]


#: Largest calibrated density, emitters per um^2. The study's nominal densities are 0.38 - 13 /um^2,
#: but structured frames reach nominal densities far above their count density.
CALIBRATION_MAX_DENSITY_PER_UM2 = 1000.0
#: Number of points of the calibration grid (log-spaced emitter counts from 2 upwards).
CALIBRATION_GRID_SIZE = 40
#: Emitters simulated per grid point (sets the curve's precision: ~0.4 % in distance).
CALIBRATION_EMITTERS = 20000
#: Seed of the CSR calibration of :func:`nn_calibration_curve` (another calibration than
#: :data:`~structloc.density.mt0.MT0_CALIBRATION_SEED`'s, which maps MT0 count to nominal density).
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
    integer_at_least("n_frames (at least the table's frames)", n_frames, emitters.n_frames)
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


def nominal_curve(sampler: Sampler, count_densities_per_um2: Sequence[float], *, n_frames: int,
                  seed: int) -> np.ndarray:
    """Nominal density of a sampler's frames at each of the given count densities.

    For the ``i``-th count density, ``n_frames`` frames are drawn with
    :func:`~structloc.sampling.sample_frames` (Poisson counts, positions only: no rendering) with
    seed ``seed + i``, and their :func:`nominal_density` is measured in ``sampler.field`` (the
    field the emitters were placed in). CSR samplers give back about their count density; structured
    ones a higher nominal density. Clipping warnings of :func:`nominal_density` are passed on.

    Parameters
    ----------
    sampler : Sampler
        Where the emitters are (e.g. :class:`~structloc.sampling.MT0Sampler`).
    count_densities_per_um2 : sequence of float
        Count densities, emitters per um^2 per frame (finite, > 0; may be empty).
    n_frames : int
        Frames per count density (>= 1).
    seed : int
        Seed of the first count density (>= 0); the ``i``-th uses ``seed + i``.

    Returns
    -------
    numpy.ndarray of float64, shape (len(count_densities_per_um2),)
        Nominal densities in emitters per um^2, in the order of the count densities; NaN where no
        frame holds two emitters.

    Raises
    ------
    TypeError
        If ``sampler`` has no ``field`` (a :class:`~structloc.field.Field`) or no ``sample``.
    ValueError
        If the count densities are not a 1-D sequence of finite numbers > 0, or ``n_frames`` /
        ``seed`` are not integers >= 1 / >= 0.
    """
    field = getattr(sampler, "field", None)
    if not isinstance(field, Field) or not callable(getattr(sampler, "sample", None)):
        raise TypeError(f"sampler must be a structloc sampler (field, sample), got {type(sampler).__name__}")
    name = "count_densities_per_um2"
    try:
        counts = np.asarray(count_densities_per_um2, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a sequence of numbers, got {count_densities_per_um2!r}") from None
    if counts.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence, got shape {counts.shape}")
    if not np.all(np.isfinite(counts)) or np.any(counts <= 0):
        raise ValueError(f"{name} must be finite and > 0 (emitters per um^2), got {counts.tolist()}")
    n_frames = integer_at_least("n_frames", n_frames, 1)
    seed = integer_at_least("seed", seed, 0)
    nominal = np.empty(counts.size)
    for i, density in enumerate(counts):
        emitters = sample_frames(sampler, n_frames, density_per_um2=float(density), seed=seed + i)
        nominal[i] = nominal_density(emitters, field, n_frames=n_frames)
    return nominal
