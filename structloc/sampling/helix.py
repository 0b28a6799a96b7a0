"""Random helices ("microtubules"): the structure-based sampler of the study.

For every frame, three random helices that span the field are drawn, and the frame's emitters
are drawn without replacement from their points (:class:`HelixSampler`; :class:`HelixSet` holds
the helices of several frames).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..checks import in_range, integer_at_least, positive_range
from ..emitters import Emitters
from ..field import Field
from ..snr import SignalLevel
from .counts import frames_and_photons
from .positions import SamplerBase, check_field, choose_remaining, draw_distinct, inside_box

__all__ = ["HelixSampler", "HelixSet"]


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


@dataclass(frozen=True)
class HelixSampler(SamplerBase):
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
        check_field("HelixSampler", self.field)
        for name in ("n_helices", "points_per_helix"):
            integer_at_least(f"HelixSampler.{name}", getattr(self, name))
        object.__setattr__(self, "radius_nm", positive_range("HelixSampler.radius_nm", self.radius_nm))
        object.__setattr__(self, "pitch_nm", positive_range("HelixSampler.pitch_nm", self.pitch_nm))
        if self.radius_nm[1] >= self.field.depth_nm / 2:
            raise ValueError(
                f"HelixSampler.radius_nm high ({self.radius_nm[1]} nm) must be below half the "
                f"axial range ({self.field.depth_nm / 2} nm)"
            )
        in_range("HelixSampler.max_tilt_deg", self.max_tilt_deg, 0.0, 60.0)

    @property
    def n_keys(self) -> int:
        """Number of discretised helix points per frame (``n_helices * points_per_helix``)."""
        return self.n_helices * self.points_per_helix

    def draw_helices(self, n_frames: int, rng: np.random.Generator) -> HelixSet:
        """Draw the helices of ``n_frames`` frames at once (see the class docstring)."""
        n_frames = integer_at_least("n_frames", n_frames, 0)
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
        inside = inside_box(xyz, self.field)
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
        slot_frame, photons = frames_and_photons(counts, rng, signal)
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
            return keys, inside_box(helices.points_nm(frames, helix, k), self.field)

        def exact(frame: int, used: np.ndarray, n: int) -> np.ndarray:
            available, _ = self._frame_points(helices, frame)
            return choose_remaining(available, used, n, f"frame {frame}'s helices", rng)

        keys = draw_distinct(slot_frame, self.n_keys, propose, exact)
        helix, k = np.divmod(keys, self.points_per_helix)
        return helices, helices.points_nm(slot_frame, helix, k)

    def _positions_nm(self, slot_frame: np.ndarray, n_frames: int,
                      rng: np.random.Generator) -> np.ndarray:
        return self._sample_points(slot_frame, n_frames, rng)[1]
