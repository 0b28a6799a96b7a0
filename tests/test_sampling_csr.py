"""Tests of structloc.sampling.csr: complete spatial randomness."""

from __future__ import annotations

import numpy as np
from scipy import stats

from structloc.emitters import Emitters
from structloc.field import Field
from structloc.sampling import CSRSampler, sample_frames


def _inside(emitters: Emitters, field: Field) -> bool:
    xyz = emitters.xyz_nm()
    return bool(np.all((xyz >= [0, 0, field.z_min_nm]) & (xyz <= [field.width_nm, field.height_nm, field.z_max_nm])))



def test_csr_is_uniform_in_the_box():
    field = Field(width_px=40, height_px=20, z_min_nm=-300.0, z_max_nm=900.0)
    emitters = sample_frames(CSRSampler(field), 200, n_per_frame=25, seed=5)
    assert _inside(emitters, field)
    for values, lo, hi in ((emitters.x_nm, 0, field.width_nm), (emitters.y_nm, 0, field.height_nm),
                           (emitters.z_nm, field.z_min_nm, field.z_max_nm)):
        assert stats.kstest(values, stats.uniform(lo, hi - lo).cdf).pvalue > 1e-3
    # independence of x and y: correlation within 4 standard errors of 0
    assert abs(np.corrcoef(emitters.x_nm, emitters.y_nm)[0, 1]) < 4 / np.sqrt(len(emitters))
