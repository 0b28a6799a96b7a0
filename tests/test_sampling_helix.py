"""Tests of structloc.sampling.helix: random helices regenerated every frame."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from structloc.emitters import Emitters
from structloc.field import Field
from structloc.sampling import HelixSampler, fixed_counts, sample_frames


def _inside(emitters: Emitters, field: Field) -> bool:
    xyz = emitters.xyz_nm()
    return bool(np.all((xyz >= [0, 0, field.z_min_nm]) & (xyz <= [field.width_nm, field.height_nm, field.z_max_nm])))



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



def test_frame_points_are_the_structure_the_emitters_came_from():
    sampler = HelixSampler(Field())
    emitters, helices = sampler.sample_with_helices(np.array([40]), np.random.default_rng(3))
    structure = sampler.frame_points_nm(helices, 0)
    gap = np.linalg.norm(emitters.xyz_nm()[:, None] - structure[None], axis=-1).min(axis=1)
    assert gap.max() < 1e-6
    other = sampler.structure(np.random.default_rng(3))  # a fresh rng draws other helices
    assert np.linalg.norm(emitters.xyz_nm()[:, None] - other[None], axis=-1).min(axis=1).max() > 1.0
