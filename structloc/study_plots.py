"""Figures of the study (chapter 6): metrics vs nominal density, checkerboard, reconstructions.

Every function takes the results table of :mod:`structloc.study` (or localization tables) and
returns the matplotlib ``Figure`` it drew. CSR is drawn in the book's CSR colour, helix
(structure-based) training in its structure colour (:data:`structloc.plotting.PALETTE`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from .emitters import Emitters
from .field import Field
from .plotting import PALETTE
from .render import render_gaussian, subpixel_bias
from .snr import SNR_PRESETS

__all__ = ["APPROACH_COLOURS", "METRIC_LABELS", "metrics_vs_density", "paired_differences", "checkerboard_summary",
           "subpixel_histograms", "recall_by_depth", "reconstruction_grid"]

#: Colour of each training regime.
APPROACH_COLOURS: dict[str, str] = {"csr": PALETTE["csr"], "helix": PALETTE["structure"], "truth": "0.2"}
#: Axis labels of the result columns.
METRIC_LABELS: dict[str, str] = {
    "jaccard": "Jaccard index", "precision": "precision", "recall": "recall",
    "rmse_lat_nm": "RMSE lateral (nm)", "rmse_ax_nm": "RMSE axial (nm)", "rmse_vol_nm": "RMSE volumetric (nm)",
    "efficiency_lat": "efficiency lateral", "efficiency_ax": "efficiency axial", "efficiency_3d": "3D efficiency",
}
_CHALLENGE = ("LD", "HD")


def _check_table(df, columns: Sequence[str]) -> None:
    missing = [c for c in ("approach", "snr", "test_set", "nominal_density", *columns) if c not in df.columns]
    if missing:
        raise ValueError(f"results table lacks the column(s) {missing}")
    if len(df) == 0:
        raise ValueError("results table is empty: nothing to plot")


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
    is_challenge = df["test_set"].astype(str).str.upper().isin(_CHALLENGE)
    for j, snr in enumerate(columns):
        for i, metric in enumerate(metrics):
            ax = axes[i, j]
            for approach in ("csr", "helix"):
                sel = df[(df["snr"] == snr) & (df["approach"] == approach)]
                grid = sel[~is_challenge.loc[sel.index]]
                grid = grid.groupby("test_set").mean(numeric_only=True).sort_values("nominal_density")
                colour = APPROACH_COLOURS[approach]
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
    helix training is better. Challenge sets are left out.
    """
    _check_table(df, ["jaccard_diff", "jaccard_diff_ci_low", "jaccard_diff_ci_high", "rmse_vol_diff_nm",
                      "rmse_vol_diff_ci_low", "rmse_vol_diff_ci_high"])
    grid = df[~df["test_set"].astype(str).str.upper().isin(_CHALLENGE) & (df["approach"] == "helix")]
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


def checkerboard_summary(df, *, figsize: tuple[float, float] = (8.0, 3.0)) -> Figure:
    """Pooled checkerboard index (chi2/dof, 1 = no bias) per approach and SNR, at 100 and 25 nm.

    The dashed line is the no-bias value 1; the grey band its +-2 standard errors
    (``sqrt(2 / dof)``) for the helix pool; the ground-truth value of the same frames is drawn as
    a black tick for reference.
    """
    from .study import pooled_checkerboard

    _check_table(df, ["checkerboard_chi2", "checkerboard_dof", "checkerboard_25nm_chi2", "checkerboard_25nm_dof"])
    snrs = _snrs(df, None)
    fig, axes = plt.subplots(1, 2, figsize=figsize, squeeze=False)
    for ax, period, label in zip(axes[0], ("pixel", "25nm"), ("camera pixel (100 nm)", "output bin (25 nm)")):
        pooled = pooled_checkerboard(df, period).set_index(["approach", "snr"])
        x = np.arange(len(snrs))
        for k, approach in enumerate(("csr", "helix")):
            values = [pooled["checkerboard"].get((approach, s), np.nan) for s in snrs]
            ax.bar(x + (k - 0.5) * 0.38, values, 0.36, color=APPROACH_COLOURS[approach], label=approach)
        se = [pooled["se_no_bias"].get(("helix", s), np.nan) for s in snrs]
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


