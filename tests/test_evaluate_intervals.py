"""Tests of structloc.evaluate.intervals: bootstrap intervals over frames and paired differences."""

from __future__ import annotations

import math

import numpy as np
import pytest
from evaluate_tables import jittered, random_table, table

from structloc.emitters import Emitters
from structloc.evaluate import bootstrap_ci, evaluate, paired_difference
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
