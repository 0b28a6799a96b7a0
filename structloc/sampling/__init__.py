"""Where the emitters of a frame are: complete spatial randomness, random helices, or MT0.

The study compares two ways of placing a training frame's emitters:

* **CSR** (complete spatial randomness): positions uniform in the 3D box of the field
  (:mod:`~structloc.sampling.csr`).
* **Structures**: for every frame, three random helices ("microtubules") that span the field are
  drawn, and the frame's emitters are drawn without replacement from their points
  (:mod:`~structloc.sampling.helix`).

A third sampler draws emitters from the real fluorophore positions of the SMLM Challenge 2016
MT0 sample, which is how the test sets are made (:mod:`~structloc.sampling.mt0`), and a fourth
keeps the positions of a fixed table (:class:`TableSampler`).

Where the emitters are is separate from how many and how bright they are. Every sampler is a
:class:`PositionSampler` (:mod:`~structloc.sampling.positions`): a frozen dataclass with a
``field`` and ``positions(counts, rng) -> (n, 3)`` in nm. Counts per frame and photons come from
:mod:`~structloc.sampling.counts`, the same for all, and ``sample(counts, rng, signal) ->
Emitters`` (:func:`sample_emitters`) draws the photons *before* the positions, so two samplers
given the same counts and the same seed produce the same photons: the sampler is the only
difference.
"""

from __future__ import annotations

import numpy as np

from ..emitters import Emitters
from ..field import Field
from ..snr import SignalLevel
from .counts import (BYTES_PER_EMITTER, MAX_EMITTERS_PER_FRAME, draw_photons, fixed_counts,
                     poisson_counts, validate_counts)
from .csr import CSRSampler
from .helix import HelixSampler, HelixSet
from .mt0 import MT0Sampler, mt0_positions_nm
from .positions import PositionSampler, Sampler, TableSampler, sample_emitters

__all__ = [
    "Sampler", "PositionSampler", "CSRSampler", "HelixSampler", "HelixSet", "MT0Sampler",
    "TableSampler", "SAMPLERS", "draw_photons", "poisson_counts", "fixed_counts", "validate_counts",
    "sample_emitters", "sample_frames", "sampler_from_name", "mt0_positions_nm",
    "MAX_EMITTERS_PER_FRAME", "BYTES_PER_EMITTER",
]

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
