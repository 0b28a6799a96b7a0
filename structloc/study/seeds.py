"""Training-seed spread: is the sampler's effect larger than the difference between two training runs?

A study table with several training seeds per model (``structloc study --training-seed 0 1 2``) holds,
for every seed and test point, the paired helix - csr difference of a metric on the *same* test
frames, with its bootstrap interval over those frames. :func:`seed_spread` sets the two kinds of noise
side by side per test point: the spread of the difference from one training seed to the next
(training noise, which one run per approach cannot show) and the bootstrap half-width (test-frame
noise, which every row already carries).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["SEED_METRICS", "SPREAD_COLUMNS", "seed_spread"]

#: Metrics with a paired difference in the results table: the difference column, the prefix of its
#: bootstrap interval's ``_ci_low`` / ``_ci_high`` columns and the sign of a helix advantage (+1:
#: higher is better; -1: lower is better).
SEED_METRICS: dict[str, tuple[str, str, int]] = {
    "jaccard": ("jaccard_diff", "jaccard_diff", 1),
    "rmse_vol_nm": ("rmse_vol_diff_nm", "rmse_vol_diff", -1),
}

#: Columns of :func:`seed_spread`.
SPREAD_COLUMNS: tuple[str, ...] = (
    "snr", "test_set", "nominal_target", "n_seeds", "mean_diff", "sd_diff", "min_diff", "max_diff",
    "seed_ci_low", "seed_ci_high", "helix_better", "helix_significant", "csr_significant",
    "test_half_width", "sd_csr", "sd_helix",
)


def seed_spread(table: pd.DataFrame, metric: str = "jaccard") -> pd.DataFrame:
    """Per test point, the helix - csr difference of ``metric`` across training seeds.

    Parameters
    ----------
    table : pandas.DataFrame
        A study results table (:data:`~structloc.study.runner.RESULT_COLUMNS`) with rows for both
        approaches and at least two training seeds at every (snr, test set).
    metric : {"jaccard", "rmse_vol_nm"}
        The metric compared (Jaccard index, or volumetric RMSE in nm).

    Returns
    -------
    pandas.DataFrame
        One row per (snr, test set) in table order, columns :data:`SPREAD_COLUMNS`: the number of
        seeds; mean, sample standard deviation (ddof 1), minimum and maximum over seeds of the
        helix - csr difference; the 95 % Student-t interval of the mean over seeds
        (``seed_ci_low/high``, training noise only, since every seed sees the same test frames);
        the seeds in which helix is better (``helix_better``) and whose paired bootstrap interval
        excludes zero in helix's (``helix_significant``) or csr's (``csr_significant``) favour;
        the bootstrap half-width averaged over seeds (``test_half_width``, test-frame noise); and
        the across-seed standard deviation of the metric itself per approach (``sd_csr``,
        ``sd_helix``). An empty table gives no rows.

    Raises
    ------
    ValueError
        For an unknown metric, a table without the approaches' rows of one seed, or fewer than two
        training seeds at a test point.
    """
    if metric not in SEED_METRICS:
        raise ValueError(f"metric must be one of {', '.join(SEED_METRICS)}, not {metric!r}")
    if table.empty:
        return pd.DataFrame(columns=list(SPREAD_COLUMNS))
    diff_col, ci, better = SEED_METRICS[metric]
    rows = []
    for (snr, test_set), point in table.groupby(["snr", table["test_set"].astype(str)], sort=False):
        by = point.pivot_table(index="training_seed", columns="approach", values=metric, aggfunc="first")
        missing = [a for a in ("csr", "helix") if a not in by.columns or by[a].isna().any()]
        if missing:
            raise ValueError(f"seed_spread: {snr} {test_set} has no {' or '.join(missing)} row for some "
                             "training seed: every seed needs both approaches")
        if len(by) < 2:
            raise ValueError(f"seed_spread needs at least two training seeds per model; {snr} {test_set} "
                             f"has {len(by)}")
        helix = point[point["approach"] == "helix"].set_index("training_seed").loc[by.index]
        diff = helix[diff_col].to_numpy(float)
        low = helix[f"{ci}_ci_low"].to_numpy(float)
        high = helix[f"{ci}_ci_high"].to_numpy(float)
        n = len(diff)
        mean, sd = float(diff.mean()), float(diff.std(ddof=1))
        half = float(stats.t.ppf(0.975, n - 1) * sd / np.sqrt(n))
        helix_side, csr_side = (low > 0, high < 0) if better > 0 else (high < 0, low > 0)
        rows.append({
            "snr": snr, "test_set": test_set, "nominal_target": point["nominal_target"].iloc[0],
            "n_seeds": n, "mean_diff": mean, "sd_diff": sd, "min_diff": float(diff.min()),
            "max_diff": float(diff.max()), "seed_ci_low": mean - half, "seed_ci_high": mean + half,
            "helix_better": int((better * diff > 0).sum()), "helix_significant": int(helix_side.sum()),
            "csr_significant": int(csr_side.sum()), "test_half_width": float(np.mean((high - low) / 2)),
            "sd_csr": float(by["csr"].std(ddof=1)), "sd_helix": float(by["helix"].std(ddof=1)),
        })
    return pd.DataFrame(rows, columns=list(SPREAD_COLUMNS))
