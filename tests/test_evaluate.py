"""Tests of structloc.evaluate: matching, Jaccard, RMSE, efficiency, sweeps and bootstrap."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from structloc.emitters import Emitters
from structloc.evaluate import (
    Metrics,
    axial_profile,
    bootstrap_ci,
    density_sweep,
    efficiency,
    evaluate,
    evaluate_per_frame,
    frame_statistics,
    match,
    paired_difference,
)
from structloc.field import Field
from structloc.sampling import MT0Sampler, sample_frames

METRIC_KEYS = ["tp", "fp", "fn", "precision", "recall", "jaccard", "rmse_lat_nm", "rmse_ax_nm",
               "rmse_vol_nm", "efficiency_lat", "efficiency_ax", "efficiency_3d"]


def table(rows, score=False) -> Emitters:
    """Emitters from (frame, x, y, z) rows; 1000 photons each."""
    rows = np.asarray(rows, dtype=float).reshape(-1, 4)
    n = len(rows)
    return Emitters(rows[:, 0].astype(int), rows[:, 1], rows[:, 2], rows[:, 3], np.full(n, 1000.0),
                    np.ones(n) if score else None)


def random_table(rng, n, n_frames=5, size_nm=2000.0) -> Emitters:
    return Emitters(rng.integers(0, n_frames, n), rng.uniform(0, size_nm, n), rng.uniform(0, size_nm, n),
                    rng.uniform(-600, 600, n), rng.uniform(0, 5000, n))


def greedy_reference(truth: Emitters, pred: Emitters, lat=250.0, ax=500.0):
    """The challenge's greedy matching written as the plain sequential loop it describes."""
    pairs = []
    for i in range(len(truth)):
        for j in range(len(pred)):
            if truth.frame[i] != pred.frame[j]:
                continue
            dx, dy = truth.x_nm[i] - pred.x_nm[j], truth.y_nm[i] - pred.y_nm[j]
            dz = truth.z_nm[i] - pred.z_nm[j]
            if math.hypot(dx, dy) <= lat and abs(dz) <= ax:
                pairs.append((math.sqrt(dx * dx + dy * dy + dz * dz), i, j))
    used_t, used_p, out = set(), set(), []
    for _, i, j in sorted(pairs):
        if i not in used_t and j not in used_p:
            used_t.add(i)
            used_p.add(j)
            out.append((i, j))
    return sorted(out)


# -- efficiency -------------------------------------------------------------------------------
def test_efficiency_known_answer_from_the_challenge():
    # JI as a fraction, RMSE in nm, alpha 0.01 /nm: 1 - sqrt(0.08796^2 + 0.32077^2) = 0.66739
    assert efficiency(0.91204, 32.077, 0.01) == pytest.approx(0.66739, abs=5e-6)


def test_efficiency_perfect_and_vectorised():
    assert efficiency(1.0, 0.0, 0.01) == 1.0
    out = efficiency(np.array([1.0, 0.0]), np.array([0.0, 0.0]), 0.005)
    np.testing.assert_allclose(out, [1.0, 0.0])


@pytest.mark.parametrize("ji, rmse", [(91.204, 32.0), (-0.1, 10.0), (0.5, -1.0)])
def test_efficiency_rejects_percent_and_negative(ji, rmse):
    with pytest.raises(ValueError):
        efficiency(ji, rmse, 0.01)


