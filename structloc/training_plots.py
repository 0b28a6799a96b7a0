"""Figures for the CNN chapters: targets on the 4x grid, training curves, evaluation figures.

Like :mod:`structloc.plotting`, every figure function takes plain data (arrays in photons or nm,
:class:`~structloc.emitters.Emitters` tables, training histories, results of
:mod:`structloc.evaluate`, :mod:`structloc.crlb` and :mod:`structloc.render`) and returns the
matplotlib ``Figure`` it drew. Two small pure helpers prepare data for display only:
:func:`z_colour_image` (brightness = amplitude, hue = z) and :func:`errors_by_z` (binned
localization errors of matched pairs, to set beside the Cramer-Rao bound).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from .emitters import Emitters
from .evaluate import Matching
from .field import Field
from .plotting import PALETTE

__all__ = [
    "Z_CMAP",
    "z_colour_image",
    "grid_z_nm",
    "target_channels",
    "prediction_vs_truth",
    "training_curves",
    "localizations_on_frame",
    "metric_bars",
    "errors_by_z",
    "rmse_vs_crlb",
    "reconstructions_z",
    "checkerboard_histograms",
]

#: Colour map for z throughout the CNN chapters (blue below focus, red above).
Z_CMAP = "turbo"
_MODEL_COLOURS = ["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]


def _model_colour(label: str, index: int) -> str:
    """Red for structure/helix-trained models, blue for CSR-trained ones, else a cycle."""
    low = str(label).lower()
    if "helix" in low or "structure" in low:
        return PALETTE["structure"]
    if "csr" in low:
        return PALETTE["csr"]
    if "truth" in low:
        return "#333333"
    return _MODEL_COLOURS[index % len(_MODEL_COLOURS)]


def _array(name: str, value: Any, ndim: int) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    array = np.asarray(value, dtype=float)
    if array.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def _mapping(name: str, value: Any) -> Mapping:
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping of label -> data, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{name} is empty: give at least one labelled entry")
    return value


def _emitters(name: str, value: Any) -> Emitters:
    if not isinstance(value, Emitters):
        raise TypeError(f"{name} must be a structloc.Emitters table, got {type(value).__name__}")
    return value


def _window(window_nm: Sequence[float] | None, field: Field) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) in nm, validated; the whole field when None."""
    if window_nm is None:
        return 0.0, field.width_nm, 0.0, field.height_nm
    if len(window_nm) != 4:
        raise ValueError(f"window_nm must be (x0, x1, y0, y1) in nm, got {window_nm!r}")
    x0, x1, y0, y1 = (float(v) for v in window_nm)
    if not all(map(math.isfinite, (x0, x1, y0, y1))) or x0 >= x1 or y0 >= y1:
        raise ValueError(f"window_nm must satisfy x0 < x1 and y0 < y1 (finite nm), got {window_nm!r}")
    return x0, x1, y0, y1


# -- pure display helpers ------------------------------------------------------------------------
def z_colour_image(
    amplitude,
    z_nm,
    *,
    z_range_nm: tuple[float, float] = (-750.0, 750.0),
    cmap: str = Z_CMAP,
    vmax: float | None = None,
    gamma: float = 1.0,
) -> np.ndarray:
    """RGB image whose brightness is ``amplitude`` and whose colour is ``z_nm``.

    Parameters
    ----------
    amplitude : array_like, shape (H, W)
        Non-negative intensity (blob amplitude, localization density, ...).
    z_nm : array_like, shape (H, W)
        Axial position in nm per pixel; NaN where undefined (drawn black).
    z_range_nm : (float, float)
        z mapped to the two ends of the colour map, in nm.
    cmap : str
        Matplotlib colour map for z.
    vmax : float, optional
        Amplitude shown at full brightness (default: the maximum; larger values saturate).
    gamma : float
        Brightness = (amplitude / vmax) ** gamma; below 1 lifts faint structures.

    Returns
    -------
    np.ndarray, shape (H, W, 3)
        RGB values in [0, 1].
    """
    amp = np.asarray(amplitude, dtype=float)
    z = np.asarray(z_nm, dtype=float)
    if amp.ndim != 2 or z.shape != amp.shape:
        raise ValueError(f"amplitude and z_nm must be 2-D arrays of one shape, got {amp.shape} and {z.shape}")
    if not np.all(np.isfinite(amp)):
        raise ValueError("amplitude contains NaN or infinite values")
    lo, hi = (float(v) for v in z_range_nm)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"z_range_nm must be (low, high) with low < high, got {z_range_nm!r}")
    if not (math.isfinite(gamma) and gamma > 0):
        raise ValueError(f"gamma must be positive and finite, got {gamma!r}")
    top = float(amp.max()) if vmax is None else float(vmax)
    if not math.isfinite(top) or top <= 0:
        top = 1.0
    brightness = np.clip(amp / top, 0.0, 1.0) ** gamma
    colour = colormaps[cmap](np.clip((np.nan_to_num(z, nan=lo) - lo) / (hi - lo), 0.0, 1.0))[..., :3]
    return colour * (brightness * np.isfinite(z))[..., None]


