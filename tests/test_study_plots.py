"""Study figures: they draw what the table holds and reject what they cannot draw."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from structloc import Emitters  # noqa: E402
from structloc.study import RESULT_COLUMNS  # noqa: E402
from structloc.study_plots import (  # noqa: E402
    checkerboard_summary, metrics_vs_density, paired_differences, recall_by_depth, reconstruction_grid,
    subpixel_histograms,
)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _table():
    rng = np.random.default_rng(0)
    rows = []
    for snr in ("high", "low"):
        for test_set, density in (("0.38", 0.4), ("2.2", 2.1), ("13", 12.7), ("LD", 0.05)):
            for approach in ("csr", "helix"):
                row = {c: float(rng.uniform(0.2, 0.8)) for c in RESULT_COLUMNS}
                row.update(approach=approach, snr=snr, test_set=test_set, nominal_density=density,
                           checkerboard_dof=19, checkerboard_25nm_dof=19, command="x", model="m")
                for m in ("jaccard", "rmse_vol_nm", "efficiency_3d"):
                    row[f"{m}_ci_low"], row[f"{m}_ci_high"] = row[m] - 0.1, row[m] + 0.1
                rows.append(row)
    return pd.DataFrame(rows)


def test_metrics_vs_density_draws_one_panel_per_metric_and_snr_with_bands():
    df = _table()
    fig = metrics_vs_density(df, ["jaccard", "rmse_vol_nm", "efficiency_3d"])
    axes = fig.axes
    assert len(axes) == 3 * 2 and axes[0].get_title() == "high SNR" and axes[1].get_title() == "low SNR"
    lines = [line for line in axes[0].get_lines() if line.get_label() in ("csr", "helix")]
    assert len(lines) == 2 and len(lines[0].get_xdata()) == 3  # the challenge set is not on the line
    np.testing.assert_allclose(np.sort(lines[0].get_xdata()), [0.4, 2.1, 12.7])
    assert len(axes[0].collections) >= 2 and axes[0].get_xscale() == "log"


def test_metrics_vs_density_rejects_missing_columns_and_unknown_snr():
    with pytest.raises(ValueError, match="lacks"):
        metrics_vs_density(_table().drop(columns="jaccard_ci_low"))
    with pytest.raises(ValueError, match="medium"):
        metrics_vs_density(_table(), snrs=["medium"])
    with pytest.raises(ValueError, match="empty"):
        metrics_vs_density(_table().iloc[:0])


def test_paired_differences_one_line_per_snr_and_needs_differences():
    df = _table()
    fig = paired_differences(df)
    assert len(fig.axes) == 2 and len(fig.axes[0].get_lines()) == 2 + 1  # two SNRs and the zero line
    with pytest.raises(ValueError, match="no paired"):
        paired_differences(df.assign(jaccard_diff=np.nan))


def test_checkerboard_summary_two_panels():
    fig = checkerboard_summary(_table())
    assert len(fig.axes) == 2 and all(ax.get_yscale() == "log" for ax in fig.axes)
    assert len(fig.axes[0].patches) == 2 * 2  # 2 approaches x 2 SNRs


def _locs(n=400, snap=False, seed=1):
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0, 6400, n), rng.uniform(0, 6400, n)
    if snap:
        x, y = np.round(x / 100) * 100 + 50, np.round(y / 100) * 100 + 50
    return Emitters(np.zeros(n, int), x, y, rng.uniform(-700, 700, n), np.ones(n))


def test_subpixel_histograms_show_the_bias():
    fig = subpixel_histograms({"csr": _locs(snap=True), "helix": _locs()})
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert any(label.startswith("csr") for label in labels)
    snapped = fig.axes[0].get_lines()[0].get_ydata()
    assert snapped.max() > 5  # everything in one bin out of 20
    with pytest.raises(ValueError, match="non-empty"):
        subpixel_histograms({})


def test_reconstruction_grid_rows_and_columns():
    locs = {(row, snr): _locs(seed=k) for k, (row, snr) in
            enumerate([(r, s) for r in ("truth", "csr", "helix") for s in ("high", "low")])}
    fig = reconstruction_grid(locs)
    images = [ax for ax in fig.axes if ax.get_images()]
    assert len(images) == 6
    rgb = images[0].get_images()[0].get_array()
    assert rgb.shape == (640, 640, 3) and np.nanmax(rgb) <= 1.0 and np.nanmax(rgb) > 0
    assert images[0].get_ylabel() == "ground truth" and images[0].get_title() == "high SNR"
    with pytest.raises(ValueError, match="no localizations"):
        reconstruction_grid(locs, snrs=["medium"])
    with pytest.raises(ValueError, match="non-empty"):
        reconstruction_grid({})


def test_recall_by_depth_draws_the_recall_of_each_slab():
    rng = np.random.default_rng(1)
    n = 600
    truth = Emitters(rng.integers(0, 50, n), rng.uniform(0, 6400, n), rng.uniform(0, 6400, n),
                     rng.uniform(-750, 750, n), np.full(n, 5000.0))
    deep = truth.z_nm < -500
    found = truth.take(np.flatnonzero(~deep))  # a localizer blind below -500 nm, exact elsewhere
    locs = {("truth", "high"): truth, ("csr", "high"): truth, ("helix", "high"): found}
    fig = recall_by_depth(locs)
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert np.allclose(lines["csr"].get_ydata(), 1.0)
    helix = np.asarray(lines["helix"].get_ydata())
    assert helix[0] == 0.0 and np.allclose(helix[1:], 1.0)
    assert fig.axes[0].get_title() == "high SNR"
    with pytest.raises(ValueError, match="ground truth"):
        recall_by_depth(locs, snrs=["low"])
    with pytest.raises(ValueError, match="non-empty"):
        recall_by_depth({})
