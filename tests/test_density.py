"""Tests of structloc.density: nearest neighbours, Ripley K/L and nominal density."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from structloc.density import (
    mean_nn_distance_nm, mean_nn_distance_per_frame, nearest_neighbor_distances,
    nn_calibration_curve, nominal_curve, nominal_density, nominal_density_per_frame, ripley_k,
    ripley_k_frames, ripley_l, ripley_l_frames, mt0_count_density_for_nominal, mt0_nominal_curve,
)
from structloc.emitters import Emitters
from structloc.field import Field
from structloc.sampling import CSRSampler, HelixSampler, MT0Sampler, sample_frames

FIELD = Field()


def _table(frame, xyz) -> Emitters:
    xyz = np.asarray(xyz, dtype=float).reshape(-1, 3)
    return Emitters(frame, xyz[:, 0], xyz[:, 1], xyz[:, 2], np.ones(len(xyz)))


# -- nearest neighbours --------------------------------------------------------------------------
def test_nn_on_a_grid_known_answer():
    gx, gy, gz = np.meshgrid(np.arange(5) * 100.0, np.arange(4) * 100.0, np.arange(3) * 40.0)
    xyz = np.column_stack([gx.ravel(), gy.ravel(), gz.ravel()])
    table = _table(np.zeros(len(xyz), int), xyz)
    # laterally, points stacked in z coincide -> 2D NN distance 0; in 3D it is the z step
    assert np.allclose(nearest_neighbor_distances(table, dims=2), 0.0)
    assert np.allclose(nearest_neighbor_distances(table, dims=3), 40.0)
    flat = table.take(xyz[:, 2] == 0)
    assert np.allclose(nearest_neighbor_distances(flat, dims=2), 100.0)
    assert mean_nn_distance_nm(flat) == pytest.approx(100.0)


def test_nn_is_per_frame_and_nan_for_lonely_emitters():
    # frame 0: two points 30 nm apart; frame 1: one point next to frame 0's; frame 3: 50 nm pair
    table = _table([0, 0, 1, 3, 3], [[10, 10, 0], [40, 10, 0], [11, 10, 0], [500, 500, 0], [500, 550, 0]])
    nn = nearest_neighbor_distances(table)
    assert np.allclose(nn[[0, 1, 3, 4]], [30, 30, 50, 50]) and np.isnan(nn[2])
    frames, mean_nn = mean_nn_distance_per_frame(table)
    assert np.array_equal(frames, [0, 3]) and np.allclose(mean_nn, [30, 50])
    assert mean_nn_distance_nm(table) == pytest.approx(40.0)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(2, 40), n_frames=st.integers(1, 4))
def test_nn_matches_brute_force(seed, n, n_frames):
    rng = np.random.default_rng(seed)
    frame = rng.integers(0, n_frames, n)
    xyz = rng.uniform([0, 0, -500], [6400, 6400, 500], (n, 3))
    table = _table(frame, xyz)
    for dims in (2, 3):
        d = np.linalg.norm(xyz[:, None, :dims] - xyz[None, :, :dims], axis=2)
        d[(frame[:, None] != frame[None]) | np.eye(n, dtype=bool)] = np.inf
        expected = d.min(axis=1)
        expected[~np.isfinite(expected)] = np.nan
        assert np.allclose(nearest_neighbor_distances(table, dims), expected, equal_nan=True)


def test_nn_empty_and_bad_inputs():
    assert nearest_neighbor_distances(Emitters.empty()).shape == (0,)
    assert np.isnan(mean_nn_distance_nm(Emitters.empty()))
    assert np.isnan(mean_nn_distance_nm(_table([0], [[1, 1, 1]])))
    with pytest.raises(ValueError, match="dims"):
        nearest_neighbor_distances(Emitters.empty(), dims=4)
    with pytest.raises(TypeError, match="Emitters"):
        nearest_neighbor_distances(np.zeros((3, 3)))


# -- Ripley --------------------------------------------------------------------------------------
def test_ripley_known_answers():
    area = FIELD.width_nm * FIELD.height_nm
    # a pair far from the edges: K jumps from 0 to A at their distance
    pair = np.array([[3000.0, 3000.0], [3100.0, 3000.0]])
    assert np.allclose(ripley_k(pair, [50, 99.9, 100, 500]), [0, 0, area, area])
    # one point on the left edge: half its circle of radius 100 nm lies outside -> weight 2;
    # the other point's circle just touches the edge -> weight 1. K = A (2 + 1) / 2.
    edge = np.array([[0.0, 3000.0], [100.0, 3000.0]])
    assert ripley_k(edge, [100.0])[0] == pytest.approx(1.5 * area)
    assert ripley_k(edge, [100.0], edge_correction="none")[0] == pytest.approx(area)
    # a point in a corner sees a quarter of its circle -> weight 4; the circle about (60, 80)
    # loses 2 acos(0.6) + 2 acos(0.8) = pi to the two edges (no overlap) -> weight 2
    corner = np.array([[0.0, 0.0], [60.0, 80.0]])
    assert ripley_k(corner, [100.0])[0] == pytest.approx((4 + 2) / 2 * area)
    # border: the corner point is no centre at r = 100; the other one is (border 60 < 100: no)
    assert np.isnan(ripley_k(corner, [100.0], edge_correction="border")[0])
    assert np.allclose(ripley_l(pair, [200.0]), np.sqrt(area / np.pi))


@pytest.mark.parametrize("edge_correction", ["ripley", "border"])
def test_ripley_l_is_r_for_csr(edge_correction):
    """L(r) = r under CSR; tolerance: 4 standard errors estimated from independent batches."""
    radii = np.array([100.0, 300.0, 600.0, 1000.0, 1500.0])
    batches = np.array([
        ripley_l_frames(sample_frames(CSRSampler(), 20, n_per_frame=150, seed=seed), radii,
                        edge_correction=edge_correction)
        for seed in range(8)
    ])
    mean, se = batches.mean(axis=0), batches.std(axis=0, ddof=1) / np.sqrt(len(batches))
    assert np.all(np.abs(mean - radii) < 4 * se + 1e-3 * radii)
    assert np.all(se < 0.02 * radii)  # the test has power


def test_ripley_without_edge_correction_is_biased_low():
    radii = np.array([500.0, 1500.0])
    emitters = sample_frames(CSRSampler(), 40, n_per_frame=150, seed=1)
    plain = ripley_l_frames(emitters, radii, edge_correction="none")
    corrected = ripley_l_frames(emitters, radii)
    assert np.all(plain < corrected) and plain[1] < 0.93 * radii[1]


def test_ripley_pooled_over_frames_equals_single_set_for_one_frame():
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 6400, (300, 2))
    table = _table(np.zeros(300, int), np.column_stack([xy, np.zeros(300)]))
    radii = np.linspace(0, 1200, 7)
    for ec in ("ripley", "border", "none"):
        assert np.allclose(ripley_k_frames(table, radii, edge_correction=ec),
                           ripley_k(xy, radii, edge_correction=ec), equal_nan=True)


def test_ripley_structured_points_are_clustered():
    radii = np.array([200.0, 500.0])
    helix = sample_frames(HelixSampler(), 20, n_per_frame=100, seed=2)
    assert np.all(ripley_l_frames(helix, radii) > 1.5 * radii)


def test_ripley_empty_and_bad_inputs():
    assert np.all(np.isnan(ripley_k(np.zeros((0, 2)), [10.0, 20.0])))
    assert np.all(np.isnan(ripley_k(np.ones((1, 2)), [10.0])))
    assert ripley_k(np.ones((5, 2)), []).shape == (0,)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        ripley_k(np.zeros((3, 3)), [1.0])
    with pytest.raises(ValueError, match="NaN"):
        ripley_k(np.array([[np.nan, 1.0]]), [1.0])
    with pytest.raises(ValueError, match="radii_nm"):
        ripley_k(np.ones((3, 2)), [-1.0])
    with pytest.raises(ValueError, match="outside the field"):
        ripley_k(np.array([[-5.0, 1.0], [1.0, 1.0]]), [1.0])
    with pytest.raises(ValueError, match="edge_correction"):
        ripley_k(np.ones((3, 2)), [1.0], edge_correction="toroidal")


# -- nominal density -----------------------------------------------------------------------------
def test_calibration_curve_matches_donnelly():
    """CSR mean NN distance in a rectangle (Donnelly 1978): 0.5 sqrt(A/n) + (0.0514 + 0.041/sqrt(n)) P/n."""
    densities, mean_nn = nn_calibration_curve(FIELD, 2)
    assert np.all(np.diff(densities) > 0) and np.all(np.diff(mean_nn) <= 0)
    n = densities * FIELD.area_um2
    area, perimeter = FIELD.width_nm * FIELD.height_nm, 2 * (FIELD.width_nm + FIELD.height_nm)
    donnelly = 0.5 * np.sqrt(area / n) + (0.0514 + 0.041 / np.sqrt(n)) * perimeter / n
    many = n >= 40  # Donnelly's approximation holds for tens of points or more
    assert np.all(np.abs(mean_nn[many] / donnelly[many] - 1) < 0.025)
    with pytest.raises(TypeError, match="Field"):
        nn_calibration_curve("field")


def test_calibration_3d_lies_above_2d():
    d2, m2 = nn_calibration_curve(FIELD, 2)
    d3, m3 = nn_calibration_curve(FIELD, 3)
    assert np.array_equal(d2, d3) and np.all(m3 >= m2)


@pytest.mark.parametrize("density, n_frames", [(0.5, 1000), (2.0, 250), (10.0, 50)])
def test_nominal_density_of_csr_is_its_true_density(density, n_frames):
    # ~20,000 emitters: the mean NN distance has a ~0.4 % standard error, density ~0.8 %
    poisson = sample_frames(CSRSampler(), n_frames, density_per_um2=density, seed=7)
    assert nominal_density(poisson) == pytest.approx(density, rel=0.04)
    fixed = sample_frames(CSRSampler(), n_frames, n_per_frame=round(density * FIELD.area_um2), seed=8)
    assert nominal_density(fixed) == pytest.approx(round(density * FIELD.area_um2) / FIELD.area_um2, rel=0.04)


def test_structured_frames_look_denser_than_their_count():
    count_density = 0.5
    for sampler in (HelixSampler(), MT0Sampler()):
        emitters = sample_frames(sampler, 100, density_per_um2=count_density, seed=9)
        assert nominal_density(emitters) > 1.5 * count_density


def test_nominal_density_per_frame_and_averages():
    emitters = sample_frames(CSRSampler(), 300, n_per_frame=40, seed=10)
    frames, per_frame = nominal_density_per_frame(emitters)
    assert np.array_equal(frames, np.arange(300)) and np.all(per_frame > 0)
    true = 40 / FIELD.area_um2
    # the mean of per-frame values is biased up (convex map); mapping the mean distance is not
    assert nominal_density(emitters, average="density") == pytest.approx(per_frame.mean())
    assert nominal_density(emitters, average="density") > nominal_density(emitters, average="distance")
    assert nominal_density(emitters) == pytest.approx(true, rel=0.04)


def test_nominal_density_in_3d_of_csr():
    emitters = sample_frames(CSRSampler(), 100, density_per_um2=5.0, seed=12)
    assert nominal_density(emitters, dims=3) == pytest.approx(5.0, rel=0.05)


def test_nominal_density_out_of_range_warns_and_clips():
    table = _table([0, 0], [[100, 100, 0], [100.5, 100, 0]])
    with pytest.warns(RuntimeWarning, match="outside the calibrated range") as record:
        _, per_frame = nominal_density_per_frame(table)
    assert record[0].filename == __file__
    assert per_frame[0] == pytest.approx(nn_calibration_curve(FIELD)[0][-1])
    with pytest.warns(RuntimeWarning, match="outside the calibrated range") as record:
        nominal_density(table)
    assert record[0].filename == __file__  # the warning points at the caller


def test_nominal_density_empty_and_bad_inputs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(nominal_density(Emitters.empty()))
        assert np.isnan(nominal_density(_table([0, 1], [[1, 1, 0], [2, 2, 0]])))
    frames, values = nominal_density_per_frame(Emitters.empty())
    assert frames.size == 0 and values.size == 0
    with pytest.raises(ValueError, match="average"):
        nominal_density(Emitters.empty(), average="median")
    with pytest.raises(ValueError, match="dims"):
        nominal_density(Emitters.empty(), dims=1)
    with pytest.raises(ValueError, match="n_frames"):
        nominal_density(_table([0, 4], [[1, 1, 0], [2, 2, 0]]), n_frames=3)


def test_nominal_density_counts_empty_trailing_frames():
    emitters = sample_frames(CSRSampler(), 100, n_per_frame=40, seed=13)
    assert nominal_density(emitters, n_frames=200) == pytest.approx(nominal_density(emitters) / 2)


# -- nominal density as a function of count density ----------------------------------------
def test_nominal_curve_of_csr_gives_back_the_count_density():
    counts = [1.0, 2.0, 4.0]
    nominal = nominal_curve(CSRSampler(), counts, n_frames=200, seed=21)
    assert nominal.shape == (3,) and nominal.dtype == np.float64
    assert nominal == pytest.approx(counts, rel=0.05)


def test_nominal_curve_is_seeded_and_density_i_uses_seed_plus_i():
    sampler = HelixSampler()
    first = nominal_curve(sampler, [0.5, 1.0], n_frames=20, seed=5)
    assert np.array_equal(first, nominal_curve(sampler, [0.5, 1.0], n_frames=20, seed=5))
    assert not np.array_equal(first, nominal_curve(sampler, [0.5, 1.0], n_frames=20, seed=6))
    alone = nominal_density(sample_frames(sampler, 20, density_per_um2=1.0, seed=6), n_frames=20)
    assert first[1] == alone
    assert np.all(first > [0.5, 1.0])  # structured frames look denser than their count


def test_nominal_curve_empty_and_bad_inputs():
    assert nominal_curve(CSRSampler(), [], n_frames=10, seed=0).shape == (0,)
    for bad in ([1.0, 0.0], [np.nan], [[1.0]], ["many"], -1.0):
        with pytest.raises(ValueError, match="count_densities_per_um2") as info:
            nominal_curve(CSRSampler(), bad, n_frames=10, seed=0)
        assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match="n_frames"):
        nominal_curve(CSRSampler(), [1.0], n_frames=0, seed=0)
    with pytest.raises(ValueError, match="seed"):
        nominal_curve(CSRSampler(), [1.0], n_frames=10, seed=-1)
    with pytest.raises(TypeError, match="sampler"):
        nominal_curve(FIELD, [1.0], n_frames=10, seed=0)


# -- count density <-> nominal density of MT0 frames -----------------------------------------
MT0_FIELD = Field()


def test_nominal_curve_is_monotone_and_structured_frames_look_denser():
    counts, nominal = mt0_nominal_curve()
    assert np.all(np.diff(counts) > 0) and np.all(np.diff(nominal) >= 0)
    # microtubule positions crowd together: above ~0.3 /um^2 they look denser than their count
    assert np.all(nominal[counts > 0.3] > counts[counts > 0.3])


def test_mt0_curve_is_the_monotone_nominal_curve_of_mt0_frames():
    counts, nominal = mt0_nominal_curve(n_frames=20, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        raw = nominal_curve(MT0Sampler(MT0_FIELD), counts, n_frames=20, seed=3)
    assert np.array_equal(nominal, np.maximum.accumulate(raw))


@pytest.mark.parametrize("target", [0.38, 2.2, 13.0])
def test_count_density_inversion_hits_the_target_nominal_density(target):
    count = mt0_count_density_for_nominal(target)[0]
    emitters = sample_frames(MT0Sampler(MT0_FIELD), 300, density_per_um2=count, seed=4242)  # not the calibration seed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        measured = nominal_density(emitters, MT0_FIELD, n_frames=300)
    # measured scatter at 200 frames is <= 4 % (sd); the calibration grid adds a few %
    assert measured == pytest.approx(target, rel=0.12)

@pytest.mark.parametrize("bad", [np.nan, np.inf, -1.0, 0.0])
def test_inversion_rejects_bad_targets(bad):
    with pytest.raises(ValueError, match="finite and > 0"):
        mt0_count_density_for_nominal(bad)

def test_inversion_rejects_targets_outside_the_calibration():
    with pytest.raises(ValueError, match="outside the calibrated range"):
        mt0_count_density_for_nominal([1.0, 1e4])
