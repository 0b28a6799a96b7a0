"""Tests of structloc.sampling: what every sampler shares (interface, seeds, limits) and names."""

from __future__ import annotations

import numpy as np
import pytest

from structloc import memory
from structloc.emitters import Emitters
from structloc.field import Field
from structloc.memory import MemoryBudgetError
from structloc.sampling import (
    MAX_EMITTERS_PER_FRAME, CSRSampler, HelixSampler, MT0Sampler, fixed_counts, sample_frames,
    sampler_from_name,
)

SAMPLERS = [CSRSampler(), HelixSampler(), MT0Sampler()]
IDS = ["csr", "helix", "mt0"]


def _inside(emitters: Emitters, field: Field) -> bool:
    xyz = emitters.xyz_nm()
    return bool(np.all((xyz >= [0, 0, field.z_min_nm]) & (xyz <= [field.width_nm, field.height_nm, field.z_max_nm])))



# -- the shared interface ------------------------------------------------------------------------
@pytest.mark.parametrize("sampler", SAMPLERS, ids=IDS)
def test_sample_interface(sampler):
    counts = np.array([3, 0, 5, 1])
    emitters = sampler.sample(counts, np.random.default_rng(0), "low")
    assert isinstance(emitters, Emitters) and len(emitters) == 9
    assert np.array_equal(np.bincount(emitters.frame, minlength=4), counts)
    assert np.all(np.diff(emitters.frame) >= 0)
    assert _inside(emitters, sampler.field)
    assert np.all((emitters.photons >= 500) & (emitters.photons <= 1500))
    # empty input -> empty table; bad inputs -> clear errors
    assert len(sampler.sample(np.zeros(0, int), np.random.default_rng(0))) == 0
    assert len(sampler.sample(np.zeros(3, int), np.random.default_rng(0))) == 0
    with pytest.raises(ValueError, match="counts"):
        sampler.sample([-1], np.random.default_rng(0))
    with pytest.raises(TypeError, match="Generator"):
        sampler.sample([1], 0)


@pytest.mark.parametrize("sampler", SAMPLERS, ids=IDS)
def test_seeds_reproducible_and_distinct(sampler):
    a = sample_frames(sampler, 8, n_per_frame=6, seed=3)
    b = sample_frames(sampler, 8, n_per_frame=6, seed=3)
    c = sample_frames(sampler, 8, n_per_frame=6, seed=4)
    assert np.array_equal(a.xyz_nm(), b.xyz_nm()) and np.array_equal(a.photons, b.photons)
    assert not np.array_equal(a.xyz_nm(), c.xyz_nm())


def test_samplers_share_counts_and_photons_for_one_seed():
    """The sampler is the only difference between the CSR and structure arms of the study."""
    tables = [sample_frames(s, 20, density_per_um2=0.5, seed=11) for s in SAMPLERS]
    for table in tables[1:]:
        assert np.array_equal(table.frame, tables[0].frame)
        assert np.array_equal(table.photons, tables[0].photons)
        assert not np.allclose(table.x_nm, tables[0].x_nm)


def test_sample_frames_arguments():
    with pytest.raises(ValueError, match="exactly one"):
        sample_frames(CSRSampler(), 2)
    with pytest.raises(ValueError, match="exactly one"):
        sample_frames(CSRSampler(), 2, density_per_um2=1.0, n_per_frame=3)


def test_sampler_from_name():
    field = Field(width_px=32, height_px=16)
    assert isinstance(sampler_from_name("CSR", field), CSRSampler)
    helix = sampler_from_name("helix", field, n_helices=2)
    assert isinstance(helix, HelixSampler) and helix.n_helices == 2 and helix.field == field
    assert isinstance(sampler_from_name("mt0", field, kind="LD"), MT0Sampler)
    with pytest.raises(ValueError, match="unknown sampler"):
        sampler_from_name("grid")



# -- requests too large ---------------------------------------------------------------------------
@pytest.mark.parametrize("sampler", SAMPLERS, ids=IDS)
def test_every_sampler_refuses_requests_too_large(sampler, monkeypatch):
    with pytest.raises(ValueError, match="a frame asks for 100,001 emitters; at most 100,000 per frame"):
        sampler.sample([3, MAX_EMITTERS_PER_FRAME + 1], np.random.default_rng(0))
    with pytest.raises(ValueError, match="at most 100,000 per frame"):
        sample_frames(sampler, 3, density_per_um2=1e6)
    with pytest.raises(ValueError, match="at most 100,000 per frame"):
        sample_frames(sampler, 3, n_per_frame=10**9)
    # a total that does not fit in memory: refused before the slots are allocated
    monkeypatch.setattr(memory, "available_bytes", lambda: 50_000_000)
    with pytest.raises(MemoryBudgetError, match=r"sampling 1,000,000 emitters in 100 frames needs about "
                                                r"160\.0 MB of memory but 50\.0 MB is available"):
        sampler.sample(np.full(100, 10_000), np.random.default_rng(0))
    with pytest.raises(MemoryBudgetError, match="1,000,000,000 frames"):
        fixed_counts(10**9, 1)
    assert len(sampler.sample([2, 3], np.random.default_rng(0))) == 5  # small requests still run
