"""How many emitters a frame holds and how bright they are: counts per frame and photons.

Where the emitters are is the business of a position sampler (:mod:`structloc.sampling.positions`);
this module draws the rest of the table, the same for every sampler: the emitter count of each
frame (Poisson for a density, or fixed) and each emitter's photons (uniform around the signal
level's mean).
"""

from __future__ import annotations

import numpy as np

from ..checks import integer_at_least, nonnegative_float
from ..field import Field
from ..memory import check_fits
from ..snr import SignalLevel, signal_level

__all__ = ["draw_photons", "poisson_counts", "fixed_counts", "validate_counts", "emitter_frames",
           "frames_and_photons", "check_rng", "MAX_EMITTERS_PER_FRAME", "BYTES_PER_EMITTER"]

#: Most emitters one frame may hold. The renderer holds every emitter of a frame at once (two
#: pixel profiles per emitter), and 100,000 emitters in a 64 x 64 frame are 24 per pixel, far
#: beyond anything a localizer can separate (the study's densest test frames hold ~530).
MAX_EMITTERS_PER_FRAME = 100_000
#: Host memory per emitter while sampling and simulating, in bytes (the table, its sorted copy and
#: the sampler's work arrays), for the memory estimate of a request (:mod:`structloc.memory`).
BYTES_PER_EMITTER = 160


# -- counts and photons --------------------------------------------------------------------------
def validate_counts(counts: np.ndarray) -> np.ndarray:
    """Check per-frame emitter counts and return them as a 1-D int64 array.

    Parameters
    ----------
    counts : array_like of int, shape (n_frames,)
        Number of emitters in each frame; whole, finite, non-negative numbers.

    Raises
    ------
    TypeError
        If ``counts`` is not numeric.
    ValueError
        If ``counts`` is not 1-D, or holds negative, non-whole, NaN or infinite values.
    """
    array = np.asarray(counts)
    if array.dtype.kind not in "iuf" or array.dtype == bool:
        raise TypeError(f"counts must be integers (emitters per frame), got dtype {array.dtype}")
    if array.ndim != 1:
        raise ValueError(f"counts must be 1-D (one count per frame), got shape {array.shape}")
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)):
            raise ValueError("counts hold NaN or infinite values")
        if np.any(array != np.round(array)):
            raise ValueError("counts must be whole numbers of emitters")
    out = array.astype(np.int64)
    if out.size and out.min() < 0:
        raise ValueError(f"counts must be >= 0, got a minimum of {out.min()}")
    if out.size and out.max() > MAX_EMITTERS_PER_FRAME:
        raise ValueError(f"a frame asks for {out.max():,} emitters; at most {MAX_EMITTERS_PER_FRAME:,} "
                         "per frame are supported")
    return out


def _check_counts_array(n_frames: int) -> None:
    check_fits(8.0 * n_frames, f"a count for each of {n_frames:,} frames")


def poisson_counts(
    n_frames: int, density_per_um2: float, field: Field, rng: np.random.Generator
) -> np.ndarray:
    """Poisson-distributed emitter counts with mean ``density_per_um2 * field.area_um2``.

    Parameters
    ----------
    n_frames : int
        Number of frames (>= 0).
    density_per_um2 : float
        Mean emitter density in emitters per um^2 (finite, >= 0).
    field : Field
        The imaging field whose lateral area sets the mean count.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    numpy.ndarray of int64, shape (n_frames,)
    """
    n_frames = integer_at_least("n_frames", n_frames, 0)
    nonnegative_float("density_per_um2", density_per_um2)
    mean = density_per_um2 * field.area_um2
    if mean > MAX_EMITTERS_PER_FRAME:
        raise ValueError(
            f"density {density_per_um2:g} emitters/um^2 means {mean:,.0f} emitters per frame on average "
            f"(a {field.width_nm / 1000:g} x {field.height_nm / 1000:g} um field); at most "
            f"{MAX_EMITTERS_PER_FRAME:,} per frame are supported")
    _check_counts_array(n_frames)
    check_fits(n_frames * mean * BYTES_PER_EMITTER,
               f"{n_frames:,} frames of {mean:,.0f} emitters on average")
    return rng.poisson(mean, size=n_frames).astype(np.int64)


def fixed_counts(n_frames: int, n: int) -> np.ndarray:
    """``n`` emitters in each of ``n_frames`` frames (int64 array of shape (n_frames,))."""
    n_frames = integer_at_least("n_frames", n_frames, 0)
    integer_at_least("n (emitters per frame)", n, 0)
    _check_counts_array(n_frames)
    return validate_counts(np.full(n_frames, int(n), dtype=np.int64))


def draw_photons(n: int, signal: SignalLevel | str, rng: np.random.Generator) -> np.ndarray:
    """Photons of ``n`` emitters, uniform in ``photons * [1 - spread, 1 + spread]``.

    Parameters
    ----------
    n : int
        Number of emitters (>= 0).
    signal : SignalLevel or str
        Signal level or preset name ("high", "medium", "low"); uses ``photons`` and
        ``photons_spread``.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    numpy.ndarray of float64, shape (n,)
        Photons per emitter per frame.
    """
    level = signal_level(signal)
    integer_at_least("n (number of emitters)", n, 0)
    lo = level.photons * (1.0 - level.photons_spread)
    hi = level.photons * (1.0 + level.photons_spread)
    return rng.uniform(lo, hi, size=int(n))


def check_rng(rng: np.random.Generator) -> np.random.Generator:
    """``rng`` if it is a :class:`numpy.random.Generator` (TypeError otherwise)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng


def emitter_frames(counts: np.ndarray) -> np.ndarray:
    """Frame index of each of the ``sum(counts)`` emitters, sorted (int64, shape (n,))."""
    counts = validate_counts(counts)
    return np.repeat(np.arange(counts.size, dtype=np.int64), counts)


def frames_and_photons(
    counts: np.ndarray, rng: np.random.Generator, signal: SignalLevel | str
) -> tuple[np.ndarray, np.ndarray]:
    """Frame index of every emitter (sorted) and its photons, drawn before any position.

    Checks that the emitters fit in memory (:func:`structloc.memory.check_fits`) first.
    """
    counts = validate_counts(counts)
    check_rng(rng)
    total = int(counts.sum())
    check_fits(total * BYTES_PER_EMITTER, f"sampling {total:,} emitters in {counts.size:,} frames")
    frame = emitter_frames(counts)
    return frame, draw_photons(frame.size, signal, rng)
