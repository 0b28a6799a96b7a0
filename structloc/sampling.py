"""Where the emitters of a frame are: complete spatial randomness, random helices, or MT0.

The study compares two ways of placing a training frame's emitters:

* **CSR** (complete spatial randomness): positions uniform in the 3D box of the field.
* **Structures**: for every frame, three random helices ("microtubules") that span the field are
  drawn, and the frame's emitters are drawn without replacement from their points.

A third sampler draws emitters from the real fluorophore positions of the SMLM Challenge 2016
MT0 sample, which is how the test sets are made.

Every sampler is a frozen dataclass with a ``field`` and one method
``sample(counts, rng, signal) -> Emitters``; they share everything but the positions. In particular
``sample`` draws the photons *before* the positions, so two samplers given the same counts and the
same seed produce the same photons: the sampler is the only difference.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from .datasets import mt0_activations_path
from .emitters import Emitters
from .field import Field
from .memory import check_fits
from .snr import SignalLevel, signal_level

__all__ = [
    "Sampler", "CSRSampler", "HelixSampler", "HelixSet", "MT0Sampler", "SAMPLERS",
    "draw_photons", "poisson_counts", "fixed_counts", "validate_counts", "sample_frames",
    "sampler_from_name", "mt0_positions_nm", "MAX_EMITTERS_PER_FRAME", "BYTES_PER_EMITTER",
]

#: Most emitters one frame may hold. The renderer holds every emitter of a frame at once (two
#: pixel profiles per emitter), and 100,000 emitters in a 64 x 64 frame are 24 per pixel, far
#: beyond anything a localizer can separate (the study's densest test frames hold ~530).
MAX_EMITTERS_PER_FRAME = 100_000
#: Host memory per emitter while sampling and simulating, in bytes (the table, its sorted copy and
#: the sampler's work arrays), for the memory estimate of a request (:mod:`structloc.memory`).
BYTES_PER_EMITTER = 160


# -- counts and photons --------------------------------------------------------------------------
def _check_n_frames(n_frames: int) -> int:
    if isinstance(n_frames, bool) or not isinstance(n_frames, (int, np.integer)) or n_frames < 0:
        raise ValueError(f"n_frames must be a non-negative integer, got {n_frames!r}")
    return int(n_frames)


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
    n_frames = _check_n_frames(n_frames)
    if not (np.isfinite(density_per_um2) and density_per_um2 >= 0):
        raise ValueError(f"density_per_um2 must be finite and >= 0, got {density_per_um2!r}")
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
    n_frames = _check_n_frames(n_frames)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n (emitters per frame) must be a non-negative integer, got {n!r}")
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
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n (number of emitters) must be a non-negative integer, got {n!r}")
    lo = level.photons * (1.0 - level.photons_spread)
    hi = level.photons * (1.0 + level.photons_spread)
    return rng.uniform(lo, hi, size=int(n))


def _slots_and_photons(
    counts: np.ndarray, rng: np.random.Generator, signal: SignalLevel | str
) -> tuple[np.ndarray, np.ndarray]:
    """Frame index of every emitter slot (sorted) and the photons, drawn before any position."""
    counts = validate_counts(counts)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    total = int(counts.sum())
    check_fits(total * BYTES_PER_EMITTER, f"sampling {total:,} emitters in {counts.size:,} frames")
    slot_frame = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    return slot_frame, draw_photons(slot_frame.size, signal, rng)


# -- drawing distinct points per frame -----------------------------------------------------------
def _mark_duplicates(slot_frame: np.ndarray, keys: np.ndarray, stride: int) -> np.ndarray:
    """Boolean mask of slots whose (frame, key) already occurred at an earlier slot (keys >= 0)."""
    filled = np.flatnonzero(keys >= 0)
    combined = slot_frame[filled] * stride + keys[filled]
    order = np.argsort(combined, kind="stable")
    repeated = np.zeros(filled.size, dtype=bool)
    repeated[1:] = combined[order][1:] == combined[order][:-1]
    duplicate = np.zeros(keys.size, dtype=bool)
    duplicate[filled[order[repeated]]] = True
    return duplicate


def _draw_distinct(
    slot_frame: np.ndarray,
    n_keys: int,
    propose: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    exact: Callable[[int, np.ndarray, int], np.ndarray],
    max_rounds: int = 32,
) -> np.ndarray:
    """Draw, for each slot, a key in ``[0, n_keys)`` such that keys are distinct within a frame.

    ``propose(frames)`` returns candidate keys for those slots and a mask of acceptable ones (e.g.
    inside the field); rejected and duplicate candidates are proposed again. Rejection sampling
    from a uniform proposal gives keys uniform over the acceptable ones, without replacement.
    Frames still incomplete after ``max_rounds`` (nearly exhausted key spaces) are finished by
    ``exact(frame, used_keys, n_missing)``, which enumerates what is left.
    """
    keys = np.full(slot_frame.size, -1, dtype=np.int64)
    todo = np.arange(slot_frame.size)
    for _ in range(max_rounds):
        if todo.size == 0:
            return keys
        candidate, ok = propose(slot_frame[todo])
        keys[todo] = np.where(ok, candidate, -1)
        keys[_mark_duplicates(slot_frame, keys, n_keys)] = -1
        todo = np.flatnonzero(keys < 0)
    for frame in np.unique(slot_frame[todo]):
        missing = todo[slot_frame[todo] == frame]
        used = keys[(slot_frame == frame) & (keys >= 0)]
        keys[missing] = exact(int(frame), used, missing.size)
    return keys


def _choose_remaining(available: np.ndarray, used: np.ndarray, n: int, what: str,
                      rng: np.random.Generator) -> np.ndarray:
    remaining = np.setdiff1d(available, used)
    if remaining.size < n:
        raise ValueError(
            f"a frame asks for {n + used.size} emitters but {what} holds only "
            f"{remaining.size + used.size} distinct points"
        )
    return rng.choice(remaining, size=n, replace=False)


# -- the common interface ------------------------------------------------------------------------
class Sampler(Protocol):
    """What every sampler offers: a ``field`` and ``sample(counts, rng, signal) -> Emitters``."""

    field: Field

    def sample(
        self, counts: np.ndarray, rng: np.random.Generator, signal: SignalLevel | str = "high"
    ) -> Emitters:
        ...


class _SamplerBase:
    """Shared ``sample``: validates counts, draws photons first, then the subclass's positions."""

    field: Field

    def _positions_nm(self, slot_frame: np.ndarray, n_frames: int,
                      rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def sample(
        self, counts: np.ndarray, rng: np.random.Generator, signal: SignalLevel | str = "high"
    ) -> Emitters:
        """Emitters of ``len(counts)`` frames, ``counts[i]`` of them in frame ``i``.

        Parameters
        ----------
        counts : array_like of int, shape (n_frames,)
            Emitters per frame (see :func:`poisson_counts`, :func:`fixed_counts`).
        rng : numpy.random.Generator
            Source of randomness; photons are drawn before positions, so samplers given the same
            counts and generator state give the same photons.
        signal : SignalLevel or str
            Signal level (photons per emitter) or a preset name. Default "high".

        Returns
        -------
        Emitters
            Sorted by frame; positions in nm inside the field.
        """
        slot_frame, photons = _slots_and_photons(counts, rng, signal)
        xyz = self._positions_nm(slot_frame, len(counts), rng)
        return Emitters(slot_frame, xyz[:, 0], xyz[:, 1], xyz[:, 2], photons)


def _check_field(owner: str, field: Field) -> None:
    if not isinstance(field, Field):
        raise TypeError(f"{owner}.field must be a structloc.Field, got {type(field).__name__}")


# -- complete spatial randomness -----------------------------------------------------------------
@dataclass(frozen=True)
class CSRSampler(_SamplerBase):
    """Complete spatial randomness: positions uniform in ``[0, W] x [0, H] x [z_min, z_max]`` nm.

    Parameters
    ----------
    field : Field
        The imaging field (lateral size and axial range).
    """

    field: Field = Field()

    def __post_init__(self) -> None:
        _check_field("CSRSampler", self.field)

    def _positions_nm(self, slot_frame: np.ndarray, n_frames: int,
                      rng: np.random.Generator) -> np.ndarray:
        f = self.field
        lo = np.array([0.0, 0.0, f.z_min_nm])
        hi = np.array([f.width_nm, f.height_nm, f.z_max_nm])
        return rng.uniform(lo, hi, size=(slot_frame.size, 3))


# -- random helices ------------------------------------------------------------------------------
@dataclass(frozen=True)
class HelixSet:
    """The helices of several frames: arrays of shape (n_frames, n_helices[, 3]).

    Helix ``(f, h)`` is the curve, for the in-plane axis coordinate ``t`` in ``t_range_nm[f, h]``,

        p(t) = center + s u + radius (cos a v + sin a w),  s = t / cos(tilt),
        a = phase + handedness * 2 pi s / pitch,

    with ``u`` the unit axis direction, ``v`` the in-plane unit normal and ``w = u x v``. The
    helix is discretised into ``points_per_helix`` points at ``t`` on the midpoints of a regular
    grid over ``t_range_nm``.

    Attributes
    ----------
    center_nm : (F, H, 3)  a point of the axis, inside the field, in nm
    axis : (F, H, 3)       unit axis direction ``u``
    normal : (F, H, 3)     unit in-plane normal ``v``
    binormal : (F, H, 3)   ``w = u x v``
    tilt_rad, radius_nm, pitch_nm, phase_rad, handedness : (F, H)
    t_range_nm : (F, H, 2) in-plane axis interval whose helix points can fall in the field
    points_per_helix : int
    """

    center_nm: np.ndarray
    axis: np.ndarray
    normal: np.ndarray
    binormal: np.ndarray
    tilt_rad: np.ndarray
    radius_nm: np.ndarray
    pitch_nm: np.ndarray
    phase_rad: np.ndarray
    handedness: np.ndarray
    t_range_nm: np.ndarray
    points_per_helix: int

    @property
    def n_frames(self) -> int:
        return int(self.radius_nm.shape[0])

    @property
    def n_helices(self) -> int:
        return int(self.radius_nm.shape[1])

    def points_nm(self, frame: np.ndarray, helix: np.ndarray, k: np.ndarray) -> np.ndarray:
        """Positions (n, 3) in nm of grid point ``k`` of helix ``helix`` in frame ``frame``."""
        fh = np.asarray(frame) * self.n_helices + np.asarray(helix)
        flat = lambda a: a.reshape(-1, *a.shape[2:])[fh]  # noqa: E731 - one gather per array
        t_range = flat(self.t_range_nm)
        t = t_range[:, 0] + (np.asarray(k) + 0.5) / self.points_per_helix * (t_range[:, 1] - t_range[:, 0])
        s = t / np.cos(flat(self.tilt_rad))
        angle = flat(self.phase_rad) + flat(self.handedness) * (2.0 * np.pi) * s / flat(self.pitch_nm)
        r = flat(self.radius_nm)
        return (
            flat(self.center_nm)
            + s[:, None] * flat(self.axis)
            + (r * np.cos(angle))[:, None] * flat(self.normal)
            + (r * np.sin(angle))[:, None] * flat(self.binormal)
        )


def _inside_box(xyz: np.ndarray, field: Field) -> np.ndarray:
    return (
        (xyz[:, 0] >= 0) & (xyz[:, 0] <= field.width_nm)
        & (xyz[:, 1] >= 0) & (xyz[:, 1] <= field.height_nm)
        & (xyz[:, 2] >= field.z_min_nm) & (xyz[:, 2] <= field.z_max_nm)
    )


def _check_range(owner: str, name: str, value: tuple[float, float]) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{owner}.{name} must be a (low, high) pair of numbers, got {value!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo <= hi):
        raise ValueError(f"{owner}.{name} must satisfy 0 < low <= high (finite), got {value!r}")
    return lo, hi


@dataclass(frozen=True)
class HelixSampler(_SamplerBase):
    """Emitters drawn from random helices ("microtubules"), regenerated for every frame.

    For each frame, ``n_helices`` helices are drawn independently:

    * **axis**: a line through a point uniform in the field (lateral position uniform in
      ``[0, W] x [0, H]``, axial position uniform in ``[z_min + r, z_max - r]``), at an in-plane
      angle uniform in ``[0, pi)`` and an axial tilt uniform in ``[-max_tilt_deg, +max_tilt_deg]``.
      The axis runs across the whole field, so every helix spans the domain. Microtubules in thin
      SMLM samples lie close to the coverslip; the default 10 degrees lets an axis climb up to
      ~1.1 um over the 6.4 um field, i.e. a helix visits much of the 1.5 um axial range.
    * **radius** uniform in ``radius_nm`` (default 25-150 nm): from an antibody-labelled
      microtubule (~12.5 nm tube radius plus ~10-15 nm of label) to a radius comparable to the PSF
      width (sigma ~ 130 nm), so frames show both emitters crowded along a line and resolvable
      3D arrangements around it.
    * **pitch** uniform in ``pitch_nm`` (default 200-1000 nm): from a tight coil whose turns are
      a PSF width apart to a gently twisted filament that looks straight over a few PSF widths.
    * **phase** uniform in ``[0, 2 pi)`` and handedness +1 or -1 with equal probability.

    Each helix is discretised into ``points_per_helix`` points evenly spaced along its axis over
    the stretch whose points can fall in the field (the axis chord through the field grown by the
    radius); points outside the 3D box ``[0, W] x [0, H] x [z_min, z_max]`` are dropped (not
    clipped or reflected, which would move them off the helix). Because the axis passes through
    the field with its axial position at least one radius from the z limits, every helix keeps
    points inside the field. A frame's emitters are drawn without replacement from the union of
    the kept points of its helices, so a helix contributes in proportion to its length inside
    the field. The points are not all generated: a candidate (helix, grid index) is drawn
    uniformly and rejected if outside the box or already taken, which is exactly uniform
    sampling without replacement from the union (see :meth:`structure` for the whole cloud).

    Parameters
    ----------
    field : Field
        The imaging field.
    n_helices : int
        Helices per frame (default 3, as the study).
    points_per_helix : int
        Discretisation of each helix (default 5000, as the study).
    radius_nm, pitch_nm : (float, float)
        Ranges (low, high) in nm of the uniformly drawn radius and pitch. The largest radius must
        be below half the axial range.
    max_tilt_deg : float
        Largest axial tilt of an axis, in degrees, in [0, 60].
    """

    field: Field = Field()
    n_helices: int = 3
    points_per_helix: int = 5000
    radius_nm: tuple[float, float] = (25.0, 150.0)
    pitch_nm: tuple[float, float] = (200.0, 1000.0)
    max_tilt_deg: float = 10.0

    def __post_init__(self) -> None:
        _check_field("HelixSampler", self.field)
        for name in ("n_helices", "points_per_helix"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"HelixSampler.{name} must be a positive integer, got {value!r}")
        object.__setattr__(self, "radius_nm", _check_range("HelixSampler", "radius_nm", self.radius_nm))
        object.__setattr__(self, "pitch_nm", _check_range("HelixSampler", "pitch_nm", self.pitch_nm))
        if self.radius_nm[1] >= self.field.depth_nm / 2:
            raise ValueError(
                f"HelixSampler.radius_nm high ({self.radius_nm[1]} nm) must be below half the "
                f"axial range ({self.field.depth_nm / 2} nm)"
            )
        if not (np.isfinite(self.max_tilt_deg) and 0 <= self.max_tilt_deg <= 60):
            raise ValueError(f"HelixSampler.max_tilt_deg must be in [0, 60], got {self.max_tilt_deg!r}")

    @property
    def n_keys(self) -> int:
        """Number of discretised helix points per frame (``n_helices * points_per_helix``)."""
        return self.n_helices * self.points_per_helix

    def draw_helices(self, n_frames: int, rng: np.random.Generator) -> HelixSet:
        """Draw the helices of ``n_frames`` frames at once (see the class docstring)."""
        n_frames = _check_n_frames(n_frames)
        f, shape = self.field, (n_frames, self.n_helices)
        radius = rng.uniform(*self.radius_nm, size=shape)
        pitch = rng.uniform(*self.pitch_nm, size=shape)
        phase = rng.uniform(0.0, 2.0 * np.pi, size=shape)
        handedness = rng.choice(np.array([-1.0, 1.0]), size=shape)
        theta = rng.uniform(0.0, np.pi, size=shape)
        tilt = np.deg2rad(rng.uniform(-self.max_tilt_deg, self.max_tilt_deg, size=shape))
        center = np.stack([
            rng.uniform(0.0, f.width_nm, size=shape),
            rng.uniform(0.0, f.height_nm, size=shape),
            rng.uniform(f.z_min_nm + radius, f.z_max_nm - radius),
        ], axis=-1)
        cos_t, sin_t, cos_p, sin_p = np.cos(theta), np.sin(theta), np.cos(tilt), np.sin(tilt)
        axis = np.stack([cos_t * cos_p, sin_t * cos_p, sin_p], axis=-1)
        normal = np.stack([-sin_t, cos_t, np.zeros(shape)], axis=-1)
        binormal = np.stack([-cos_t * sin_p, -sin_t * sin_p, cos_p], axis=-1)
        # Interval of t (in-plane axis coordinate) where the axis lies in the box grown by r:
        # helix points lie within r of the axis, so nothing outside it can be in the field.
        per_t = np.stack([cos_t, sin_t, np.tan(tilt)], axis=-1)
        lo = np.array([0.0, 0.0, f.z_min_nm]) - radius[..., None]
        hi = np.array([f.width_nm, f.height_nm, f.z_max_nm]) + radius[..., None]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            t1, t2 = (lo - center) / per_t, (hi - center) / per_t
        t_lo = np.max(np.where(per_t == 0, -np.inf, np.minimum(t1, t2)), axis=-1)
        t_hi = np.min(np.where(per_t == 0, np.inf, np.maximum(t1, t2)), axis=-1)
        return HelixSet(center, axis, normal, binormal, tilt, radius, pitch, phase, handedness,
                        np.stack([t_lo, t_hi], axis=-1), self.points_per_helix)

    def _frame_points(self, helices: HelixSet, frame: int) -> tuple[np.ndarray, np.ndarray]:
        """All grid points of one frame's helices: keys and positions, inside the box only."""
        keys = np.arange(self.n_keys)
        helix, k = np.divmod(keys, self.points_per_helix)
        xyz = helices.points_nm(np.full(keys.size, frame), helix, k)
        inside = _inside_box(xyz, self.field)
        return keys[inside], xyz[inside]

    def structure(self, rng: np.random.Generator, return_labels: bool = False):
        """One frame's whole point cloud: every discretised helix point inside the field.

        Parameters
        ----------
        rng : numpy.random.Generator
            Source of randomness.
        return_labels : bool
            Also return the helix index (0 .. n_helices - 1) of each point.

        Returns
        -------
        numpy.ndarray, shape (n_points, 3)
            Positions (x, y, z) in nm; ``n_points <= n_helices * points_per_helix``.
        numpy.ndarray of int64, shape (n_points,)
            Helix index of each point (only if ``return_labels``).
        """
        keys, xyz = self._frame_points(self.draw_helices(1, rng), 0)
        return (xyz, keys // self.points_per_helix) if return_labels else xyz

    def frame_points_nm(self, helices: HelixSet, frame: int = 0) -> np.ndarray:
        """Every helix point of ``frame`` of ``helices`` inside the field, shape (n_points, 3), nm.

        With :meth:`sample_with_helices` this draws the structure a frame's emitters came from.
        """
        return self._frame_points(helices, int(frame))[1]

    def sample_with_helices(
        self, counts: np.ndarray, rng: np.random.Generator, signal: SignalLevel | str = "high"
    ) -> tuple[Emitters, HelixSet]:
        """Like :meth:`sample`, also returning the helices each frame's emitters lie on."""
        slot_frame, photons = _slots_and_photons(counts, rng, signal)
        helices, xyz = self._sample_points(slot_frame, len(counts), rng)
        return Emitters(slot_frame, xyz[:, 0], xyz[:, 1], xyz[:, 2], photons), helices

    def _sample_points(self, slot_frame: np.ndarray, n_frames: int,
                       rng: np.random.Generator) -> tuple[HelixSet, np.ndarray]:
        if slot_frame.size and np.bincount(slot_frame).max() > self.n_keys:
            raise ValueError(
                f"a frame asks for {np.bincount(slot_frame).max()} emitters but its helices have "
                f"only {self.n_keys} points ({self.n_helices} x {self.points_per_helix})"
            )
        helices = self.draw_helices(n_frames, rng)

        def propose(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            keys = rng.integers(0, self.n_keys, size=frames.size)
            helix, k = np.divmod(keys, self.points_per_helix)
            return keys, _inside_box(helices.points_nm(frames, helix, k), self.field)

        def exact(frame: int, used: np.ndarray, n: int) -> np.ndarray:
            available, _ = self._frame_points(helices, frame)
            return _choose_remaining(available, used, n, f"frame {frame}'s helices", rng)

        keys = _draw_distinct(slot_frame, self.n_keys, propose, exact)
        helix, k = np.divmod(keys, self.points_per_helix)
        return helices, helices.points_nm(slot_frame, helix, k)

    def _positions_nm(self, slot_frame: np.ndarray, n_frames: int,
                      rng: np.random.Generator) -> np.ndarray:
        return self._sample_points(slot_frame, n_frames, rng)[1]


# -- the MT0 ground truth ------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _mt0_positions_cached(kind: str) -> np.ndarray:
    kinds = ("LD", "HD") if kind == "BOTH" else (kind,)
    tables = [np.loadtxt(mt0_activations_path(k), delimiter=",", skiprows=1, usecols=(2, 3, 4),
                         ndmin=2) for k in kinds]
    positions = np.unique(np.round(np.concatenate(tables), 3), axis=0)
    positions.setflags(write=False)
    return positions


def mt0_positions_nm(kind: str = "both") -> np.ndarray:
    """Distinct fluorophore positions (n, 3) in nm of the MT0 ground truth (cached, read-only).

    Parameters
    ----------
    kind : {"LD", "HD", "both"}
        Which activations file(s): the low- or high-density acquisition, or their union. Both
        image the same sample, so their positions overlap (~8,700 LD, ~11,000 HD, ~11,100 both).
        Positions are rounded to 0.001 nm (the file precision) and deduplicated.
    """
    normalised = str(kind).upper()
    if normalised not in ("LD", "HD", "BOTH"):
        raise ValueError(f"MT0 kind must be 'LD', 'HD' or 'both', got {kind!r}")
    return _mt0_positions_cached(normalised)


@dataclass(frozen=True)
class MT0Sampler(_SamplerBase):
    """Emitters drawn without replacement from the distinct MT0 fluorophore positions.

    Parameters
    ----------
    field : Field
        The imaging field; positions outside its 3D box are excluded (none are for the default
        64 x 64 field of 100 nm pixels and z in [-750, 750] nm).
    kind : {"LD", "HD", "both"}
        Which ground-truth file(s) provide the positions (see :func:`mt0_positions_nm`).
    """

    field: Field = Field()
    kind: str = "both"

    def __post_init__(self) -> None:
        _check_field("MT0Sampler", self.field)
        mt0_positions_nm(self.kind)  # validates the name

    @property
    def positions_nm(self) -> np.ndarray:
        """The candidate positions (n, 3) in nm: distinct MT0 positions inside the field."""
        positions = mt0_positions_nm(self.kind)
        return positions[_inside_box(positions, self.field)]

    def _positions_nm(self, slot_frame: np.ndarray, n_frames: int,
                      rng: np.random.Generator) -> np.ndarray:
        positions = self.positions_nm
        n = positions.shape[0]
        if slot_frame.size and np.bincount(slot_frame).max() > n:
            raise ValueError(
                f"a frame asks for {np.bincount(slot_frame).max()} emitters but MT0 "
                f"({self.kind}) has only {n} distinct positions inside the field"
            )

        def propose(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return rng.integers(0, n, size=frames.size), np.ones(frames.size, dtype=bool)

        def exact(frame: int, used: np.ndarray, m: int) -> np.ndarray:
            return _choose_remaining(np.arange(n), used, m, "MT0", rng)

        return positions[_draw_distinct(slot_frame, max(n, 1), propose, exact)]


# -- names and convenience -----------------------------------------------------------------------
SAMPLERS: dict[str, type] = {"csr": CSRSampler, "helix": HelixSampler, "mt0": MT0Sampler}


def sampler_from_name(name: str, field: Field = Field(), **options) -> Sampler:
    """The sampler called ``name`` ("csr", "helix" or "mt0") on ``field``; ``options`` are passed on.

    Raises
    ------
    ValueError
        If ``name`` is not one of :data:`SAMPLERS`.
    """
    key = str(name).lower()
    if key not in SAMPLERS:
        raise ValueError(f"unknown sampler {name!r}; choose one of {sorted(SAMPLERS)}")
    return SAMPLERS[key](field=field, **options)


def sample_frames(
    sampler: Sampler,
    n_frames: int,
    *,
    density_per_um2: float | None = None,
    n_per_frame: int | None = None,
    signal: SignalLevel | str = "high",
    seed: int = 0,
) -> Emitters:
    """Emitters of ``n_frames`` frames from ``sampler``, in one seeded call.

    Give exactly one of ``density_per_um2`` (Poisson counts with mean density x area) and
    ``n_per_frame`` (the same count in every frame). Counts are drawn first from
    ``numpy.random.default_rng(seed)``, so two samplers with the same seed get the same counts
    (and, see :meth:`CSRSampler.sample`, the same photons).
    """
    if (density_per_um2 is None) == (n_per_frame is None):
        raise ValueError("give exactly one of density_per_um2 and n_per_frame")
    rng = np.random.default_rng(seed)
    if density_per_um2 is not None:
        counts = poisson_counts(n_frames, density_per_um2, sampler.field, rng)
    else:
        counts = fixed_counts(n_frames, n_per_frame)
    return sampler.sample(counts, rng, signal)