# -- matching: hand-computed example and edges --------------------------------------------------
def test_hand_computed_example():
    truth = table([[0, 0, 0, 0], [0, 1000, 0, 0], [1, 3000, 3000, 0]])
    pred = table([[0, 100, 0, 0],          # 100 nm from truth 0
                  [0, 1000, 200, 300],     # lateral 200, axial 300 from truth 1
                  [0, 5000, 5000, 0]])     # nothing near: FP   (truth 2 in frame 1: FN)
    m = match(truth, pred)
    assert (m.tp, m.fp, m.fn) == (2, 1, 1)
    np.testing.assert_array_equal(m.truth_index, [0, 1])
    np.testing.assert_array_equal(m.pred_index, [0, 1])
    r = evaluate(truth, pred)
    assert r.jaccard == pytest.approx(2 / 4)
    assert r.precision == pytest.approx(2 / 3)
    assert r.recall == pytest.approx(2 / 3)
    assert r.rmse_lat_nm == pytest.approx(math.sqrt((100**2 + 200**2) / 2))
    assert r.rmse_ax_nm == pytest.approx(math.sqrt(300**2 / 2))
    assert r.rmse_vol_nm == pytest.approx(math.sqrt((100**2 + 200**2 + 300**2) / 2))
    e_lat = 1 - math.sqrt(0.5**2 + (0.01 * r.rmse_lat_nm) ** 2)
    e_ax = 1 - math.sqrt(0.5**2 + (0.005 * r.rmse_ax_nm) ** 2)
    assert r.efficiency_lat == pytest.approx(e_lat)
    assert r.efficiency_ax == pytest.approx(e_ax)
    assert r.efficiency_3d == pytest.approx((e_lat + e_ax) / 2)


@pytest.mark.parametrize("dx, dy, dz, matched", [
    (250.0, 0.0, 0.0, True),            # lateral exactly at the tolerance (inclusive)
    (150.0, 200.0, 0.0, True),          # hypot = 250 exactly
    (250.001, 0.0, 0.0, False),
    (176.0, 177.0, 0.0, True),          # diagonal, hypot = 249.6
    (177.0, 177.0, 0.0, False),         # diagonal, hypot = 250.3 (each axis alone is inside)
    (0.0, 0.0, 500.0, True),            # axial exactly at the tolerance
    (0.0, 0.0, -500.001, False),
    (249.0, 0.0, 499.0, True),          # both just inside: 3D distance 557 nm is fine
])
def test_tolerance_edges(dx, dy, dz, matched):
    truth = table([[0, 1000, 1000, 0]])
    pred = table([[0, 1000 + dx, 1000 + dy, dz]])
    assert match(truth, pred).tp == int(matched)


def test_custom_tolerances():
    truth = table([[0, 0, 0, 0]])
    pred = table([[0, 120, 0, 80]])
    assert match(truth, pred, lateral_tol_nm=100).tp == 0
    assert match(truth, pred, axial_tol_nm=50).tp == 0
    assert match(truth, pred, lateral_tol_nm=120, axial_tol_nm=80).tp == 1


def test_only_same_frame_matches():
    truth = table([[0, 500, 500, 0], [3, 500, 500, 0]])
    pred = table([[1, 500, 500, 0], [2, 500, 500, 0], [3, 510, 500, 0]])
    m = match(truth, pred)
    assert (m.tp, m.fp, m.fn) == (1, 2, 1)
    assert (m.truth_index.tolist(), m.pred_index.tolist()) == ([1], [2])


def test_ties_are_broken_by_lower_index():
    truth = table([[0, 1000, 1000, 0]])
    pred = table([[0, 1100, 1000, 0], [0, 900, 1000, 0]])  # both 100 nm away
    assert match(truth, pred).pred_index.tolist() == [0]
    truth2 = table([[0, 1100, 1000, 0], [0, 900, 1000, 0]])
    pred2 = table([[0, 1000, 1000, 0]])
    assert match(truth2, pred2).truth_index.tolist() == [0]
    for method in ("greedy", "hungarian"):
        assert match(truth, pred, method=method).tp == 1


def test_greedy_and_hungarian_differ():
    # Greedy takes the closest pair T0-P0 (190 nm) and strands both T1 and P1;
    # Hungarian pairs T0-P1 (240 nm) and T1-P0 (210 nm): two matches.
    truth = table([[0, 1000, 0, 0], [0, 1400, 0, 0]])
    pred = table([[0, 1190, 0, 0], [0, 760, 0, 0]])
    g = match(truth, pred, method="greedy")
    h = match(truth, pred, method="hungarian")
    assert (g.tp, g.fp, g.fn) == (1, 1, 1)
    assert (g.truth_index.tolist(), g.pred_index.tolist()) == ([0], [0])
    assert (h.tp, h.fp, h.fn) == (2, 0, 0)
    assert (h.truth_index.tolist(), h.pred_index.tolist()) == ([0, 1], [1, 0])


