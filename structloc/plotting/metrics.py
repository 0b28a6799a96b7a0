"""Evaluation metrics by model, by nominal density and by depth, with their intervals.

:func:`metric_bars` draws bootstrap intervals of a few models; the other figures draw the study's
results table (one row per approach, signal level and test set) or its kept localizations. They
take the computed tables and import no study code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..emitters import Emitters
from ..evaluate import axial_profile
from ..snr import SNR_PRESETS
from .common import METRIC_LABELS, PALETTE, label_colour, mapping, training_regime

__all__ = ["metric_bars", "metrics_vs_density", "paired_differences", "seed_differences", "checkerboard_summary",
           "recall_by_depth"]

#: The training regimes compared, in legend order, and the challenge's own test sets (drawn apart
#: from the density grid): the names of :mod:`structloc.study.config`, which figures do not import.
_APPROACHES = ("csr", "helix")
_CHALLENGE = ("LD", "HD")


def metric_bars(
    intervals: Mapping[str, Any],
    *,
    metrics: Sequence[str] = ("jaccard", "rmse_lat_nm", "rmse_ax_nm", "efficiency_3d"),
    title: str | None = None,
) -> Figure:
    """Bars of evaluation metrics per model, with bootstrap confidence intervals.

    Parameters
    ----------
    intervals : mapping of str -> pandas.DataFrame
        Per model label, the result of :func:`structloc.evaluate.bootstrap_ci` (index: metric
        names; columns ``estimate``, ``low``, ``high``).
    metrics : sequence of str
        Which metrics to draw, one panel each.

    Returns
    -------
    matplotlib.figure.Figure
    """
    intervals = mapping("intervals", intervals)
    labels = list(intervals)
    ncols = min(2, len(metrics))  # at most two panels per row: legible at page width
    nrows = -(-len(metrics) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.4 * nrows), squeeze=False,
                             constrained_layout=True)
    for extra in axes.flat[len(metrics):]:
        extra.remove()
    for j, metric in enumerate(metrics):
        ax = axes.flat[j]
        for i, label in enumerate(labels):
            table = intervals[label]
            if metric not in getattr(table, "index", ()):
                raise ValueError(f"intervals[{label!r}] has no row {metric!r} (expected bootstrap_ci output)")
            est, low, high = (float(table.loc[metric, c]) for c in ("estimate", "low", "high"))
            err = [[max(est - low, 0.0)], [max(high - est, 0.0)]] if np.isfinite(low) and np.isfinite(high) else None
            ax.bar(i, est, color=label_colour(training_regime(label), i), alpha=0.85, yerr=err, capsize=6)
            ax.annotate(f"{est:.3f}" if abs(est) < 10 else f"{est:.1f}", (i, est), ha="left",
                        va="bottom" if est >= 0 else "top", fontsize=8, xytext=(9, 2 if est >= 0 else -2),
                        textcoords="offset points")
        ax.set_xticks(range(len(labels)), labels, rotation=20)
        ax.set_title(METRIC_LABELS.get(metric, metric), fontsize=10)
        ax.grid(alpha=0.3, axis="y")
        if metric in ("jaccard", "precision", "recall"):
            ax.set_ylim(0, 1.05)
    if title:
        fig.suptitle(title)
    return fig


def _check_table(df, columns: Sequence[str]) -> None:
    missing = [c for c in ("approach", "snr", "test_set", "nominal_density", *columns) if c not in df.columns]
    if missing:
        raise ValueError(f"results table lacks the column(s) {missing}")
    if len(df) == 0:
        raise ValueError("results table is empty: nothing to plot")


def _on_grid(df):
    """Which rows of a results table are on the nominal-density grid (not a challenge set)."""
    return ~df["test_set"].astype(str).str.upper().isin(_CHALLENGE)


def _snrs(df, snrs: Sequence[str] | None) -> list[str]:
    present = [s for s in SNR_PRESETS if s in set(df["snr"])]
    if snrs is None:
        return present
    unknown = [s for s in snrs if s not in present]
    if unknown:
        raise ValueError(f"SNR(s) {unknown} not in the results table (it has {present})")
    return list(snrs)


def metrics_vs_density(df, metrics: Sequence[str] = ("jaccard", "rmse_vol_nm"), *, snrs: Sequence[str] | None = None,
                       challenge: bool = True, title: str | None = None, panel_size: tuple[float, float] = (3.6, 2.8)) -> Figure:
    """Figure-3-style panels: one row per metric, one column per SNR, csr vs helix with CI bands.

    Parameters
    ----------
    df : pandas.DataFrame
        Results table (``structloc.study.run(...).results``): needs ``metric``, ``metric_ci_low``,
        ``metric_ci_high`` for each metric. Several training seeds are averaged.
    metrics : sequence of str
        Result columns to plot (e.g. ``jaccard``, ``rmse_vol_nm``, ``efficiency_3d``).
    snrs : sequence of str, optional
        Columns of the grid (default: every SNR in the table, high to low).
    challenge : bool
        Also mark the challenge LD/HD test sets (open symbols at their nominal density).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    metrics = list(metrics)
    if not metrics:
        raise ValueError("metrics is empty: give at least one result column")
    _check_table(df, [c for m in metrics for c in (m, f"{m}_ci_low", f"{m}_ci_high")])
    columns = _snrs(df, snrs)
    fig, axes = plt.subplots(len(metrics), len(columns), squeeze=False, sharex=True,
                             figsize=(panel_size[0] * len(columns), panel_size[1] * len(metrics)))
    is_challenge = ~_on_grid(df)
    for j, snr in enumerate(columns):
        for i, metric in enumerate(metrics):
            ax = axes[i, j]
            for approach in _APPROACHES:
                sel = df[(df["snr"] == snr) & (df["approach"] == approach)]
                grid = sel[~is_challenge.loc[sel.index]]
                grid = grid.groupby("test_set").mean(numeric_only=True).sort_values("nominal_density")
                colour = PALETTE[approach]
                if len(grid):
                    ax.plot(grid["nominal_density"], grid[metric], "o-", color=colour, ms=3.5, lw=1.4,
                            label=approach)
                    ax.fill_between(grid["nominal_density"], grid[f"{metric}_ci_low"], grid[f"{metric}_ci_high"],
                                    color=colour, alpha=0.2, lw=0)
                chall = sel[is_challenge.loc[sel.index]]
                if challenge and len(chall):
                    chall = chall.groupby("test_set").mean(numeric_only=True)
                    err = np.abs(np.vstack([chall[metric] - chall[f"{metric}_ci_low"],
                                            chall[f"{metric}_ci_high"] - chall[metric]]))
                    ax.errorbar(chall["nominal_density"], chall[metric], yerr=err, fmt="s", mfc="white",
                                color=colour, ms=5, capsize=2, lw=1)
                    for name, r in chall.iterrows():
                        ax.annotate(str(name), (r["nominal_density"], r[metric]), fontsize=7,
                                    xytext=(3, 3), textcoords="offset points", color=colour)
            ax.set_xscale("log")
            ax.grid(alpha=0.3, which="both", lw=0.5)
            if i == 0:
                ax.set_title(f"{snr} SNR")
            if j == 0:
                ax.set_ylabel(METRIC_LABELS.get(metric, metric))
            if i == len(metrics) - 1:
                ax.set_xlabel("nominal density (per µm²)")
    axes[0, 0].legend(fontsize=8, frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def paired_differences(df, *, figsize: tuple[float, float] = (8.0, 3.0)) -> Figure:
    """Helix - csr on the same frames, with paired 95 % intervals: JI (left) and RMSE_vol (right).

    One line per SNR against nominal density; above 0 on the left (below 0 on the right) means
    helix training is better. Challenge sets are left out. A table with several training seeds
    per SNR is refused (its intervals are per seed; draw it with :func:`seed_differences`).
    """
    _check_table(df, ["jaccard_diff", "jaccard_diff_ci_low", "jaccard_diff_ci_high", "rmse_vol_diff_nm",
                      "rmse_vol_diff_ci_low", "rmse_vol_diff_ci_high"])
    grid = df[_on_grid(df) & (df["approach"] == "helix")]
    if "training_seed" in grid.columns and grid.groupby("snr")["training_seed"].nunique().max() > 1:
        raise ValueError("results table has several training seeds per SNR: select one, or draw them "
                         "with seed_differences")
    if grid["jaccard_diff"].notna().sum() == 0:
        raise ValueError("no paired differences in the table (run both approaches with structloc.study.run)")
    fig, axes = plt.subplots(1, 2, figsize=figsize)
    for snr in _snrs(grid, None):
        sel = grid[grid["snr"] == snr].groupby("test_set").mean(numeric_only=True).sort_values("nominal_density")
        for ax, col, low, high in ((axes[0], "jaccard_diff", "jaccard_diff_ci_low", "jaccard_diff_ci_high"),
                                   (axes[1], "rmse_vol_diff_nm", "rmse_vol_diff_ci_low", "rmse_vol_diff_ci_high")):
            ax.plot(sel["nominal_density"], sel[col], "o-", ms=3, color=PALETTE.get(snr), label=f"{snr} SNR")
            ax.fill_between(sel["nominal_density"], sel[low], sel[high], color=PALETTE.get(snr), alpha=0.2, lw=0)
    for ax, label in zip(axes, ("JI: helix - csr", "RMSE_vol: helix - csr (nm)")):
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("nominal density (per µm²)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3, which="both", lw=0.5)
    axes[0].legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def seed_differences(df, *, snr: str = "high", reference=None, reference_label: str = "reference",
                     figsize: tuple[float, float] = (8.0, 3.0)) -> Figure:
    """One SNR of a study with several training seeds: JI per model (left) and helix - csr (right).

    Parameters
    ----------
    df : pandas.DataFrame
        Results table with a ``training_seed`` column; one line per approach and seed on the left
        (the sampler's colour, a marker per seed), one line per seed on the right with its paired
        95 % interval over test frames as a band. Challenge sets are left out.
    snr : str
        The signal level drawn.
    reference : pandas.DataFrame, optional
        Another results table (e.g. the shipped models') whose helix - csr JI at ``snr`` is drawn
        as a dashed black line on the right.
    reference_label : str
        Its legend label.
    figsize : (float, float)
        Figure size in inches.
    """
    _check_table(df, ["training_seed", "jaccard", "jaccard_diff", "jaccard_diff_ci_low", "jaccard_diff_ci_high"])
    grid = df[_on_grid(df) & (df["snr"] == snr)]
    if grid.empty:
        raise ValueError(f"no {snr} SNR rows on the density grid in the table")
    seeds = sorted(grid["training_seed"].unique())
    markers = "osD^v<>"
    fig, axes = plt.subplots(1, 2, figsize=figsize)
    for i, seed in enumerate(seeds):
        marker = markers[i % len(markers)]
        for approach in _APPROACHES:
            sel = grid[(grid["approach"] == approach) & (grid["training_seed"] == seed)].sort_values("nominal_density")
            axes[0].plot(sel["nominal_density"], sel["jaccard"], marker=marker, ms=3, lw=1, color=PALETTE[approach],
                         label=f"{approach}, seed {seed}")
        helix = grid[(grid["approach"] == "helix") & (grid["training_seed"] == seed)].sort_values("nominal_density")
        grey = str(0.15 + 0.5 * i / max(1, len(seeds) - 1))
        axes[1].plot(helix["nominal_density"], helix["jaccard_diff"], marker=marker, ms=3, lw=1, color=grey,
                     label=f"seed {seed}")
        axes[1].fill_between(helix["nominal_density"], helix["jaccard_diff_ci_low"], helix["jaccard_diff_ci_high"],
                             color=grey, alpha=0.15, lw=0)
    if reference is not None:
        ref = reference[_on_grid(reference) & (reference["snr"] == snr)
                        & (reference["approach"] == "helix")].sort_values("nominal_density")
        axes[1].plot(ref["nominal_density"], ref["jaccard_diff"], "k--", lw=1.2, label=reference_label)
    axes[0].set_ylabel(METRIC_LABELS["jaccard"])
    axes[1].set_ylabel("JI: helix - csr")
    axes[1].axhline(0, color="k", lw=0.8)
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("nominal density (per µm²)")
        ax.grid(alpha=0.3, which="both", lw=0.5)
    axes[0].legend(fontsize=7, frameon=False, ncol=2, loc="lower left")
    axes[1].legend(fontsize=7, frameon=False)
    fig.suptitle(f"{snr} SNR, {len(seeds)} training seeds per sampler", fontsize=10)
    fig.tight_layout()
    return fig


def checkerboard_summary(df, pooled: Mapping[str, Any], *, figsize: tuple[float, float] = (8.0, 3.0)) -> Figure:
    """Pooled checkerboard index (chi2/dof, 1 = no bias) per approach and SNR, at 100 and 25 nm.

    The dashed line is the no-bias value 1; the grey band its +-2 standard errors
    (``sqrt(2 / dof)``) for the helix pool; the ground-truth value of the same frames is drawn as
    a black tick for reference.

    Parameters
    ----------
    df : pandas.DataFrame
        Results table (its SNRs and, where present, the ground truth's ``checkerboard_truth`` and
        ``checkerboard_25nm_truth`` columns).
    pooled : mapping of {"pixel", "25nm"} -> pandas.DataFrame
        The pooled indices of ``df`` per period (:func:`structloc.study.pooled_checkerboard`:
        columns approach, snr, checkerboard, se_no_bias).
    figsize : (float, float)
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _check_table(df, [])
    pooled = mapping("pooled", pooled)
    missing = [p for p in ("pixel", "25nm") if p not in pooled]
    if missing:
        raise ValueError(f"pooled lacks the period(s) {missing} (expected pooled_checkerboard output per period)")
    snrs = _snrs(df, None)
    fig, axes = plt.subplots(1, 2, figsize=figsize, squeeze=False)
    for ax, period, label in zip(axes[0], ("pixel", "25nm"), ("camera pixel (100 nm)", "output bin (25 nm)")):
        by_row = pooled[period].set_index(["approach", "snr"])
        x = np.arange(len(snrs))
        for k, approach in enumerate(_APPROACHES):
            values = [by_row["checkerboard"].get((approach, s), np.nan) for s in snrs]
            ax.bar(x + (k - 0.5) * 0.38, values, 0.36, color=PALETTE[approach], label=approach)
        se = [by_row["se_no_bias"].get(("helix", s), np.nan) for s in snrs]
        ax.axhline(1.0, color="k", ls="--", lw=0.8)
        ax.fill_between([-0.5, len(snrs) - 0.5], 1 - 2 * np.nanmax(se), 1 + 2 * np.nanmax(se), color="0.7", alpha=0.5)
        truth_col = "checkerboard_truth" if period == "pixel" else "checkerboard_25nm_truth"
        if truth_col in df.columns:
            truth = df.groupby("snr")[truth_col].mean()
            ax.plot(x, [truth.get(s, np.nan) for s in snrs], "k_", ms=18, mew=2, label="ground truth")
        ax.set_yscale("log")
        ax.set_xticks(x, [f"{s} SNR" for s in snrs])
        ax.set_title(f"modulo the {label}")
        ax.set_ylabel("checkerboard index (χ²/dof)")
    axes[0, 0].legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def recall_by_depth(locs: Mapping[tuple[str, str], Emitters], *, edges_nm: Sequence[float] | None = None,
                    snrs: Sequence[str] | None = None, panel_size: tuple[float, float] = (3.0, 2.6),
                    title: str | None = None) -> Figure:
    """Recall of each approach in slabs of true depth z, one panel per SNR.

    Parameters
    ----------
    locs : mapping of (row, snr) -> Emitters
        ``("truth", snr)`` and ``(approach, snr)`` tables of the same frames (as kept by
        :func:`structloc.study.run` (``StudyRun.locs``) or read by :func:`structloc.study.read_locs`).
    edges_nm : sequence of float, optional
        Slab edges in nm (default: see :func:`structloc.evaluate.axial_profile`).
    snrs : sequence of str, optional
        SNR panels to draw (default: every SNR with a ground truth, in preset order).
    panel_size : (float, float)
        Width and height of one panel, in inches.
    title : str, optional
        Figure title.

    Notes
    -----
    Grey bars (right axis) show the fraction of the ground-truth emitters in each slab, so that a
    slab's weight in the overall recall can be read off.
    """
    locs = mapping("locs", locs)
    present = [s for s in SNR_PRESETS if ("truth", s) in locs]
    snrs = present if snrs is None else list(snrs)
    missing = [s for s in snrs if s not in present]
    if not snrs or missing:
        raise ValueError(f"locs has no ground truth for SNR(s) {missing or 'any'}")
    fig, axes = plt.subplots(1, len(snrs), figsize=(panel_size[0] * len(snrs), panel_size[1]), squeeze=False,
                             sharey=True)
    for ax, snr in zip(axes[0], snrs):
        truth = locs[("truth", snr)]
        slabs = axial_profile(truth, Emitters.empty(), edges_nm)  # the emitters per slab
        share = ax.twinx()
        share.bar(slabs.z_mid_nm, slabs.n_truth / max(1, len(truth)), (slabs.z_high_nm - slabs.z_low_nm) * 0.9,
                  color="0.85", zorder=0)
        for approach in _APPROACHES:
            if (approach, snr) in locs:
                prof = axial_profile(truth, locs[(approach, snr)], edges_nm)
                ax.plot(prof.z_mid_nm, prof.recall, "o-", color=PALETTE[approach], label=approach, zorder=3)
        share.set_ylim(0, 1)
        share.set_yticks([])
        ax.set_zorder(share.get_zorder() + 1)
        ax.patch.set_visible(False)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("true z (nm)")
        ax.set_title(f"{snr} SNR")
    axes[0, 0].set_ylabel("recall")
    axes[0, 0].legend(fontsize=8, frameon=False, loc="lower right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
