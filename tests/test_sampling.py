"""Tests of structloc.sampling: CSR, random helices and MT0 samplers, counts and photons."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from structloc.emitters import Emitters
from structloc.field import Field
from structloc import memory
from structloc.memory import MemoryBudgetError
from structloc.sampling import (
    MAX_EMITTERS_PER_FRAME, CSRSampler, HelixSampler, MT0Sampler, draw_photons, fixed_counts,
    mt0_positions_nm, poisson_counts, sample_frames, sampler_from_name, validate_counts,
)
from structloc.snr import SNR_PRESETS, SignalLevel

SAMPLERS = [CSRSampler(), HelixSampler(), MT0Sampler()]
IDS = ["csr", "helix", "mt0"]


def _inside(emitters: Emitters, field: Field) -> bool:
    xyz = emitters.xyz_nm()
    return bool(np.all((xyz >= [0, 0, field.z_min_nm]) & (xyz <= [field.width_nm, field.height_nm, field.z_max_nm])))


# -- counts and photons --------------------------------------------------------------------------
def test_poisson_counts_mean_and_variance():
    field = Field()
    counts = poisson_counts(4000, 0.5, field, np.random.default_rng(1))
    mean = 0.5 * field.area_um2  # 20.48
    assert counts.dtype == np.int64 and counts.shape == (4000,)
    assert abs(counts.mean() - mean) < 4 * np.sqrt(mean / 4000)
    # Var of the sample variance of a Poisson(mu) ~ (mu + 2 mu^2) / n
    assert abs(counts.var(ddof=1) - mean) < 4 * np.sqrt((mean + 2 * mean**2) / 4000)


def test_fixed_counts_and_validation():
    assert np.array_equal(fixed_counts(3, 7), [7, 7, 7])
    assert fixed_counts(0, 5).shape == (0,)
    assert np.array_equal(validate_counts(np.array([1.0, 2.0])), [1, 2])
    with pytest.raises(ValueError, match=">= 0"):
        validate_counts([1, -1])
    with pytest.raises(ValueError, match="whole"):
        validate_counts([1.5])
    with pytest.raises(ValueError, match="NaN"):
        validate_counts([np.nan])
    with pytest.raises(ValueError, match="1-D"):
        validate_counts(np.ones((2, 2), int))
    with pytest.raises(TypeError, match="integers"):
        validate_counts(np.array(["a"]))
    with pytest.raises(ValueError, match="n_frames"):
        fixed_counts(-1, 3)
    with pytest.raises(ValueError, match="density_per_um2"):
        poisson_counts(3, np.inf, Field(), np.random.default_rng(0))
    with pytest.raises(ValueError, match="density_per_um2"):
        poisson_counts(3, -1.0, Field(), np.random.default_rng(0))


def test_draw_photons_uniform_in_the_documented_interval():
    level = SNR_PRESETS["medium"]  # 5000 photons, spread 0.5
    photons = draw_photons(20000, "medium", np.random.default_rng(2))
    lo, hi = level.photons * (1 - level.photons_spread), level.photons * (1 + level.photons_spread)
    assert photons.min() >= lo and photons.max() <= hi
    assert stats.kstest(photons, stats.uniform(lo, hi - lo).cdf).pvalue > 1e-3
    exact = draw_photons(5, SignalLevel("x", photons=100.0, background=1.0, photons_spread=0.0),
                         np.random.default_rng(0))
    assert np.all(exact == 100.0)
    with pytest.raises(ValueError, match="unknown SNR"):
        draw_photons(3, "loud", np.random.default_rng(0))


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


# -- CSR -----------------------------------------------------------------------------------------
def test_csr_is_uniform_in_the_box():
    field = Field(width_px=40, height_px=20, z_min_nm=-300.0, z_max_nm=900.0)
    emitters = sample_frames(CSRSampler(field), 200, n_per_frame=25, seed=5)
    assert _inside(emitters, field)
    for values, lo, hi in ((emitters.x_nm, 0, field.width_nm), (emitters.y_nm, 0, field.height_nm),
                           (emitters.z_nm, field.z_min_nm, field.z_max_nm)):
        assert stats.kstest(values, stats.uniform(lo, hi - lo).cdf).pvalue > 1e-3
    # independence of x and y: correlation within 4 standard errors of 0
    assert abs(np.corrcoef(emitters.x_nm, emitters.y_nm)[0, 1]) < 4 / np.sqrt(len(emitters))


# -- helices -------------------------------------------------------------------------------------
def _distance_to_axis(xyz, helices, frame, helix):
    fh = frame * helices.n_helices + helix
    center = helices.center_nm.reshape(-1, 3)[fh]
    axis = helices.axis.reshape(-1, 3)[fh]
    rel = xyz - center
    return np.linalg.norm(rel - np.sum(rel * axis, axis=1)[:, None] * axis, axis=1)


def test_helix_emitters_lie_on_their_frames_helices():
    sampler = HelixSampler()
    emitters, helices = sampler.sample_with_helices(fixed_counts(50, 20), np.random.default_rng(6))
    xyz = emitters.xyz_nm()
    # every emitter is exactly one radius from the axis of one of its frame's helices
    residual = np.stack([
        np.abs(_distance_to_axis(xyz, helices, emitters.frame, np.full(len(emitters), h))
               - helices.radius_nm[emitters.frame, h])
        for h in range(sampler.n_helices)
    ])
    assert np.all(residual.min(axis=0) < 1e-6)
    assert _inside(emitters, sampler.field)
    # the drawn parameters respect their documented ranges
    assert np.all((helices.radius_nm >= 25) & (helices.radius_nm <= 150))
    assert np.all((helices.pitch_nm >= 200) & (helices.pitch_nm <= 1000))
    assert np.all(np.abs(np.rad2deg(helices.tilt_rad)) <= 10)


def test_helices_are_regenerated_every_frame():
    _, helices = HelixSampler().sample_with_helices(fixed_counts(30, 5), np.random.default_rng(7))
    radii = helices.radius_nm
    assert len(np.unique(radii)) == radii.size  # every frame has its own helices
    emitters = sample_frames(HelixSampler(), 2, n_per_frame=200, seed=0)
    a, b = emitters.in_frame(0).xyz_nm(), emitters.in_frame(1).xyz_nm()
    # frame 1's emitters are not on frame 0's structure: far from every frame-0 emitter
    nearest = np.min(np.linalg.norm(a[:, None] - b[None], axis=2), axis=0)
    assert np.median(nearest) > 20.0


def test_helix_structure_cloud():
    sampler = HelixSampler()
    points, labels = sampler.structure(np.random.default_rng(8), return_labels=True)
    assert points.shape[1] == 3 and points.shape[0] == labels.shape[0]
    assert points.shape[0] <= 3 * 5000
    assert set(np.unique(labels)) == {0, 1, 2}  # every helix keeps points in the field
    field = sampler.field
    assert np.all((points >= [0, 0, field.z_min_nm]) & (points <= [field.width_nm, field.height_nm, field.z_max_nm]))
    # consecutive points of a helix are close (a curve, not a cloud): spacing << field size
    first = points[labels == 0]
    assert np.median(np.linalg.norm(np.diff(first, axis=0), axis=1)) < 20.0


def test_helix_draws_without_replacement_up_to_exhaustion():
    sampler = HelixSampler(points_per_helix=40, n_helices=2)
    n_available = sampler.structure(np.random.default_rng(9)).shape[0]
    emitters = sampler.sample([n_available], np.random.default_rng(9))
    assert len(np.unique(emitters.xyz_nm(), axis=0)) == n_available
    with pytest.raises(ValueError, match="only"):
        sampler.sample([81], np.random.default_rng(0))


def test_helix_parameter_validation():
    with pytest.raises(ValueError, match="radius_nm"):
        HelixSampler(radius_nm=(50.0, 10.0))
    with pytest.raises(ValueError, match="half the axial range"):
        HelixSampler(radius_nm=(10.0, 800.0))
    with pytest.raises(ValueError, match="n_helices"):
        HelixSampler(n_helices=0)
    with pytest.raises(ValueError, match="max_tilt_deg"):
        HelixSampler(max_tilt_deg=np.nan)
    with pytest.raises(TypeError, match="pitch_nm"):
        HelixSampler(pitch_nm=3.0)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(0, 60), width_px=st.integers(4, 80),
       tilt=st.floats(0, 60))
def test_helix_property_inside_field_and_counts(seed, n, width_px, tilt):
    field = Field(width_px=width_px, height_px=32, z_min_nm=-400.0, z_max_nm=400.0)
    sampler = HelixSampler(field, radius_nm=(10.0, 100.0), max_tilt_deg=tilt)
    emitters = sampler.sample(fixed_counts(3, n), np.random.default_rng(seed))
    assert len(emitters) == 3 * n and _inside(emitters, field)


# -- MT0 -----------------------------------------------------------------------------------------
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


def test_frame_points_are_the_structure_the_emitters_came_from():
    sampler = HelixSampler(Field())
    emitters, helices = sampler.sample_with_helices(np.array([40]), np.random.default_rng(3))
    structure = sampler.frame_points_nm(helices, 0)
    gap = np.linalg.norm(emitters.xyz_nm()[:, None] - structure[None], axis=-1).min(axis=1)
    assert gap.max() < 1e-6
    other = sampler.structure(np.random.default_rng(3))  # a fresh rng draws other helices
    assert np.linalg.norm(emitters.xyz_nm()[:, None] - other[None], axis=-1).min(axis=1).max() > 1.0


# -- requests too large ---------------------------------------------------------------------------
@pytest.mark.parametrize("density", [1e6, 1e9])
def test_densities_beyond_the_per_frame_limit_are_refused_before_drawing(density):
    with pytest.raises(ValueError, match=r"density .* emitters/um\^2 means [\d,]+ emitters per frame on "
                                         r"average \(a 6.4 x 6.4 um field\); at most 100,000 per frame"):
        poisson_counts(10, density, Field(), np.random.default_rng(0))
    assert poisson_counts(2, MAX_EMITTERS_PER_FRAME / Field().area_um2 / 2, Field(),
                          np.random.default_rng(0)).max() < MAX_EMITTERS_PER_FRAME


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