def test_greedy_equals_sequential_reference_at_high_density():
    rng = np.random.default_rng(7)
    truth = random_table(rng, 300, n_frames=4, size_nm=1500)
    pred = random_table(rng, 280, n_frames=4, size_nm=1500)
    m = match(truth, pred)
    assert m.tp > 100  # plenty of competing pairs
    assert list(zip(m.truth_index.tolist(), m.pred_index.tolist())) == greedy_reference(truth, pred)


def test_greedy_on_a_long_chain_of_competing_pairs():
    # t0 p0 t1 p1 ... on a line with shrinking gaps: every pair competes with the next one,
    # so the vectorised rounds take one pair each and the sequential finish must take over.
    gaps = 200.0 * 0.999 ** np.arange(299)
    x = np.concatenate([[0.0], np.cumsum(gaps)])
    truth = table(np.column_stack([np.zeros(150), x[0::2], np.zeros(150), np.zeros(150)]))
    pred = table(np.column_stack([np.zeros(150), x[1::2], np.zeros(150), np.zeros(150)]))
    m = match(truth, pred)
    assert list(zip(m.truth_index.tolist(), m.pred_index.tolist())) == greedy_reference(truth, pred)
    assert m.tp == 150  # shrinking gaps: the chain is eaten from the end, one pair per round


def test_hungarian_minimises_total_distance_at_max_cardinality():
    rng = np.random.default_rng(3)
    truth = random_table(rng, 6, n_frames=1, size_nm=400)
    pred = random_table(rng, 6, n_frames=1, size_nm=400)
    m = match(truth, pred, method="hungarian")
    # brute force over all permutations
    from itertools import permutations

    def cost(perm):
        dx = truth.x_nm - pred.x_nm[list(perm)]
        dy = truth.y_nm - pred.y_nm[list(perm)]
        dz = truth.z_nm - pred.z_nm[list(perm)]
        ok = (np.hypot(dx, dy) <= 250) & (np.abs(dz) <= 500)
        return -int(ok.sum()), float(np.sqrt(dx**2 + dy**2 + dz**2)[ok].sum())

    best = min(cost(p) for p in permutations(range(6)))
    d = np.sqrt((truth.x_nm[m.truth_index] - pred.x_nm[m.pred_index]) ** 2
                + (truth.y_nm[m.truth_index] - pred.y_nm[m.pred_index]) ** 2
                + (truth.z_nm[m.truth_index] - pred.z_nm[m.pred_index]) ** 2).sum()
    assert -m.tp == best[0]
    assert d == pytest.approx(best[1])


def test_hungarian_equals_dense_per_frame_assignment():
    from scipy.optimize import linear_sum_assignment

    rng = np.random.default_rng(21)
    truth = random_table(rng, 240, n_frames=6, size_nm=1500)
    pred = random_table(rng, 220, n_frames=6, size_nm=1500)
    m = match(truth, pred, method="hungarian")
    want_tp, want_dist = 0, 0.0
    for f in range(6):
        t, p = truth.in_frame(f), pred.in_frame(f)
        dx = t.x_nm[:, None] - p.x_nm[None]
        dy = t.y_nm[:, None] - p.y_nm[None]
        dz = t.z_nm[:, None] - p.z_nm[None]
        ok = (np.hypot(dx, dy) <= 250) & (np.abs(dz) <= 500)
        d = np.sqrt(dx**2 + dy**2 + dz**2)
        r, c = linear_sum_assignment(np.where(ok, d, 1e9))
        want_tp += int(ok[r, c].sum())
        want_dist += float(d[r, c][ok[r, c]].sum())
    got = np.sqrt((truth.x_nm[m.truth_index] - pred.x_nm[m.pred_index]) ** 2
                  + (truth.y_nm[m.truth_index] - pred.y_nm[m.pred_index]) ** 2
                  + (truth.z_nm[m.truth_index] - pred.z_nm[m.pred_index]) ** 2).sum()
    assert m.tp == want_tp > 100
    assert got == pytest.approx(want_dist, rel=1e-9)
    assert m.tp >= match(truth, pred).tp


