"""Tests of structloc.evaluate.intervals: bootstrap intervals over frames and paired differences."""

from __future__ import annotations

import math

import numpy as np
import pytest
from evaluate_tables import jittered, random_table, table

from structloc.emitters import Emitters
from structloc.evaluate import bootstrap_ci, evaluate, metrics_with_intervals, paired_difference
from structloc.field import Field
from structloc.sampling import MT0Sampler, sample_frames


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


def scored_case(seed=4):
    """A test set with misses and false positives, so that every interval has a width."""
    rng = np.random.default_rng(seed)
    truth = random_table(rng, 1500, n_frames=120, size_nm=6400)
    found = jittered(truth, rng).take(rng.random(len(truth)) < 0.85)
    return truth, Emitters.concat([found, random_table(rng, 150, n_frames=120, size_nm=6400)])


def test_metrics_with_intervals_known_answer_is_evaluate_inside_its_interval():
    truth, pred = scored_case()
    scored = metrics_with_intervals(truth, pred, n_frames=120, n_boot=400, seed=3)
    direct = evaluate(truth, pred)
    point = scored.metrics
    # the counts and the detection fractions are the same numbers; the RMSEs differ from
    # evaluate's only in the order the squared errors are summed (per frame, then over frames)
    assert (point.tp, point.fp, point.fn) == (direct.tp, direct.fp, direct.fn)
    assert (point.precision, point.recall, point.jaccard) == (direct.precision, direct.recall, direct.jaccard)
    for key in ("rmse_lat_nm", "rmse_ax_nm", "rmse_vol_nm", "efficiency_lat", "efficiency_ax", "efficiency_3d"):
        assert getattr(point, key) == pytest.approx(getattr(direct, key), rel=1e-12), key
    assert scored.confidence == 0.95
    assert list(scored.intervals.columns) == ["estimate", "low", "high"]
    assert list(scored.intervals.index) == [k for k in point.to_dict() if k not in ("tp", "fp", "fn")]
    for key, row in scored.intervals.iterrows():
        assert row["estimate"] == getattr(point, key), key  # one set of statistics: exactly equal
        assert row["low"] < row["estimate"] < row["high"], key
    # the same intervals as bootstrap_ci called with the same arguments
    assert scored.intervals.equals(bootstrap_ci(truth, pred, n_boot=400, seed=3, n_frames=120))


def test_metrics_with_intervals_is_seeded_and_passes_the_matching_on():
    truth, pred = scored_case(seed=6)
    a = metrics_with_intervals(truth, pred, n_frames=120, n_boot=200, seed=1, confidence=0.9)
    b = metrics_with_intervals(truth, pred, n_frames=120, n_boot=200, seed=1, confidence=0.9)
    other = metrics_with_intervals(truth, pred, n_frames=120, n_boot=200, seed=2, confidence=0.9)
    assert a.intervals.equals(b.intervals) and a.metrics == b.metrics
    assert not a.intervals.equals(other.intervals) and a.metrics == other.metrics
    wider = metrics_with_intervals(truth, pred, n_frames=120, n_boot=200, seed=1, confidence=0.99)
    assert (wider.intervals["high"] - wider.intervals["low"] >= a.intervals["high"] - a.intervals["low"]).all()
    # greedy strands both members of this pair of pairs, hungarian matches both
    truth2 = table([[0, 1000, 0, 0], [0, 1400, 0, 0]])
    pred2 = table([[0, 1190, 0, 0], [0, 760, 0, 0]])
    for method in ("greedy", "hungarian"):
        scored = metrics_with_intervals(truth2, pred2, n_frames=3, n_boot=20, seed=0, method=method)
        assert scored.metrics.tp == evaluate(truth2, pred2, method=method).tp == (1 if method == "greedy" else 2)


def test_metrics_with_intervals_to_dict_is_one_flat_row():
    truth, pred = scored_case()
    scored = metrics_with_intervals(truth, pred, n_frames=120, n_boot=50, seed=0)
    row = scored.to_dict()
    names = list(scored.intervals.index)
    assert list(row) == ["tp", "fp", "fn", *[c for m in names for c in (m, f"{m}_ci_low", f"{m}_ci_high")]]
    assert isinstance(row["tp"], int) and row["tp"] == scored.metrics.tp
    assert row["jaccard"] == scored.metrics.jaccard
    assert (row["rmse_vol_nm_ci_low"], row["rmse_vol_nm_ci_high"]) == tuple(scored.intervals.loc["rmse_vol_nm",
                                                                                                  ["low", "high"]])


def test_metrics_with_intervals_empty_and_bad_input():
    empty = metrics_with_intervals(Emitters.empty(), Emitters.empty(), n_frames=0, n_boot=10, seed=0)
    assert empty.metrics.jaccard == 1.0 and math.isnan(empty.intervals.loc["jaccard", "low"])
    no_locs = metrics_with_intervals(table([[0, 0, 0, 0]]), Emitters.empty(), n_frames=4, n_boot=10, seed=0)
    assert no_locs.metrics.fn == 1 and math.isnan(no_locs.to_dict()["rmse_lat_nm_ci_low"])
    t = table([[0, 0, 0, 0]])
    with pytest.raises(ValueError, match="n_boot must be a positive integer"):
        metrics_with_intervals(t, t, n_frames=1, n_boot=0, seed=0)
    with pytest.raises(ValueError, match="confidence"):
        metrics_with_intervals(t, t, n_frames=1, n_boot=10, seed=0, confidence=95)
    with pytest.raises(ValueError, match="n_frames"):
        metrics_with_intervals(table([[3, 0, 0, 0]]), t, n_frames=2, n_boot=10, seed=0)
    with pytest.raises(ValueError, match="method"):
        metrics_with_intervals(t, t, n_frames=1, n_boot=10, seed=0, method="nearest")
    with pytest.raises(TypeError):
        metrics_with_intervals(t, t, n_boot=10, seed=0)  # n_frames is required: the frames localized
