"""Curves: PSF widths and drift vs z, precision limits, training histories, errors vs the bound.

Every figure takes plain arrays or computed results (training histories, :func:`errors_by_z`,
:class:`structloc.crlb.CRLB`) and returns the matplotlib ``Figure`` it drew; :func:`curves` is the
general labelled-curves figure that the density and noise chapters use; :func:`error_vs_bound`
sets errors beside each emitter's bound in its own frame (:func:`structloc.evaluate.bound_profile`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from ..emitters import Emitters
from ..evaluate import Matching
from .common import COLOURS, emitters_table, finite_array, label_colour, mapping, training_regime

__all__ = ["sigma_z_curves", "centre_drift", "crlb_curves", "curves", "training_curves", "errors_by_z",
           "rmse_vs_crlb", "error_vs_bound"]


def sigma_z_curves(
    z_nm,
    sigma_x_nm,
    sigma_y_nm,
    *,
    measured_z_nm=None,
    measured_x_nm=None,
    measured_y_nm=None,
    title: str | None = "Astigmatic PSF widths",
) -> Figure:
    """Model PSF widths vs z, with optional measured widths (calibration points).

    Parameters
    ----------
    z_nm, sigma_x_nm, sigma_y_nm : array_like
        Model curve: axial positions and Gaussian widths, all in nm.
    measured_z_nm, measured_x_nm, measured_y_nm : array_like, optional
        Measured widths (e.g. per-slice fits to a bead z-stack), in nm.

    Returns
    -------
    matplotlib.figure.Figure
    """
    z = np.asarray(z_nm, dtype=float)
    fig, ax = plt.subplots(figsize=(6.0, 4.0), constrained_layout=True)
    ax.plot(z, sigma_x_nm, color="#1f77b4", lw=2, label="σx model")
    ax.plot(z, sigma_y_nm, color="#d62728", lw=2, label="σy model")
    if measured_z_nm is not None:
        ax.plot(measured_z_nm, measured_x_nm, "o", ms=3, color="#1f77b4", alpha=0.45, label="σx measured")
        ax.plot(measured_z_nm, measured_y_nm, "o", ms=3, color="#d62728", alpha=0.45, label="σy measured")
    ax.set_xlabel("z (nm)")
    ax.set_ylabel("PSF width σ (nm)")
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    return fig


def centre_drift(
    z_nm,
    offset_x_nm,
    offset_y_nm,
    curve_z_nm,
    curve_x_nm,
    curve_y_nm,
    *,
    curve_err_x_nm=None,
    curve_err_y_nm=None,
    title: str | None = "PSF centre drift",
) -> Figure:
    """Offsets of bead image centres from the beads vs z, one panel per axis, with a fitted curve.

    Parameters
    ----------
    z_nm : array_like, shape (n_z,)
        Axial position of each frame, in nm.
    offset_x_nm, offset_y_nm : array_like, shape (n_z, n_beads)
        Fitted image centre minus bead position, in nm (one dot per bead and frame).
    curve_z_nm, curve_x_nm, curve_y_nm : array_like
        The drift curve, in nm (drawn as a line).
    curve_err_x_nm, curve_err_y_nm : array_like, optional
        Standard errors of the curve at ``curve_z_nm`` (drawn as a band of +-2 standard errors).

    Returns
    -------
    matplotlib.figure.Figure
    """
    z = np.asarray(z_nm, dtype=float)
    fig, axes = plt.subplots(1, 2, figsize=(10.0, 3.8), constrained_layout=True, sharex=True)
    panels = (("x", offset_x_nm, curve_x_nm, curve_err_x_nm, "#1f77b4"),
              ("y", offset_y_nm, curve_y_nm, curve_err_y_nm, "#d62728"))
    for ax, (axis, offsets, curve, err, colour) in zip(axes, panels):
        offsets = np.asarray(offsets, dtype=float).reshape(z.size, -1)
        ax.plot(np.repeat(z, offsets.shape[1]), offsets.ravel(), "o", ms=2.5, color=colour, alpha=0.3,
                label="one bead, one frame")
        ax.plot(curve_z_nm, curve, color="black", lw=1.8, label="fitted drift")
        if err is not None:
            centre, band = np.asarray(curve, dtype=float), 2 * np.asarray(err, dtype=float)
            ax.fill_between(curve_z_nm, centre - band, centre + band, color="black", alpha=0.2, lw=0,
                            label="± 2 standard errors")
        ax.set_xlabel("z (nm)")
        ax.set_ylabel(f"image centre − bead, {axis} (nm)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def crlb_curves(
    z_nm,
    bounds: Mapping[str, Sequence[np.ndarray]],
    *,
    axes_labels: Sequence[str] = ("x", "y", "z"),
    title: str | None = "Cramér-Rao lower bound",
    log: bool = True,
) -> Figure:
    """Localization precision limits vs z: one panel per coordinate, one curve per condition.

    Parameters
    ----------
    z_nm : array_like, shape (n,)
        Axial positions in nm.
    bounds : mapping of str -> (sx, sy, sz)
        Per condition (e.g. SNR preset), the square-root CRLB of x, y and z in nm, each shape (n,).
    axes_labels : sequence of str
        Names of the coordinates (one panel each).
    log : bool
        Logarithmic precision axis.

    Returns
    -------
    matplotlib.figure.Figure
    """
    bounds = mapping("bounds", bounds)
    z = np.asarray(z_nm, dtype=float)
    k = len(axes_labels)
    fig, axes = plt.subplots(1, k, figsize=(3.3 * k, 3.3), sharey=True, squeeze=False, constrained_layout=True)
    for i, (label, curves_) in enumerate(bounds.items()):
        if len(curves_) != k:
            raise ValueError(f"bounds[{label!r}] has {len(curves_)} curves for {k} coordinates")
        for j, curve in enumerate(curves_):
            curve = np.asarray(curve, dtype=float)
            if curve.shape != z.shape:
                raise ValueError(f"bounds[{label!r}][{j}] has shape {curve.shape}, z_nm has {z.shape}")
            axes[0, j].plot(z, curve, lw=2, color=label_colour(label, i), label=label)
    for j, name in enumerate(axes_labels):
        ax = axes[0, j]
        ax.set_title(f"√CRLB of {name}")
        ax.set_xlabel("z (nm)")
        ax.grid(alpha=0.3, which="both")
        if log:
            ax.set_yscale("log")
    axes[0, 0].set_ylabel("precision limit (nm)")
    axes[0, 0].legend()
    if title:
        fig.suptitle(title)
    return fig


def curves(
    x,
    ys: Mapping[str, np.ndarray],
    *,
    xlabel: str,
    ylabel: str,
    title: str | None = None,
    reference: tuple[np.ndarray, np.ndarray, str] | None = None,
    markers: Mapping[str, tuple[float, float]] | None = None,
    points: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    logx: bool = False,
    logy: bool = False,
) -> Figure:
    """Labelled curves y(x) on one axis, with an optional dashed reference and marked points.

    Parameters
    ----------
    x : array_like, shape (n,)
        Shared abscissa (give units in ``xlabel``).
    ys : mapping of str -> array, shape (n,)
        Curves by legend label.
    reference : (x, y, label), optional
        A dashed black reference curve (e.g. the CSR expectation).
    markers : mapping of str -> (x, y), optional
        Annotated points (e.g. a data set placed on a calibration curve).
    points : mapping of str -> (x array, y array), optional
        Measured values drawn as dots in the colour of the curve with the same label (e.g. a
        simulation beside its closed form); labels without a curve get their own colour.
    logx, logy : bool
        Logarithmic axes.

    Returns
    -------
    matplotlib.figure.Figure
    """
    ys = mapping("ys", ys)
    x = np.asarray(x, dtype=float)
    fig, ax = plt.subplots(figsize=(6.0, 4.0), constrained_layout=True)
    for i, (label, y) in enumerate(ys.items()):
        y = np.asarray(y, dtype=float)
        if y.shape != x.shape:
            raise ValueError(f"ys[{label!r}] has shape {y.shape}, x has {x.shape}")
        ax.plot(x, y, lw=2, color=label_colour(label, i), label=label)
    colours = {label: label_colour(label, i) for i, label in enumerate(ys)}
    for i, (label, (px, py)) in enumerate((points or {}).items()):
        colour = colours.get(label, COLOURS[(len(ys) + i) % len(COLOURS)])
        ax.plot(px, py, "o", ms=5, color=colour, alpha=0.8, label=f"{label} (measured)")
    if reference is not None:
        rx, ry, rlabel = reference
        ax.plot(rx, ry, "k--", lw=1.2, label=rlabel)
    for i, (label, (mx, my)) in enumerate((markers or {}).items()):
        ax.plot([mx], [my], "o", ms=7, color=COLOURS[(i + 2) % len(COLOURS)],
                markeredgecolor="k", label=label)
    if logx:
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
    if logy:
        ax.set_yscale("log")
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    if title:
        ax.set_title(title)
    return fig


def training_curves(
    histories: Mapping[str, Sequence[Mapping[str, float]]],
    *,
    x: str = "frames_seen",
    title: str | None = None,
) -> Figure:
    """Loss and validation metrics of one or more training runs.

    Parameters
    ----------
    histories : mapping of str -> list of dict
        Per run label, its ``history`` (:attr:`structloc.train.TrainResult.history`): one record
        per epoch with ``train_loss``, ``val_loss``, ``jaccard``, ``rmse_vol_nm`` and ``x``.
    x : str
        Record key on the horizontal axis: ``"frames_seen"`` (default), ``"step"`` or ``"wall_s"``.

    Returns
    -------
    matplotlib.figure.Figure
        Three panels: training (solid) and validation (dashed) loss, validation Jaccard index,
        validation RMSE_vol.
    """
    histories = mapping("histories", histories)
    needed = (x, "train_loss", "val_loss", "jaccard", "rmse_vol_nm")
    fig, axes = plt.subplots(1, 3, figsize=(12.0, 3.8), constrained_layout=True)
    used: list[str] = []
    for i, (label, history) in enumerate(histories.items()):
        if len(history) == 0:
            raise ValueError(f"histories[{label!r}] is empty: train for at least one epoch")
        missing = [k for k in needed if k not in history[0]]
        if missing:
            raise ValueError(f"histories[{label!r}] records lack {missing}")
        xs = np.array([r[x] for r in history], dtype=float)
        colour = label_colour(training_regime(label), i)
        if colour in used:  # two runs of one regime: keep them apart
            colour = next((c for c in COLOURS[2:] if c not in used), colour)
        used.append(colour)
        col = {k: np.array([np.nan if r[k] is None else r[k] for r in history], dtype=float) for k in needed[1:]}
        marker = "o" if len(xs) < 30 else None
        axes[0].plot(xs, col["train_loss"], "-", marker=marker, ms=3, color=colour, label=f"{label}: training")
        axes[0].plot(xs, col["val_loss"], "--", marker=marker, ms=3, color=colour, label=f"{label}: validation")
        axes[1].plot(xs, col["jaccard"], "-", marker=marker, ms=3, color=colour, label=label)
        axes[2].plot(xs, col["rmse_vol_nm"], "-", marker=marker, ms=3, color=colour, label=label)
    xlabel = {"frames_seen": "training frames seen", "step": "optimiser step", "wall_s": "wall time (s)"}.get(x, x)
    for ax, ylabel in zip(axes, ("loss (per camera pixel)", "validation Jaccard index", "validation RMSE_vol (nm)")):
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    axes[0].set_yscale("log")
    axes[1].set_ylim(0, 1)
    if x == "frames_seen" and any(len(h) > 1 for h in histories.values()):
        for ax in axes:
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())
    axes[0].yaxis.set_minor_formatter(NullFormatter())
    if title:
        fig.suptitle(title)
    return fig


def errors_by_z(
    truth: Emitters,
    pred: Emitters,
    matching: Matching,
    z_edges_nm,
) -> dict[str, np.ndarray]:
    """Root-mean-square errors of matched pairs in bins of their true z.

    Parameters
    ----------
    truth, pred : Emitters
        Ground truth and localizations that ``matching`` pairs.
    matching : Matching
        From :func:`structloc.evaluate.match`.
    z_edges_nm : array_like, shape (k + 1,)
        Increasing bin edges of the true z, in nm.

    Returns
    -------
    dict
        ``z_nm`` (bin centres), ``x_nm``, ``y_nm``, ``z_err_nm`` (RMSE per coordinate, NaN in
        empty bins), ``bias_z_nm`` (mean signed z error) and ``count`` (pairs per bin).
    """
    truth, pred = emitters_table("truth", truth), emitters_table("pred", pred)
    if not isinstance(matching, Matching):
        raise TypeError(f"matching must be a structloc.evaluate.Matching, got {type(matching).__name__}")
    edges = finite_array("z_edges_nm", z_edges_nm, 1)
    if edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError("z_edges_nm must hold at least two strictly increasing edges")
    ti, pi = matching.truth_index, matching.pred_index
    if ti.size and (ti.max() >= len(truth) or pi.max() >= len(pred)):
        raise ValueError("matching indexes rows beyond the truth or prediction table")
    z_true = truth.z_nm[ti]
    which = np.digitize(z_true, edges) - 1
    inside = (which >= 0) & (which < edges.size - 1)
    k = edges.size - 1
    count = np.bincount(which[inside], minlength=k).astype(float)
    out: dict[str, np.ndarray] = {"z_nm": 0.5 * (edges[1:] + edges[:-1]), "count": count}
    for key, column in (("x_nm", "x_nm"), ("y_nm", "y_nm"), ("z_err_nm", "z_nm")):
        err = getattr(pred, column)[pi] - getattr(truth, column)[ti]
        sq = np.bincount(which[inside], weights=err[inside] ** 2, minlength=k)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[key] = np.where(count > 0, np.sqrt(sq / np.maximum(count, 1)), np.nan)
        if key == "z_err_nm":
            total = np.bincount(which[inside], weights=err[inside], minlength=k)
            out["bias_z_nm"] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return out


def rmse_vs_crlb(
    binned: Mapping[str, Mapping[str, np.ndarray]],
    crlb_z_nm,
    bound: Any,
    *,
    title: str | None = None,
) -> Figure:
    """Measured RMSE of each model in bins of z beside the Cramer-Rao lower bound.

    Parameters
    ----------
    binned : mapping of str -> dict
        Per model label, the output of :func:`errors_by_z`.
    crlb_z_nm : array_like, shape (n,)
        Axial positions of the bound, in nm.
    bound : structloc.crlb.CRLB
        Bound evaluated at ``crlb_z_nm`` (``x_nm``, ``y_nm``, ``z_nm`` arrays).

    Returns
    -------
    matplotlib.figure.Figure
        Three panels (x, y, z): dashed black bound, one line with dots per model.
    """
    binned = mapping("binned", binned)
    zc = finite_array("crlb_z_nm", crlb_z_nm, 1)
    fig, axes = plt.subplots(1, 3, figsize=(11.0, 3.8), sharey=True, constrained_layout=True)
    for ax, coord, key in zip(axes, ("x", "y", "z"), ("x_nm", "y_nm", "z_err_nm")):
        limit = np.broadcast_to(np.asarray(getattr(bound, coord + "_nm"), dtype=float), zc.shape)
        ax.plot(zc, limit, "k--", lw=1.5, label="√CRLB (isolated emitter)")
        for i, (label, data) in enumerate(binned.items()):
            for needed in ("z_nm", key):
                if needed not in data:
                    raise ValueError(f"binned[{label!r}] lacks {needed!r} (expected errors_by_z output)")
            ax.plot(data["z_nm"], data[key], "o-", ms=4, color=label_colour(training_regime(label), i), label=label)
        ax.set_title(f"RMSE of {coord}")
        ax.set_xlabel("true z (nm)")
        ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("error (nm)")
    axes[0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def error_vs_bound(tables: Mapping[str, Any], *, title: str | None = None) -> Figure:
    """Each model's error by crowding group, in nm beside the bound and in units of the bound.

    Parameters
    ----------
    tables : mapping of str -> pandas.DataFrame
        Per model label, the output of :func:`structloc.evaluate.bound_profile` (same groups).

    Returns
    -------
    matplotlib.figure.Figure
        Two panels over the crowding groups (x labels: the factor range and the share of the
        emitters): left, RMSE_vol per model (bars, log y) with the median bound of the first
        table's matched emitters (black ticks; left out where most have none or it lies far above
        the bars); right, the error in units of each
        emitter's own bound, with lines at 1 (the bound) and 2.
    """
    tables = mapping("tables", tables)
    first = next(iter(tables.values()))
    for label, table in tables.items():
        for needed in ("rmse_vol_nm", "median_bound_nm", "error_over_bound", "share", "crowding_low", "crowding_high"):
            if needed not in table:
                raise ValueError(f"tables[{label!r}] lacks {needed!r} (expected bound_profile output)")
        if len(table) != len(first) or not np.array_equal(table["crowding_low"], first["crowding_low"]):
            raise ValueError("every table must have the same crowding groups")
    names = [f"{lo:g}–{'∞' if not np.isfinite(hi) else f'{hi:g}'}\n{share:.0%}"
             for lo, hi, share in zip(first["crowding_low"], first["crowding_high"], first["share"])]
    x = np.arange(len(names))
    width = 0.8 / len(tables)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.5, 3.9), constrained_layout=True)
    top = 1.0
    for i, (label, table) in enumerate(tables.items()):
        colour = label_colour(training_regime(label), i)
        offset = (i - (len(tables) - 1) / 2) * width
        left.bar(x + offset, table["rmse_vol_nm"], width, color=colour, label=label)
        right.bar(x + offset, table["error_over_bound"], width, color=colour, label=label)
        top = max(top, float(np.nanmax(np.r_[table["rmse_vol_nm"], 1.0])))
    bound = np.asarray(first["median_bound_nm"], float)
    shown = np.isfinite(bound) & (bound < 3 * top)
    left.scatter(x[shown], bound[shown], marker="_", s=600, color="k", lw=2, zorder=3,
                 label="bound in the frame (median)")
    left.set_yscale("log")
    left.set_ylabel("RMSE_vol (nm)")
    right.axhline(1.0, color="k", ls="--", lw=1, label="the bound")
    right.axhline(2.0, color="k", ls=":", lw=1, label="twice the bound")
    right.set_ylabel("error / bound (rms)")
    for ax in (left, right):
        ax.set_xticks(x, names)
        ax.set_xlabel("crowding factor (share of emitters)")
        ax.grid(alpha=0.3, axis="y", which="both")
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig
