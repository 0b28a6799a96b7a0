"""Complete spatial randomness (CSR): emitter positions uniform in the 3D box of the field."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..field import Field
from .positions import SamplerBase, check_field

__all__ = ["CSRSampler"]


@dataclass(frozen=True)
class CSRSampler(SamplerBase):
    """Complete spatial randomness: positions uniform in ``[0, W] x [0, H] x [z_min, z_max]`` nm.

    Parameters
    ----------
    field : Field
        The imaging field (lateral size and axial range).
    """

    field: Field = Field()

    def __post_init__(self) -> None:
        check_field("CSRSampler", self.field)

    def _positions_nm(self, slot_frame: np.ndarray, n_frames: int,
                      rng: np.random.Generator) -> np.ndarray:
        f = self.field
        lo = np.array([0.0, 0.0, f.z_min_nm])
        hi = np.array([f.width_nm, f.height_nm, f.z_max_nm])
        return rng.uniform(lo, hi, size=(slot_frame.size, 3))