# -- empty inputs and bad input ----------------------------------------------------------------
def test_both_empty_is_perfect_and_rmse_nan():
    r = evaluate(Emitters.empty(), Emitters.empty(with_score=True))
    assert (r.tp, r.fp, r.fn) == (0, 0, 0)
    assert r.jaccard == 1.0 and r.precision == 1.0 and r.recall == 1.0
    assert math.isnan(r.rmse_lat_nm) and math.isnan(r.rmse_ax_nm) and math.isnan(r.rmse_vol_nm)
    assert r.efficiency_lat == 1.0 and r.efficiency_3d == 1.0


def test_no_predictions_and_no_truth():
    truth = table([[0, 0, 0, 0], [2, 0, 0, 0]])
    r = evaluate(truth, Emitters.empty())
    assert (r.tp, r.fp, r.fn, r.jaccard, r.recall, r.precision) == (0, 0, 2, 0.0, 0.0, 1.0)
    assert r.efficiency_3d == 0.0 and math.isnan(r.rmse_lat_nm)
    r = evaluate(Emitters.empty(), truth)
    assert (r.tp, r.fp, r.fn, r.jaccard, r.recall, r.precision) == (0, 2, 0, 0.0, 1.0, 0.0)


def test_bad_input_raises():
    t = table([[0, 0, 0, 0]])
    with pytest.raises(ValueError, match="method"):
        match(t, t, method="nearest")
    with pytest.raises(ValueError, match="lateral_tol_nm"):
        match(t, t, lateral_tol_nm=-1)
    with pytest.raises(ValueError, match="axial_tol_nm"):
        match(t, t, axial_tol_nm=float("nan"))
    with pytest.raises(TypeError, match="pred"):
        match(t, np.zeros((1, 4)))


# -- properties ---------------------------------------------------------------------------------
small_rows = st.lists(
    st.tuples(st.integers(0, 2), st.floats(0, 800), st.floats(0, 800), st.floats(-700, 700)),
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(small_rows, small_rows, st.sampled_from(["greedy", "hungarian"]))
def test_metric_ranges(truth_rows, pred_rows, method):
    truth, pred = table(truth_rows), table(pred_rows)
    m = match(truth, pred, method=method)
    assert m.tp <= min(len(truth), len(pred))
    assert m.tp + m.fp == len(pred) and m.tp + m.fn == len(truth)
    assert len(set(m.truth_index.tolist())) == m.tp and len(set(m.pred_index.tolist())) == m.tp
    r = evaluate(truth, pred, method=method)
    assert 0.0 <= r.jaccard <= 1.0 and 0.0 <= r.precision <= 1.0 and 0.0 <= r.recall <= 1.0
    assert r.efficiency_lat <= 1.0 and r.efficiency_ax <= 1.0
    if r.tp:
        assert r.rmse_lat_nm <= 250.0 + 1e-9 and r.rmse_ax_nm <= 500.0 + 1e-9
    assert match(truth, pred, method="hungarian").tp >= match(truth, pred, method="greedy").tp


@settings(max_examples=30, deadline=None)
@given(small_rows, small_rows, st.randoms(use_true_random=False))
def test_hungarian_is_invariant_to_prediction_order(truth_rows, pred_rows, rnd):
    truth, pred = table(truth_rows), table(pred_rows)
    perm = np.array(rnd.sample(range(len(pred)), len(pred)), dtype=int)
    a = match(truth, pred, method="hungarian")
    b = match(truth, pred.take(perm), method="hungarian")
    assert (a.tp, a.fp, a.fn) == (b.tp, b.fp, b.fn)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 60), st.integers(0, 60))
