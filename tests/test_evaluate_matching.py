"""Tests of structloc.evaluate.matching: tolerances, frames, ties, greedy and hungarian matching."""

from __future__ import annotations

import math

import numpy as np
import pytest
from evaluate_tables import random_table, table
from hypothesis import given, settings
from hypothesis import strategies as st

from structloc.emitters import Emitters
from structloc.evaluate import evaluate, match


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
