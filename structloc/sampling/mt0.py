"""The MT0 ground truth as a sampler: emitters drawn from the real fluorophore positions.

The SMLM Challenge 2016 MT0 sample (microtubules) is how the test sets are made:
:func:`mt0_positions_nm` gives its distinct fluorophore positions (from the one MT0 loader,
:func:`structloc.io.load_mt0_ground_truth`) and :class:`MT0Sampler` draws each frame's emitters
from them without replacement.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ..field import Field
from ..io import load_mt0_ground_truth
from .positions import SamplerBase, check_field, choose_remaining, draw_distinct, inside_box

__all__ = ["MT0Sampler", "mt0_positions_nm"]


@functools.lru_cache(maxsize=None)
def _mt0_positions_cached(kind: str) -> np.ndarray:
    kinds = ("LD", "HD") if kind == "BOTH" else (kind,)
    tables = [load_mt0_ground_truth(k).xyz_nm() for k in kinds]
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
class MT0Sampler(SamplerBase):
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
        check_field("MT0Sampler", self.field)
        mt0_positions_nm(self.kind)  # validates the name

    @property
    def positions_nm(self) -> np.ndarray:
        """The candidate positions (n, 3) in nm: distinct MT0 positions inside the field."""
        positions = mt0_positions_nm(self.kind)
        return positions[inside_box(positions, self.field)]

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
            return choose_remaining(np.arange(n), used, m, "MT0", rng)

        return positions[draw_distinct(slot_frame, max(n, 1), propose, exact)]