def test_greedy_is_invariant_to_prediction_order(seed, n_truth, n_pred):
    rng = np.random.default_rng(seed)  # continuous positions: no distance ties
    truth, pred = random_table(rng, n_truth, 3, 1200), random_table(rng, n_pred, 3, 1200)
    perm = rng.permutation(n_pred)
    a = evaluate(truth, pred)
    b = evaluate(truth, pred.take(perm))
    assert (a.tp, a.fp, a.fn) == (b.tp, b.fp, b.fn)
    np.testing.assert_allclose([a.rmse_lat_nm, a.rmse_ax_nm], [b.rmse_lat_nm, b.rmse_ax_nm], equal_nan=True)
    m_a, m_b = match(truth, pred), match(truth, pred.take(perm))
    np.testing.assert_array_equal(m_a.truth_index, m_b.truth_index)
    np.testing.assert_array_equal(m_a.pred_index, perm[m_b.pred_index])


# -- RMSE physics, per-frame statistics, sweeps, bootstrap ----------------------------------------
def jittered(truth: Emitters, rng, sigma_lat=20.0, sigma_ax=40.0) -> Emitters:
    n = len(truth)
    return Emitters(truth.frame, truth.x_nm + rng.normal(0, sigma_lat, n),
                    truth.y_nm + rng.normal(0, sigma_lat, n), truth.z_nm + rng.normal(0, sigma_ax, n),
                    truth.photons, np.ones(n))


def test_rmse_recovers_gaussian_error():
    rng = np.random.default_rng(11)
    truth = random_table(rng, 4000, n_frames=200, size_nm=6400)
    r = evaluate(truth, jittered(truth, rng))
    n = r.tp
    assert n > 3900
    # RMSE_lat^2 estimates 2 sigma^2 with relative SE sqrt(1/n); 5 SE tolerance
    assert r.rmse_lat_nm == pytest.approx(20 * math.sqrt(2), rel=5 * math.sqrt(1 / n) / 2)
    assert r.rmse_ax_nm == pytest.approx(40, rel=5 * math.sqrt(2 / n) / 2)
    assert r.rmse_vol_nm ** 2 == pytest.approx(r.rmse_lat_nm ** 2 + r.rmse_ax_nm ** 2)


def test_frame_statistics_sum_to_evaluate():
    rng = np.random.default_rng(5)
    truth = random_table(rng, 500, n_frames=40, size_nm=3000)
    pred = Emitters.concat([jittered(truth, rng).take(np.arange(0, 500, 2)),
                            random_table(rng, 100, n_frames=45, size_nm=3000)])
    stats = frame_statistics(truth, pred)
    assert stats.shape == (45, 5)
    total = evaluate(truth, pred)
    assert stats[:, 0].sum() == total.tp and stats[:, 1].sum() == total.fp and stats[:, 2].sum() == total.fn
    assert math.sqrt(stats[:, 3].sum() / total.tp) == pytest.approx(total.rmse_lat_nm)
    per_frame = evaluate_per_frame(truth, pred, n_frames=50)
    assert len(per_frame) == 50 and per_frame["jaccard"].iloc[-1] == 1.0
    assert per_frame["tp"].sum() == total.tp
    with pytest.raises(ValueError, match="n_frames"):
        frame_statistics(truth, pred, n_frames=10)


def test_metrics_to_dict_keys():
    r = evaluate(table([[0, 0, 0, 0]]), table([[0, 10, 0, 0]]))
    assert isinstance(r, Metrics)
    assert list(r.to_dict()) == METRIC_KEYS


def test_density_sweep_list_and_callable():
    rng = np.random.default_rng(2)

    def case(density):
        truth = random_table(rng, int(density * 100), n_frames=10, size_nm=6400)
        return truth, jittered(truth, rng)

    df = density_sweep(case, densities=[0.5, 1.0, 2.0])
    assert list(df["density_per_um2"]) == [0.5, 1.0, 2.0]
    assert list(df.columns[3:]) == METRIC_KEYS
    assert (df["n_truth"] == [50, 100, 200]).all()
    df2 = density_sweep([(1.0, *case(1.0))], method="hungarian")
    assert len(df2) == 1 and df2["jaccard"].iloc[0] > 0.9
    with pytest.raises(ValueError, match="densities"):
        density_sweep(case)


