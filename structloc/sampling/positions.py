"""Where the emitters of a frame are: the position-sampler protocol and what samplers share.

A *position sampler* answers one question, where a frame's emitters are, separate from how many
there are and how bright they are (as DECODE separates a structure from its photons): given the
emitter count of each frame and a random generator, :meth:`PositionSampler.positions` returns one
position per emitter. Counts and photons come from :mod:`structloc.sampling.counts`, the same for
every sampler, and :func:`sample_emitters` joins the three into an
:class:`~structloc.emitters.Emitters` table, drawing the photons *before* the positions: two
position samplers given the same counts and seed give the same photons, so the sampler is the only
difference.

The samplers of the study (:class:`~structloc.sampling.CSRSampler`,
:class:`~structloc.sampling.HelixSampler`, :class:`~structloc.sampling.MT0Sampler`) and
:class:`TableSampler` (the positions of a fixed table, e.g. frames of the challenge's MT0
activations) implement the protocol; each also offers ``sample(counts, rng, signal)``, the
:class:`Sampler` interface of :func:`structloc.simulate.simulate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol, runtime_checkable

import numpy as np

from ..emitters import Emitters
from ..field import Field
from ..snr import SignalLevel
from .counts import check_rng, emitter_frames, frames_and_photons, validate_counts

__all__ = ["PositionSampler", "Sampler", "SamplerBase", "TableSampler", "sample_emitters"]


# -- the two interfaces --------------------------------------------------------------------------
@runtime_checkable
class PositionSampler(Protocol):
    """Where emitters are: a ``field`` and ``positions(counts, rng) -> (n, 3)`` in nm."""

    field: Field

    def positions(self, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Positions ``(sum(counts), 3)`` (x, y, z in nm), frame by frame: ``counts[0]`` rows of
        frame 0 first, then ``counts[1]`` of frame 1, and so on."""
        ...


class Sampler(Protocol):
    """What every sampler offers: a ``field`` and ``sample(counts, rng, signal) -> Emitters``."""

    field: Field

    def sample(
        self, counts: np.ndarray, rng: np.random.Generator, signal: SignalLevel | str = "high"
    ) -> Emitters:
        ...


def sample_emitters(
    sampler: PositionSampler, counts: np.ndarray, rng: np.random.Generator,
    signal: SignalLevel | str = "high",
) -> Emitters:
    """Emitters of ``len(counts)`` frames: photons from ``signal``, then positions from ``sampler``.

    Parameters
    ----------
    sampler : PositionSampler
        Where the emitters are.
    counts : array_like of int, shape (n_frames,)
        Emitters per frame (see :func:`~structloc.sampling.poisson_counts`,
        :func:`~structloc.sampling.fixed_counts`).
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
    frame, photons = frames_and_photons(counts, rng, signal)
    xyz = sampler.positions(counts, rng)
    return Emitters(frame, xyz[:, 0], xyz[:, 1], xyz[:, 2], photons)


class SamplerBase:
    """Base of the position samplers: ``sample`` is :func:`sample_emitters` of ``positions``."""

    field: Field

    def positions(self, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Positions ``(sum(counts), 3)`` in nm, frame by frame (see :class:`PositionSampler`)."""
        counts = validate_counts(counts)
        return self._positions_nm(emitter_frames(counts), counts.size, check_rng(rng))

    def _positions_nm(self, frame: np.ndarray, n_frames: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def sample(
        self, counts: np.ndarray, rng: np.random.Generator, signal: SignalLevel | str = "high"
    ) -> Emitters:
        """Emitters of ``len(counts)`` frames, ``counts[i]`` of them in frame ``i``.

        See :func:`sample_emitters` (photons are drawn before positions).
        """
        return sample_emitters(self, counts, rng, signal)


def check_field(owner: str, field: Field) -> None:
    """TypeError unless ``field`` is a :class:`~structloc.field.Field` (``owner`` names the class)."""
    if not isinstance(field, Field):
        raise TypeError(f"{owner}.field must be a structloc.Field, got {type(field).__name__}")


def inside_box(xyz: np.ndarray, field: Field) -> np.ndarray:
    """Boolean mask of the positions ``(n, 3)`` in nm inside the 3D box of ``field`` (edges in)."""
    return (
        (xyz[:, 0] >= 0) & (xyz[:, 0] <= field.width_nm)
        & (xyz[:, 1] >= 0) & (xyz[:, 1] <= field.height_nm)
        & (xyz[:, 2] >= field.z_min_nm) & (xyz[:, 2] <= field.z_max_nm)
    )



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


def draw_distinct(
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


def choose_remaining(available: np.ndarray, used: np.ndarray, n: int, what: str,
                      rng: np.random.Generator) -> np.ndarray:
    remaining = np.setdiff1d(available, used)
    if remaining.size < n:
        raise ValueError(
            f"a frame asks for {n + used.size} emitters but {what} holds only "
            f"{remaining.size + used.size} distinct points"
        )
    return rng.choice(remaining, size=n, replace=False)


# -- the positions of a fixed table --------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class TableSampler(SamplerBase):
    """The positions of a fixed table, frame by frame (e.g. frames of the MT0 activations).

    The table says where the emitters of each frame are; :meth:`positions` returns them for the
    counts of the table's own frames and draws nothing, so :meth:`sample` keeps the positions and
    draws new photons from the signal level.

    Parameters
    ----------
    field : Field
        The imaging field of the frames.
    table : Emitters
        The positions, sorted by frame (frames 0 .. n_frames - 1; its photons are not used).
    """

    field: Field
    table: Emitters

    def __post_init__(self) -> None:
        check_field("TableSampler", self.field)
        if not isinstance(self.table, Emitters):
            raise TypeError(f"TableSampler.table must be an Emitters table, got {type(self.table).__name__}")
        if np.any(np.diff(self.table.frame) < 0):
            raise ValueError("TableSampler.table must be sorted by frame (Emitters.sorted())")

    def _positions_nm(self, frame: np.ndarray, n_frames: int, rng: np.random.Generator) -> np.ndarray:
        table_counts = np.bincount(self.table.frame, minlength=n_frames)
        if not np.array_equal(table_counts, np.bincount(frame, minlength=n_frames)):
            raise ValueError("counts do not match the fixed table's frames")
        return self.table.xyz_nm()
