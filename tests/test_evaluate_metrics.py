"""Tests of structloc.evaluate.metrics: efficiency, Jaccard, RMSE, per-frame statistics and sweeps."""

from __future__ import annotations

import math

import numpy as np
import pytest
from evaluate_tables import jittered, random_table, table

from structloc.emitters import Emitters
from structloc.evaluate import (
    Metrics,
    density_sweep,
    efficiency,
    evaluate,
    evaluate_per_frame,
    frame_statistics,
    match,
)


METRIC_KEYS = ["tp", "fp", "fn", "precision", "recall", "jaccard", "rmse_lat_nm", "rmse_ax_nm",
               "rmse_vol_nm", "efficiency_lat", "efficiency_ax", "efficiency_3d"]


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


def test_metrics_from_sums_of_one_row_is_evaluate():
    truth = table([[0, 0, 0, 0], [0, 1000, 0, 0], [1, 3000, 3000, 0]])
    pred = table([[0, 100, 0, 0], [0, 1000, 200, 300], [0, 5000, 5000, 0]])
    # tp, fp, fn = 2, 1, 1; squared lateral errors 100^2 + 200^2, squared axial 300^2 (nm^2)
    metrics = Metrics.from_sums([2, 1, 1, 100.0**2 + 200.0**2, 300.0**2])
    assert metrics == evaluate(truth, pred)
    assert isinstance(metrics.tp, int) and isinstance(metrics.jaccard, float)
    assert math.isnan(Metrics.from_sums([0, 0, 3, 0.0, 0.0]).rmse_vol_nm)
    with pytest.raises(ValueError, match="5 summed statistics"):
        Metrics.from_sums(frame_statistics(truth, pred))