def test_bootstrap_ci_width_matches_standard_error():
    rng = np.random.default_rng(9)
    truth = random_table(rng, 3000, n_frames=300, size_nm=6400)
    pred = jittered(truth, rng, sigma_lat=30.0, sigma_ax=50.0)
    ci = bootstrap_ci(truth, pred, n_boot=800, seed=1)
    again = bootstrap_ci(truth, pred, n_boot=800, seed=1)
    assert ci.equals(again)  # seeded
    row = ci.loc["rmse_lat_nm"]
    assert row["low"] < row["estimate"] < row["high"]
    n = evaluate(truth, pred).tp
    # SE of RMSE_lat (chi^2 with 2n dof) is sigma / sqrt(2 n); a 95 % interval is ~3.92 SE wide
    expected_width = 3.92 * 30.0 / math.sqrt(2 * n)
    assert row["high"] - row["low"] == pytest.approx(expected_width, rel=0.25)
    assert ci.loc["jaccard", "low"] == ci.loc["jaccard", "high"] == 1.0


def test_bootstrap_ci_empty_and_bad_input():
    ci = bootstrap_ci(Emitters.empty(), Emitters.empty())
    assert ci.loc["jaccard", "estimate"] == 1.0 and math.isnan(ci.loc["jaccard", "low"])
    t = table([[0, 0, 0, 0]])
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_ci(t, t, n_boot=0)
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_ci(t, t, confidence=95)


def test_metrics_from_sums_agrees_with_evaluate_on_summed_frame_statistics():
    from structloc.evaluate import evaluate, frame_statistics, metrics_from_sums

    rng = np.random.default_rng(3)
    n = 60
    truth = Emitters(rng.integers(0, 6, n), rng.uniform(0, 6400, n), rng.uniform(0, 6400, n),
                     rng.uniform(-700, 700, n), np.ones(n))
    keep = rng.random(n) < 0.8
    pred = Emitters(truth.frame[keep], truth.x_nm[keep] + rng.normal(0, 30, keep.sum()),
                    truth.y_nm[keep] + rng.normal(0, 30, keep.sum()),
                    truth.z_nm[keep] + rng.normal(0, 60, keep.sum()), np.ones(keep.sum()))
    direct = evaluate(truth, pred)
    summed = metrics_from_sums(frame_statistics(truth, pred).sum(axis=0))
    for key in ("jaccard", "precision", "recall", "rmse_lat_nm", "rmse_ax_nm", "rmse_vol_nm", "efficiency_3d"):
        assert float(summed[key]) == pytest.approx(getattr(direct, key), rel=1e-12), key


def test_axial_profile_hand_computed_example():
    # Frame 0: emitters at z = -600 (found, pred 20 nm deeper, 30 nm to the side) and z = -100
    # (missed); frame 1: one at z = 300 (found exactly). One false positive at predicted z = 600.
    truth = table([[0, 1000, 1000, -600], [0, 3000, 3000, -100], [1, 500, 500, 300]])
    pred = table([[0, 1030, 1000, -620], [1, 500, 500, 300], [1, 4000, 4000, 600]])
    prof = axial_profile(truth, pred, edges_nm=[-750, -250, 250, 750])
    assert prof.n_truth.tolist() == [1, 1, 1]
    assert prof.tp.tolist() == [1, 0, 1] and prof.fn.tolist() == [0, 1, 0] and prof.fp.tolist() == [0, 0, 1]
    assert prof.recall.tolist() == [1.0, 0.0, 1.0]
    assert prof.jaccard.tolist() == pytest.approx([1.0, 0.0, 0.5])
    assert prof.rmse_lat_nm[0] == pytest.approx(30.0) and prof.rmse_ax_nm[0] == pytest.approx(20.0)
    assert prof.bias_z_nm[0] == pytest.approx(-20.0) and prof.bias_z_nm[2] == pytest.approx(0.0)
    assert np.isnan(prof.rmse_lat_nm[1]) and np.isnan(prof.bias_z_nm[1])
    assert prof.z_mid_nm.tolist() == [-500.0, 0.0, 500.0]


