"""Accuracy against the bound in the frame: known answers, groups, refusals."""

import numpy as np
import pytest

from structloc.emitters import Emitters
from structloc.evaluate import bound_profile


def _table(x, frame=None):
    x = np.asarray(x, float)
    zeros = np.zeros(len(x))
    return Emitters(frame=np.zeros(len(x), np.int64) if frame is None else np.asarray(frame, np.int64),
                    x_nm=x, y_nm=zeros + 500.0, z_nm=zeros, photons=zeros + 1000.0)


def test_known_errors_give_known_groups_and_ratios():
    truth = _table([1000.0, 3000.0, 5000.0, 7000.0, 9000.0])
    # errors along x: 10, 30, none (missed), 40, 20 nm
    pred = _table([1010.0, 3030.0, 7040.0, 9020.0])
    isolated = np.full(5, 10.0)
    frame = np.array([10.0, 11.0, 30.0, 20.0, np.inf])  # factors 1, 1.1, 3, 2, inf
    table = bound_profile(truth, pred, frame, isolated)
    assert table.n_truth.tolist() == [2, 0, 2, 1]
    assert table.tp.tolist() == [2, 0, 1, 1]
    assert table.unbounded.tolist() == [0, 0, 0, 1]
    first = table.iloc[0]
    assert first.rmse_vol_nm == pytest.approx(np.sqrt((10 ** 2 + 30 ** 2) / 2))
    assert first.median_bound_nm == pytest.approx(10.5)
    assert first.error_over_bound == pytest.approx(np.sqrt(((10 / 10) ** 2 + (30 / 11) ** 2) / 2))
    third = table.iloc[2]  # factors 3 (missed) and 2 (error 40 nm, bound 20 nm)
    assert third.recall == pytest.approx(0.5)
    assert third.error_over_bound == pytest.approx(2.0)
    last = table.iloc[3]  # one pair whose bound is infinite: an RMSE, no ratio
    assert last.rmse_vol_nm == pytest.approx(20.0)
    assert np.isnan(last.error_over_bound) and np.isinf(last.median_bound_nm)
    assert np.isnan(table.iloc[1].recall)
    assert table.share.sum() == pytest.approx(1.0)


def test_an_efficient_localizer_scores_one_in_every_group():
    rng = np.random.default_rng(0)
    n = 40000
    x = np.arange(n) * 2000.0
    bound = rng.choice([8.0, 16.0, 40.0], n)
    # unbiased errors with the bound as standard deviation, split over the three axes
    err = rng.normal(size=(n, 3)) * (bound / np.sqrt(3))[:, None]
    truth = Emitters(frame=np.zeros(n, np.int64), x_nm=x, y_nm=np.zeros(n), z_nm=np.zeros(n), photons=np.ones(n))
    pred = Emitters(frame=np.zeros(n, np.int64), x_nm=x + err[:, 0], y_nm=err[:, 1], z_nm=err[:, 2], photons=np.ones(n))
    table = bound_profile(truth, pred, bound, np.full(n, 8.0))
    filled = table[table.n_truth > 0]
    assert len(filled) == 3
    assert np.allclose(filled.error_over_bound, 1.0, atol=0.03)
    assert np.allclose(filled.recall, 1.0)


def test_empty_tables_give_empty_groups():
    table = bound_profile(Emitters.empty(), Emitters.empty(), np.zeros(0), np.zeros(0))
    assert (table.n_truth == 0).all() and table.recall.isna().all()


@pytest.mark.parametrize("frame, isolated, message", [
    (np.array([1.0]), np.array([1.0, 1.0]), "frame_bound_nm must hold one bound"),
    (np.array([np.nan, 1.0]), np.array([1.0, 1.0]), "frame_bound_nm must be positive"),
    (np.array([1.0, 1.0]), np.array([0.0, 1.0]), "isolated_bound_nm must be positive"),
    (np.array([1.0, 1.0]), np.array([np.inf, 1.0]), "isolated_bound_nm must be finite"),
])
def test_bad_bounds_are_refused(frame, isolated, message):
    with pytest.raises(ValueError, match=message):
        bound_profile(_table([0.0, 5000.0]), _table([0.0]), frame, isolated)


def test_bad_edges_are_refused():
    with pytest.raises(ValueError, match="edges"):
        bound_profile(_table([0.0]), _table([0.0]), [1.0], [1.0], edges=[2.0, 1.0])
