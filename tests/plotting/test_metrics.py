"""Metric figures: bars, metrics vs density, paired differences, checkerboard summary, recall by depth."""

import numpy as np
import pandas as pd
import pytest

from structloc import Emitters, plotting
from structloc.evaluate import bootstrap_ci
from structloc.study import RESULT_COLUMNS, pooled_checkerboard


def test_metric_bars_show_estimates_with_intervals(three_emitters):
    truth = three_emitters
    shifted = Emitters(truth.frame, truth.x_nm + 10.0, truth.y_nm, truth.z_nm, truth.photons)
    ci = {"helix": bootstrap_ci(truth, truth, n_boot=20), "csr": bootstrap_ci(truth, shifted, n_boot=20)}
    fig = plotting.metric_bars(ci, metrics=("jaccard", "rmse_lat_nm"))
    ji_ax, rmse_ax = fig.axes
    assert [p.get_height() for p in ji_ax.patches] == [1.0, 1.0]
    np.testing.assert_allclose([p.get_height() for p in rmse_ax.patches], [0.0, 10.0])
    with pytest.raises(ValueError, match="no row"):
        plotting.metric_bars(ci, metrics=("speed",))


def _table():
    rng = np.random.default_rng(0)
    rows = []
    for snr in ("high", "low"):
        for test_set, density in (("0.38", 0.4), ("2.2", 2.1), ("13", 12.7), ("LD", 0.05)):
            for approach in ("csr", "helix"):
                row = {c: float(rng.uniform(0.2, 0.8)) for c in RESULT_COLUMNS}
                row.update(approach=approach, snr=snr, test_set=test_set, nominal_density=density, training_seed=0,
                           checkerboard_dof=19, checkerboard_25nm_dof=19, command="x", model="m")
                for m in ("jaccard", "rmse_vol_nm", "efficiency_3d"):
                    row[f"{m}_ci_low"], row[f"{m}_ci_high"] = row[m] - 0.1, row[m] + 0.1
                rows.append(row)
    return pd.DataFrame(rows)


def test_metrics_vs_density_draws_one_panel_per_metric_and_snr_with_bands():
    df = _table()
    fig = plotting.metrics_vs_density(df, ["jaccard", "rmse_vol_nm", "efficiency_3d"])
    axes = fig.axes
    assert len(axes) == 3 * 2 and axes[0].get_title() == "high SNR" and axes[1].get_title() == "low SNR"
    lines = [line for line in axes[0].get_lines() if line.get_label() in ("csr", "helix")]
    assert len(lines) == 2 and len(lines[0].get_xdata()) == 3  # the challenge set is not on the line
    np.testing.assert_allclose(np.sort(lines[0].get_xdata()), [0.4, 2.1, 12.7])
    assert len(axes[0].collections) >= 2 and axes[0].get_xscale() == "log"


def test_metrics_vs_density_rejects_missing_columns_and_unknown_snr():
    with pytest.raises(ValueError, match="lacks"):
        plotting.metrics_vs_density(_table().drop(columns="jaccard_ci_low"))
    with pytest.raises(ValueError, match="medium"):
        plotting.metrics_vs_density(_table(), snrs=["medium"])
    with pytest.raises(ValueError, match="empty"):
        plotting.metrics_vs_density(_table().iloc[:0])


def test_paired_differences_one_line_per_snr_and_needs_differences():
    df = _table()
    fig = plotting.paired_differences(df)
    assert len(fig.axes) == 2 and len(fig.axes[0].get_lines()) == 2 + 1  # two SNRs and the zero line
    with pytest.raises(ValueError, match="no paired"):
        plotting.paired_differences(df.assign(jaccard_diff=np.nan))
    seeds = pd.concat([df.assign(training_seed=seed) for seed in (0, 1)])
    with pytest.raises(ValueError, match="several training seeds"):
        plotting.paired_differences(seeds)  # would average the seeds' intervals
    one_per_snr = df.assign(training_seed=np.where(df.snr == "high", 0, 1))  # a seed per SNR is one run each
    assert len(plotting.paired_differences(one_per_snr).axes[0].get_lines()) == 2 + 1


def test_seed_differences_one_line_per_model_and_seed():
    df = pd.concat([_table().assign(training_seed=seed) for seed in (0, 1, 2)])
    fig = plotting.seed_differences(df, reference=_table(), reference_label="shipped")
    models, diffs = fig.axes
    assert len(models.get_lines()) == 2 * 3  # two samplers x three seeds
    assert len(diffs.get_lines()) == 3 + 1 + 1  # three seeds, the reference and the zero line
    assert len(diffs.collections) == 3  # a paired interval per seed
    helix = df[(df.snr == "high") & (df.approach == "helix") & (df.training_seed == 1) & (df.test_set != "LD")]
    np.testing.assert_allclose(np.sort(diffs.get_lines()[1].get_ydata()),
                               np.sort(helix["jaccard_diff"].to_numpy()))  # LD left out
    with pytest.raises(ValueError, match="no medium SNR rows"):
        plotting.seed_differences(df, snr="medium")
    with pytest.raises(ValueError, match="training_seed"):
        plotting.seed_differences(_table().drop(columns="training_seed"))


def test_checkerboard_summary_two_panels_from_the_pooled_indices():
    df = _table()
    fig = plotting.checkerboard_summary(df, {p: pooled_checkerboard(df, p) for p in ("pixel", "25nm")})
    assert len(fig.axes) == 2 and all(ax.get_yscale() == "log" for ax in fig.axes)
    assert len(fig.axes[0].patches) == 2 * 2  # 2 approaches x 2 SNRs
    pixel = pooled_checkerboard(df, "pixel").set_index(["approach", "snr"])["checkerboard"]
    heights = [p.get_height() for p in fig.axes[0].patches]  # csr (high, low), then helix (high, low)
    np.testing.assert_allclose(heights, [pixel[a, s] for a in ("csr", "helix") for s in ("high", "low")])
    with pytest.raises(ValueError, match="25nm"):
        plotting.checkerboard_summary(df, {"pixel": pooled_checkerboard(df, "pixel")})


def test_recall_by_depth_draws_the_recall_of_each_slab():
    rng = np.random.default_rng(1)
    n = 600
    truth = Emitters(rng.integers(0, 50, n), rng.uniform(0, 6400, n), rng.uniform(0, 6400, n),
                     rng.uniform(-750, 750, n), np.full(n, 5000.0))
    deep = truth.z_nm < -500
    found = truth.take(np.flatnonzero(~deep))  # a localizer blind below -500 nm, exact elsewhere
    locs = {("truth", "high"): truth, ("csr", "high"): truth, ("helix", "high"): found}
    fig = plotting.recall_by_depth(locs)
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert np.allclose(lines["csr"].get_ydata(), 1.0)
    helix = np.asarray(lines["helix"].get_ydata())
    assert helix[0] == 0.0 and np.allclose(helix[1:], 1.0)
    assert fig.axes[0].get_title() == "high SNR"
    with pytest.raises(ValueError, match="ground truth"):
        plotting.recall_by_depth(locs, snrs=["low"])
    with pytest.raises(ValueError, match="locs is empty"):
        plotting.recall_by_depth({})