def subpixel_histograms(locs: Mapping[str, Emitters], *, period_nm: float = 100.0, bins: int = 20,
                        figsize: tuple[float, float] = (5.0, 3.0), title: str | None = None) -> Figure:
    """Histograms of localization positions modulo ``period_nm`` (x and y pooled), one line each.

    A flat line at 1 (density relative to uniform) means no sub-pixel bias; peaks mean positions
    snap to parts of the pixel (the checkerboard artifact).
    """
    if not isinstance(locs, Mapping) or not locs:
        raise ValueError("locs must be a non-empty mapping of label -> Emitters")
    fig, ax = plt.subplots(figsize=figsize)
    centres = (np.arange(bins) + 0.5) / bins * period_nm
    for label, table in locs.items():
        if not isinstance(table, Emitters):
            raise TypeError(f"locs[{label!r}] must be an Emitters table, got {type(table).__name__}")
        bias = subpixel_bias(table, period_nm=period_nm, bins=bins)
        if bias.n == 0:
            continue
        ax.step(centres, bias.histogram / (bias.n / bins), where="mid",
                color=APPROACH_COLOURS.get(str(label).split()[0], None),
                label=f"{label}: χ²/dof = {bias.checkerboard:.1f}")
    ax.axhline(1.0, color="k", ls="--", lw=0.8)
    ax.set_xlabel(f"position modulo {period_nm:g} nm (nm)")
    ax.set_ylabel("density / uniform")
    ax.set_xlim(0, period_nm)
    ax.legend(fontsize=7, frameon=False)
    if title:
        ax.set_title(title)
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
    from .evaluate import axial_profile

    if not isinstance(locs, Mapping) or not locs:
        raise ValueError("locs must be a non-empty mapping of (row, snr) -> Emitters")
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
        for approach in ("csr", "helix"):
            if (approach, snr) in locs:
                prof = axial_profile(truth, locs[(approach, snr)], edges_nm)
                ax.plot(prof.z_mid_nm, prof.recall, "o-", color=APPROACH_COLOURS[approach], label=approach, zorder=3)
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


def _z_coloured(table: Emitters, field: Field, pixel_nm: float, sigma_nm: float, z_range: tuple[float, float],
                cmap) -> np.ndarray:
    """RGB image: hue from the local mean z, brightness from the localization density."""
    rec = render_gaussian(table, field=field, pixel_nm=pixel_nm, sigma_nm=sigma_nm)
    scale = np.percentile(rec.image[rec.image > 0], 99) if np.any(rec.image > 0) else 1.0
    brightness = np.clip(rec.image / scale, 0, 1)[..., None]
    colour = cmap(Normalize(*z_range)(np.nan_to_num(rec.z_nm)))[..., :3]
    return colour * brightness


def reconstruction_grid(locs: Mapping[tuple[str, str], Emitters], *, snrs: Sequence[str] | None = None,
                        rows: Sequence[str] = ("truth", "csr", "helix"), field: Field = Field(),
                        pixel_nm: float = 10.0, sigma_nm: float = 15.0,
                        z_range: tuple[float, float] = (-750.0, 750.0), cmap: str = "turbo",
                        panel_size: float = 3.0, title: str | None = None) -> Figure:
    """Figure-4-style reconstructions: rows = approaches (and the ground truth), columns = SNRs.

    Parameters
    ----------
    locs : mapping
        ``{(row, snr): Emitters}``, e.g. :attr:`structloc.study.StudyRun.locs` of :func:`structloc.study.run`.
    snrs : sequence of str, optional
        Columns (default: the SNRs present, high to low).
    rows : sequence of str
        Row labels; rows absent from ``locs`` are skipped.
    field, pixel_nm, sigma_nm :
        Rendering (:func:`structloc.render.render_gaussian`).
    z_range : (float, float)
        Axial range of the colour map, in nm.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not isinstance(locs, Mapping) or not locs:
        raise ValueError("locs must be a non-empty mapping of (approach, snr) -> Emitters")
    present = {snr for _, snr in locs}
    columns = [s for s in (snrs or SNR_PRESETS) if s in present]
    if snrs is not None and len(columns) != len(snrs):
        raise ValueError(f"SNR(s) {sorted(set(snrs) - present)} have no localizations")
    row_names = [r for r in rows if any((r, s) in locs for s in columns)]
    if not row_names:
        raise ValueError(f"none of the rows {list(rows)} has localizations")
    colour_map = plt.get_cmap(cmap)
    fig, axes = plt.subplots(len(row_names), len(columns), squeeze=False,
                             figsize=(panel_size * len(columns) + 0.8, panel_size * len(row_names)))
    extent = (0, field.width_nm / 1000, field.height_nm / 1000, 0)
    for i, row in enumerate(row_names):
        for j, snr in enumerate(columns):
            ax = axes[i, j]
            table = locs.get((row, snr))
            if table is not None:
                ax.imshow(_z_coloured(table, field, pixel_nm, sigma_nm, z_range, colour_map), extent=extent)
                ax.text(0.02, 0.02, f"{len(table)} locs", color="w", fontsize=7, transform=ax.transAxes)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(f"{snr} SNR")
            if j == 0:
                ax.set_ylabel("ground truth" if row == "truth" else f"{row} training")
    mappable = plt.cm.ScalarMappable(Normalize(*z_range), colour_map)
    fig.colorbar(mappable, ax=axes, shrink=0.6, label="z (nm)")
    if title:
        fig.suptitle(title)
    return fig