def grid_z_nm(grid, field: Field = Field()) -> tuple[np.ndarray, np.ndarray]:
    """Amplitude ``sqrt(c^2 + s^2)`` and z (nm) per bin of one target/output grid.

    Parameters
    ----------
    grid : array_like, shape (3, R, C) or (2, R, C)
        Channels ``A cos(phi)``, ``A sin(phi)`` (and the photon channel, ignored).
    field : Field
        Gives the axial range that the phase [0, pi] spans.

    Returns
    -------
    amplitude, z_nm : np.ndarray, shape (R, C)
    """
    grid = _array("grid", grid, 3)
    if grid.shape[0] < 2:
        raise ValueError(f"grid needs the A cos and A sin channels first, got shape {grid.shape}")
    c, s = grid[0], grid[1]
    phase = np.arctan2(s, c)
    phase = np.clip(np.where(phase < -np.pi / 2, phase + 2 * np.pi, phase), 0.0, np.pi)
    return np.hypot(c, s), field.z_min_nm + phase / np.pi * field.depth_nm


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
    truth, pred = _emitters("truth", truth), _emitters("pred", pred)
    if not isinstance(matching, Matching):
        raise TypeError(f"matching must be a structloc.evaluate.Matching, got {type(matching).__name__}")
    edges = _array("z_edges_nm", z_edges_nm, 1)
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


# -- chapter 4: targets and training -------------------------------------------------------------
def _frame_panel(ax, frame: np.ndarray, field: Field, window, cmap: str = "magma") -> None:
    h, w = frame.shape
    ax.imshow(frame, cmap=cmap, extent=(0, w * field.pixel_nm, h * field.pixel_nm, 0), interpolation="nearest")
    _apply_window(ax, window)


def _apply_window(ax, window: tuple[float, float, float, float]) -> None:
    """Show only ``window`` = (x0, x1, y0, y1) in nm, y pointing down as in images."""
    ax.set_xlim(window[0], window[1])
    ax.set_ylim(window[3], window[2])


def _field_extent(field: Field) -> tuple[float, float, float, float]:
    """imshow extent (left, right, bottom, top) in nm of an image covering the whole field."""
    return 0.0, field.width_nm, field.height_nm, 0.0


def _mark(ax, table: Emitters | None, window, *, style: str, colour: str, label: str) -> None:
    if table is None or len(table) == 0:
        return
    keep = (table.x_nm >= window[0]) & (table.x_nm <= window[1]) & (table.y_nm >= window[2]) & (table.y_nm <= window[3])
    if style == "o":
        # wide, thin rings: the small target blobs stay visible inside them
        ax.scatter(table.x_nm[keep], table.y_nm[keep], s=160, facecolors="none", edgecolors=colour,
                   linewidths=0.8, label=label)
    else:
        ax.scatter(table.x_nm[keep], table.y_nm[keep], s=40, marker="x", color=colour, linewidths=1.4, label=label)


def _finish_nm_axes(ax, title: str) -> None:
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("x (nm)")
    ax.set_aspect("equal")


def _z_grid_panel(fig, ax, grid: np.ndarray, field: Field, window, title: str, *, colorbar: bool) -> None:
    """One upsampled grid drawn as amplitude (brightness, 1 = full) and z from the phase (colour)."""
    amplitude, z = grid_z_nm(grid, field)
    ax.imshow(z_colour_image(amplitude, z, z_range_nm=(field.z_min_nm, field.z_max_nm), vmax=1.0),
              extent=_field_extent(field), interpolation="nearest")
    _apply_window(ax, window)
    _finish_nm_axes(ax, title)
    if colorbar:
        fig.colorbar(ScalarMappable(Normalize(field.z_min_nm, field.z_max_nm), Z_CMAP), ax=ax,
                     shrink=0.8).set_label("z (nm)")


