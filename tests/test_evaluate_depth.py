"""Tests of structloc.evaluate.depth: detection and accuracy by depth (axial_profile)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from evaluate_tables import random_table, table

from structloc.emitters import Emitters
from structloc.evaluate import axial_profile, evaluate


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
