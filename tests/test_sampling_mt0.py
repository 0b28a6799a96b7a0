"""Tests of structloc.sampling.mt0: emitters drawn from the MT0 ground-truth positions."""

from __future__ import annotations

import numpy as np
import pytest

from structloc.field import Field
from structloc.sampling import MT0Sampler, mt0_positions_nm, sample_frames


def test_mt0_positions_are_distinct_data_positions():
    both = mt0_positions_nm("both")
    assert 10000 < both.shape[0] < 12000  # ~11,000 distinct fluorophores
    assert len(np.unique(both, axis=0)) == both.shape[0]
    assert mt0_positions_nm("LD").shape[0] < both.shape[0]
    emitters = sample_frames(MT0Sampler(kind="HD"), 10, n_per_frame=50, seed=1)
    hd = {tuple(p) for p in mt0_positions_nm("HD")}
    assert all(tuple(p) in hd for p in emitters.xyz_nm())
    for frame in range(10):  # without replacement within a frame
        assert len(np.unique(emitters.in_frame(frame).xyz_nm(), axis=0)) == 50


def test_mt0_excludes_positions_outside_the_field_and_checks_counts():
    small = Field(width_px=20, height_px=20)
    sampler = MT0Sampler(small)
    inside = sampler.positions_nm
    assert 0 < inside.shape[0] < mt0_positions_nm().shape[0]
    assert np.all(inside[:, :2] <= 2000.0)
    everything = sampler.sample([inside.shape[0]], np.random.default_rng(0))
    assert len(np.unique(everything.xyz_nm(), axis=0)) == inside.shape[0]
    with pytest.raises(ValueError, match="distinct positions"):
        sampler.sample([inside.shape[0] + 1], np.random.default_rng(0))
    with pytest.raises(ValueError, match="MT0 kind"):
        MT0Sampler(kind="XD")