def target_channels(
    frame_photons,
    target,
    *,
    field: Field = Field(),
    truth: Emitters | None = None,
    window_nm: Sequence[float] | None = None,
    title: str | None = None,
) -> Figure:
    """A camera frame beside its target grid: ``A cos(phi)``, ``A sin(phi)``, amplitude coloured by z.

    Parameters
    ----------
    frame_photons : array_like, shape (H, W)
        The camera frame (photon units).
    target : array_like, shape (3, H * up, W * up)
        Its target grid (:func:`structloc.targets.encode`, one frame).
    field : Field
        Geometry (pixel size, axial range).
    truth : Emitters, optional
        True emitters of the frame, marked on every panel.
    window_nm : (x0, x1, y0, y1), optional
        Region to show, in nm (default the whole field); a small window shows the 4x grid's bins.

    Returns
    -------
    matplotlib.figure.Figure
    """
    frame = _array("frame_photons", frame_photons, 2)
    grid = _array("target", target, 3)
    if grid.shape[0] != 3:
        raise ValueError(f"target must have 3 channels (A cos, A sin, photons), got shape {grid.shape}")
    window = _window(window_nm, field)
    extent = _field_extent(field)
    fig, grid_axes = plt.subplots(2, 2, figsize=(10.0, 8.8), constrained_layout=True)
    axes = grid_axes.ravel()  # 2 x 2 so that each panel stays legible at page width
    _frame_panel(axes[0], frame, field, window)
    _finish_nm_axes(axes[0], f"camera frame ({field.pixel_nm:g} nm pixels)")
    bin_nm = field.pixel_nm * field.width_px / grid.shape[2]
    for ax, channel, name in ((axes[1], grid[0], "A cos φ"), (axes[2], grid[1], "A sin φ")):
        image = ax.imshow(channel, cmap="RdBu_r", vmin=-1, vmax=1, extent=extent, interpolation="nearest")
        _apply_window(ax, window)
        _finish_nm_axes(ax, f"target: {name} ({bin_nm:g} nm bins)")
        fig.colorbar(image, ax=ax, shrink=0.8)
    _z_grid_panel(fig, axes[3], grid, field, window, "amplitude A, colour = z from φ", colorbar=True)
    for ax in axes:
        _mark(ax, truth, window, style="o", colour="#00e5ff", label="truth")
    axes[0].set_ylabel("y (nm)")
    axes[2].set_ylabel("y (nm)")
    if title:
        fig.suptitle(title)
    return fig


def prediction_vs_truth(
    frame_photons,
    target,
    output,
    *,
    field: Field = Field(),
    truth: Emitters | None = None,
    pred: Emitters | None = None,
    window_nm: Sequence[float] | None = None,
    title: str | None = None,
) -> Figure:
    """A frame with true and predicted positions, and the target and network grids side by side.

    Parameters
    ----------
    frame_photons : array_like, shape (H, W)
        The camera frame (photon units).
    target, output : array_like, shape (3, H * up, W * up)
        Target grid and network output for that frame (grid-head channels, or a mixture head's
        :func:`structloc.mixture.phase_image`); the two may have different ``up``.
    field : Field
        Geometry.
    truth, pred : Emitters, optional
        True emitters (circles) and decoded localizations (crosses) of the frame.
    window_nm : (x0, x1, y0, y1), optional
        Region to show in nm.

    Returns
    -------
    matplotlib.figure.Figure
    """
    frame = _array("frame_photons", frame_photons, 2)
    target = _array("target", target, 3)
    output = _array("output", output, 3)
    for name, grid in (("target", target), ("output", output)):
        if grid.shape[1] * field.width_px != grid.shape[2] * field.height_px:
            raise ValueError(f"{name} grid {grid.shape[1:]} does not have the field's aspect "
                             f"({field.height_px} x {field.width_px} px)")
    window = _window(window_nm, field)
    fig, axes = plt.subplots(1, 3, figsize=(12.0, 4.3), constrained_layout=True)
    _frame_panel(axes[0], frame, field, window)
    _mark(axes[0], truth, window, style="o", colour="#00e5ff", label="truth")
    _mark(axes[0], pred, window, style="x", colour="#7CFC00", label="CNN")
    _finish_nm_axes(axes[0], "frame: truth (○) and CNN (×)")
    axes[0].set_ylabel("y (nm)")
    if (truth is not None and len(truth)) or (pred is not None and len(pred)):
        axes[0].legend(loc="lower right", fontsize=8, facecolor="#222222", labelcolor="white")
    _z_grid_panel(fig, axes[1], target, field, window, "target: A, colour = z", colorbar=False)
    _z_grid_panel(fig, axes[2], output, field, window, "network output: A, colour = z", colorbar=True)
    if title:
        fig.suptitle(title)
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
    histories = _mapping("histories", histories)
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
        colour = _model_colour(label, i)
        if colour in used:  # two runs of one regime: keep them apart
            colour = next((c for c in _MODEL_COLOURS[2:] if c not in used), colour)
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