def test_axial_profile_sums_to_evaluate_and_clips_outside_values():
    rng = np.random.default_rng(3)
    truth = random_table(rng, 300)
    truth = Emitters(truth.frame, truth.x_nm, truth.y_nm, truth.z_nm * 1.5, truth.photons)  # some beyond +-750
    pred = Emitters(truth.frame, truth.x_nm + rng.normal(0, 20, 300), truth.y_nm + rng.normal(0, 20, 300),
                    truth.z_nm + rng.normal(0, 40, 300), truth.photons)
    prof = axial_profile(truth, pred)
    assert prof.n_truth.iloc[-1] == np.sum(truth.z_nm >= 500) and prof.n_truth.iloc[0] == np.sum(truth.z_nm < -500)
    overall = evaluate(truth, pred)
    assert (prof.tp.sum(), prof.fp.sum(), prof.fn.sum()) == (overall.tp, overall.fp, overall.fn)
    assert prof.n_truth.sum() == len(truth)
    sse_lat = (prof.rmse_lat_nm ** 2 * prof.tp).sum()
    assert math.sqrt(sse_lat / overall.tp) == pytest.approx(overall.rmse_lat_nm)


def test_axial_profile_empty_and_bad_edges():
    prof = axial_profile(Emitters.empty(), Emitters.empty())
    assert len(prof) == 6 and prof.tp.sum() == 0 and prof.recall.isna().all() and prof.jaccard.isna().all()
    for edges in ([0.0], [0, 0], [250, -250], [0, np.nan], [[0, 1], [2, 3]]):
        with pytest.raises(ValueError, match="edges_nm"):
            axial_profile(Emitters.empty(), Emitters.empty(), edges_nm=edges)


def test_paired_difference_of_identical_tables_is_exactly_zero_and_detects_a_loss():
    truth = sample_frames(MT0Sampler(Field()), 20, density_per_um2=0.5, seed=3)
    same = paired_difference(truth, truth, truth, n_frames=20, n_boot=100)
    assert same["jaccard_diff"] == 0 and same["jaccard_diff_ci_low"] == 0 and same["jaccard_diff_ci_high"] == 0
    half = truth.take(np.arange(len(truth)) % 2 == 0)  # b misses every other emitter: JI about 0.5
    loss = paired_difference(truth, truth, half, n_frames=20, n_boot=200)
    assert loss["jaccard_diff"] == pytest.approx(len(half) / len(truth) - 1)
    assert loss["jaccard_diff_ci_high"] < 0 and loss["rmse_vol_diff_nm"] == 0
    with pytest.raises(ValueError, match="confidence"):
        paired_difference(truth, truth, truth, n_frames=20, confidence=2.0)


def test_paired_difference_resamples_as_bootstrap_ci():
    """One resampling routine: against a perfect table (JI 1 in every replicate), the paired JI
    difference's interval is bootstrap_ci's JI interval of the other table, minus 1."""
    truth = sample_frames(MT0Sampler(Field()), 30, density_per_um2=0.5, seed=5)
    pred = truth.take(np.arange(len(truth)) % 3 != 0)
    diff = paired_difference(truth, truth, pred, n_frames=30, n_boot=300, seed=9)
    ci = bootstrap_ci(truth, pred, n_boot=300, seed=9, n_frames=30)
    assert diff["jaccard_diff"] == pytest.approx(ci.loc["jaccard", "estimate"] - 1, abs=1e-12)
    assert diff["jaccard_diff_ci_low"] == pytest.approx(ci.loc["jaccard", "low"] - 1, abs=1e-12)
    assert diff["jaccard_diff_ci_high"] == pytest.approx(ci.loc["jaccard", "high"] - 1, abs=1e-12)
