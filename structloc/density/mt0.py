"""Count density <-> nominal density of frames drawn from the MT0 positions.

The study's test sets are MT0 frames at chosen *nominal* densities. :func:`mt0_nominal_curve`
measures the nominal density of MT0 frames over a grid of count densities (seeded by
:data:`MT0_CALIBRATION_SEED`), and :func:`mt0_count_density_for_nominal` inverts it: the count
density to draw for a wanted nominal density.
"""

from __future__ import annotations

import functools
import warnings
from typing import Sequence

import numpy as np
from scipy.interpolate import PchipInterpolator

from ..checks import integer_at_least
from ..field import Field
from ..sampling import MT0Sampler
from .nominal import nominal_curve

__all__ = ["mt0_nominal_curve", "mt0_count_density_for_nominal"]


#: Seed of the count-to-nominal density calibration of MT0 frames (:func:`mt0_nominal_curve`); it
#: is another calibration than :data:`~structloc.density.nominal.CALIBRATION_SEED`'s, which maps CSR NN
#: distances to density.
MT0_CALIBRATION_SEED = 20160314
#: Count densities (per um^2) of the MT0 calibration grid (log-spaced).
_MT0_CALIBRATION_COUNTS = tuple(float(v) for v in np.geomspace(0.02, 3.0, 16))


@functools.lru_cache(maxsize=8)
def _mt0_curve(field: Field, n_frames: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    counts = np.array(_MT0_CALIBRATION_COUNTS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        nominal = nominal_curve(MT0Sampler(field), counts, n_frames=n_frames, seed=seed)
    nominal = np.maximum.accumulate(nominal)  # monotone, so the inverse is a function
    for array in (counts, nominal):
        array.setflags(write=False)
    return counts, nominal


def mt0_nominal_curve(field: Field = Field(), *, n_frames: int = 400,
                      seed: int = MT0_CALIBRATION_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Nominal density of MT0 frames as a function of their count density (seeded, cached).

    For 16 count densities log-spaced in [0.02, 3] per um^2, ``n_frames`` frames of MT0
    positions are drawn (positions only: no rendering) and their nominal density measured with
    :func:`~structloc.density.nominal.nominal_curve` (the ``i``-th density with seed ``seed + i``).

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