# -- chapter 5: evaluation -----------------------------------------------------------------------
def localizations_on_frame(
    frame_photons,
    truth: Emitters,
    preds: Mapping[str, Emitters],
    *,
    field: Field = Field(),
    window_nm: Sequence[float] | None = None,
    title: str | None = None,
) -> Figure:
    """One frame per model, with the true emitters (circles) and that model's localizations (crosses).

    Parameters
    ----------
    frame_photons : array_like, shape (H, W)
        Camera frame in photon units.
    truth : Emitters
        True emitters of this frame.
    preds : mapping of str -> Emitters
        Localizations of this frame by model label.
    window_nm : (x0, x1, y0, y1), optional
        Region to show in nm.

    Returns
    -------
    matplotlib.figure.Figure
    """
    frame = _array("frame_photons", frame_photons, 2)
    truth = _emitters("truth", truth)
    preds = _mapping("preds", preds)
    window = _window(window_nm, field)
    n = len(preds)
    fig, axes = plt.subplots(1, n, figsize=(5.0 * n, 5.0), squeeze=False, constrained_layout=True)
    for i, (label, pred) in enumerate(preds.items()):
        pred = _emitters(f"preds[{label!r}]", pred)
        ax = axes[0, i]
        _frame_panel(ax, frame, field, window, cmap="gray")
        _mark(ax, truth, window, style="o", colour="#00e5ff", label=f"truth ({len(truth)})")
        _mark(ax, pred, window, style="x", colour=_model_colour(label, i), label=f"{label} ({len(pred)})")
        _finish_nm_axes(ax, label)
        ax.legend(loc="lower right", fontsize=8)
    axes[0, 0].set_ylabel("y (nm)")
    if title:
        fig.suptitle(title)
    return fig


_METRIC_LABELS = {
    "jaccard": "Jaccard index", "rmse_lat_nm": "RMSE lateral (nm)", "rmse_ax_nm": "RMSE axial (nm)",
    "rmse_vol_nm": "RMSE volumetric (nm)", "efficiency_3d": "3D efficiency", "efficiency_lat": "lateral efficiency",
    "efficiency_ax": "axial efficiency", "precision": "precision", "recall": "recall",
}


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
    intervals = _mapping("intervals", intervals)
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
            ax.bar(i, est, color=_model_colour(label, i), alpha=0.85, yerr=err, capsize=6)
            ax.annotate(f"{est:.3f}" if abs(est) < 10 else f"{est:.1f}", (i, est), ha="left",
                        va="bottom" if est >= 0 else "top", fontsize=8, xytext=(9, 2 if est >= 0 else -2),
                        textcoords="offset points")
        ax.set_xticks(range(len(labels)), labels, rotation=20)
        ax.set_title(_METRIC_LABELS.get(metric, metric), fontsize=10)
        ax.grid(alpha=0.3, axis="y")
        if metric in ("jaccard", "precision", "recall"):
            ax.set_ylim(0, 1.05)
    if title:
        fig.suptitle(title)
    return fig


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
    binned = _mapping("binned", binned)
    zc = _array("crlb_z_nm", crlb_z_nm, 1)
    fig, axes = plt.subplots(1, 3, figsize=(11.0, 3.8), sharey=True, constrained_layout=True)
    for ax, coord, key in zip(axes, ("x", "y", "z"), ("x_nm", "y_nm", "z_err_nm")):
        limit = np.broadcast_to(np.asarray(getattr(bound, coord + "_nm"), dtype=float), zc.shape)
        ax.plot(zc, limit, "k--", lw=1.5, label="√CRLB (isolated emitter)")
        for i, (label, data) in enumerate(binned.items()):
            for needed in ("z_nm", key):
                if needed not in data:
                    raise ValueError(f"binned[{label!r}] lacks {needed!r} (expected errors_by_z output)")
            ax.plot(data["z_nm"], data[key], "o-", ms=4, color=_model_colour(label, i), label=label)
        ax.set_title(f"RMSE of {coord}")
        ax.set_xlabel("true z (nm)")
        ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("error (nm)")
    axes[0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def reconstructions_z(
    reconstructions: Mapping[str, Any],
    *,
    z_range_nm: tuple[float, float] = (-750.0, 750.0),
    window_nm: Sequence[float] | None = None,
    gamma: float = 0.6,
    saturate_quantile: float = 0.995,
    title: str | None = None,
) -> Figure:
    """Super-resolution reconstructions side by side, brightness = density and colour = z.

    Parameters
    ----------
    reconstructions : mapping of str -> Reconstruction
        From :func:`structloc.render.render_gaussian` (or ``render_histogram``), by label.
    z_range_nm : (float, float)
        z mapped to the ends of the colour map.
    window_nm : (x0, x1, y0, y1), optional
        Region to show in nm (a zoom).
    gamma : float
        Brightness exponent (below 1 lifts faint structures).
    saturate_quantile : float
        Quantile of the non-zero density shown at full brightness (in (0, 1]).

    Returns
    -------
    matplotlib.figure.Figure
    """
    reconstructions = _mapping("reconstructions", reconstructions)
    if not 0 < saturate_quantile <= 1:
        raise ValueError(f"saturate_quantile must be in (0, 1], got {saturate_quantile!r}")
    n = len(reconstructions)
    fig, axes = plt.subplots(1, n, figsize=(4.8 * n + 0.8, 5.0), squeeze=False, constrained_layout=True)
    for i, (label, rec) in enumerate(reconstructions.items()):
        image = _array(f"reconstructions[{label!r}].image", getattr(rec, "image", None), 2)
        nonzero = image[image > 0]
        vmax = float(np.quantile(nonzero, saturate_quantile)) if nonzero.size else 1.0
        rgb = z_colour_image(image, rec.z_nm, z_range_nm=z_range_nm, vmax=vmax, gamma=gamma)
        ax = axes[0, i]
        ax.imshow(rgb, extent=rec.extent_nm(), interpolation="nearest")
        if window_nm is not None:
            _apply_window(ax, _window(window_nm, Field()))
        ax.set_facecolor("black")
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("x (nm)")
    axes[0, 0].set_ylabel("y (nm)")
    fig.colorbar(ScalarMappable(Normalize(*z_range_nm), Z_CMAP), ax=axes[0, -1], shrink=0.8).set_label("z (nm)")
    if title:
        fig.suptitle(title)
    return fig


def checkerboard_histograms(
    biases: Mapping[str, Sequence[Any]],
    *,
    title: str | None = None,
) -> Figure:
    """Histograms of localization positions modulo grid periods, one panel per period.

    Parameters
    ----------
    biases : mapping of str -> sequence of SubpixelBias
        Per label (ground truth, each model), :func:`structloc.render.subpixel_bias` results for
        the same periods in the same order (e.g. 100 nm camera pixels and 25 nm output bins).

    Returns
    -------
    matplotlib.figure.Figure
        Normalised histograms (1 = uniform, dashed) with each label's checkerboard index
        (chi-square per degree of freedom; about 1 without bias).
    """
    biases = _mapping("biases", biases)
    lengths = {len(v) for v in biases.values()}
    if len(lengths) != 1 or 0 in lengths:
        raise ValueError("every entry of biases needs the same, non-zero number of SubpixelBias results")
    first = next(iter(biases.values()))
    periods = [b.period_nm for b in first]
    for label, entries in biases.items():
        if [b.period_nm for b in entries] != periods:
            raise ValueError(f"biases[{label!r}] has periods {[b.period_nm for b in entries]}, expected {periods}")
    fig, axes = plt.subplots(1, len(periods), figsize=(6.0 * len(periods), 3.8), squeeze=False,
                             constrained_layout=True)
    for j, period in enumerate(periods):
        ax = axes[0, j]
        for i, (label, entries) in enumerate(biases.items()):
            b = entries[j]
            hist = np.asarray(b.histogram, dtype=float)
            k = hist.size
            density = hist / max(b.n, 1) * k
            edges = np.linspace(0.0, 1.0, k + 1)
            ax.stairs(density, edges, lw=2, color=_model_colour(label, i),
                      label=f"{label}: index {b.checkerboard:.1f}" if np.isfinite(b.checkerboard) else f"{label}: empty")
        ax.axhline(1.0, color="k", ls="--", lw=1, label="uniform (no bias)")
        ax.set_xlabel(f"(position mod {period:g} nm) / {period:g} nm")
        ax.set_ylabel("relative frequency")
        ax.set_title(f"period {period:g} nm")
        ax.set_xlim(0, 1)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig
