"""Reusable figures for the book: point clouds, frame galleries, PSF montages and curves.

Every function takes plain arrays (positions in nm, frames in photons or ADU) and returns the
matplotlib ``Figure`` it drew, so a chapter cell is one call and tests can inspect the artists.
Nothing here computes physics; it only draws what the other modules computed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

__all__ = [
    "PALETTE",
    "point_clouds_3d",
    "frame_gallery",
    "z_montage",
    "sigma_z_curves",
    "centre_drift",
    "crlb_curves",
    "distributions",
    "curves",
]

#: Colours used for the two training regimes and the three signal levels throughout the book.
PALETTE: dict[str, str] = {
    "csr": "#1f77b4",
    "structure": "#d62728",
    "high": "#2ca02c",
    "medium": "#ff7f0e",
    "low": "#9467bd",
}

_DEFAULT_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"]


def _colour(label: str, index: int) -> str:
    return PALETTE.get(str(label).lower(), _DEFAULT_COLOURS[index % len(_DEFAULT_COLOURS)])


def _points(name: str, values) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 2 or array.shape[1] != 3:
        raise ValueError(f"{name} must be an (n, 3) array of x, y, z in nm, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite positions")
    return array


def _mapping(name: str, value) -> Mapping:
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping of label -> data, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{name} is empty: give at least one labelled data set")
    return value


def point_clouds_3d(
    clouds: Mapping[str, np.ndarray],
    *,
    sizes: Mapping[str, float] | None = None,
    alphas: Mapping[str, float] | None = None,
    title: str | None = None,
    ncols: int = 1,
    panels: Sequence[Sequence[str]] | None = None,
    panel_titles: Sequence[str] | None = None,
    figsize: tuple[float, float] | None = None,
    elev: float = 25.0,
    azim: float = -60.0,
    equal_aspect: bool = False,
    legend: bool = True,
) -> Figure:
    """3D scatter plots of labelled point sets, positions in nm (drawn in um).

    Parameters
    ----------
    clouds : mapping of str -> array, shape (n, 3)
        Point sets (x, y, z in nm) by legend label.
    sizes, alphas : mapping of str -> float, optional
        Marker size and opacity per label (defaults: 2 and 0.6).
    title : str, optional
        Figure title.
    panels : sequence of sequences of labels, optional
        Which labels go in which 3D panel (default: all labels in one panel).
    panel_titles : sequence of str, optional
        One title per panel.
    ncols : int
        Panels per row.
    elev, azim : float
        Viewing angles in degrees.
    equal_aspect : bool
        Draw x, y and z to the same scale (a helix then looks like a helix); by default each
        axis is stretched to fill the box.
    legend : bool
        Show a legend with each label and its number of points.

    Returns
    -------
    matplotlib.figure.Figure
    """
    clouds = _mapping("clouds", clouds)
    data = {label: _points(f"clouds[{label!r}]", pts) for label, pts in clouds.items()}
    panels = [list(data)] if panels is None else [list(p) for p in panels]
    for panel in panels:
        for label in panel:
            if label not in data:
                raise ValueError(f"panel label {label!r} is not one of the clouds {list(data)}")
    if panel_titles is not None and len(panel_titles) != len(panels):
        raise ValueError(f"panel_titles has {len(panel_titles)} entries for {len(panels)} panels")
    ncols = max(1, min(int(ncols), len(panels)))
    nrows = -(-len(panels) // ncols)
    fig = plt.figure(figsize=figsize or (5.2 * ncols, 4.6 * nrows))
    order = {label: i for i, label in enumerate(data)}
    for k, panel in enumerate(panels):
        ax = fig.add_subplot(nrows, ncols, k + 1, projection="3d")
        for label in panel:
            pts = data[label] / 1000.0
            ax.scatter(
                pts[:, 0], pts[:, 1], pts[:, 2], s=(sizes or {}).get(label, 2.0),
                alpha=(alphas or {}).get(label, 0.6), color=_colour(label, order[label]),
                label=f"{label} ({len(pts)})", depthshade=False, linewidths=0,
            )
        ax.set_xlabel("x (µm)")
        ax.set_ylabel("y (µm)")
        ax.set_zlabel("z (µm)")
        ax.invert_yaxis()  # y points down in images
        ax.view_init(elev=elev, azim=azim)
        if equal_aspect and panel:
            stacked = np.concatenate([data[label] for label in panel]) / 1000.0
            spans = np.ptp(stacked, axis=0) if len(stacked) else np.ones(3)
            ax.set_box_aspect(np.maximum(spans, 1e-3 * max(spans.max(), 1e-9)))
        if legend:
            ax.legend(loc="upper left", fontsize=8, markerscale=4)
        if panel_titles is not None:
            ax.set_title(panel_titles[k])
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def frame_gallery(
    frames,
    *,
    titles: Sequence[str] | None = None,
    emitters_px: Sequence[np.ndarray] | None = None,
    ncols: int = 4,
    cmap: str = "magma",
    colorbar_label: str = "photons",
    panel_size: float = 2.8,
    shared_scale: bool = False,
    title: str | None = None,
) -> Figure:
    """A grid of camera frames, optionally with true emitter positions on top.

    Parameters
    ----------
    frames : array_like, shape (n, H, W) or (H, W)
        Images (photons, ADU, ...); torch tensors are accepted.
    titles : sequence of str, optional
        One title per frame.
    emitters_px : sequence of arrays, shape (k, 2), optional
        Per frame, the (column, row) pixel coordinates of emitters to mark (x_nm / pixel_nm, ...).
        Marker centres follow the convention that pixel (0, 0) spans [0, 1) x [0, 1).
    ncols : int
        Frames per row.
    cmap : str
        Matplotlib colour map.
    colorbar_label : str
        Label of the colour bar(s).
    shared_scale : bool
        One colour scale for all frames (else each frame is scaled to its own range).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    stack = np.asarray(frames.detach().cpu() if hasattr(frames, "detach") else frames, dtype=float)
    if stack.ndim == 2:
        stack = stack[None]
    if stack.ndim != 3 or stack.shape[0] == 0:
        raise ValueError(f"frames must have shape (n, H, W) with n >= 1, got {stack.shape}")
    if not np.all(np.isfinite(stack)):
        raise ValueError("frames contain NaN or infinite values")
    n = stack.shape[0]
    if titles is not None and len(titles) != n:
        raise ValueError(f"titles has {len(titles)} entries for {n} frames")
    if emitters_px is not None and len(emitters_px) != n:
        raise ValueError(f"emitters_px has {len(emitters_px)} entries for {n} frames")
    ncols = max(1, min(int(ncols), n))
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size * ncols + 0.6, panel_size * nrows),
                             squeeze=False, constrained_layout=True)
    vmin, vmax = (stack.min(), stack.max()) if shared_scale else (None, None)
    h, w = stack.shape[1:]
    image = None
    for k, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if k >= n:
            ax.set_visible(False)
            continue
        image = ax.imshow(stack[k], cmap=cmap, vmin=vmin, vmax=vmax, extent=(0, w, h, 0),
                          interpolation="nearest")
        if emitters_px is not None:
            pts = np.asarray(emitters_px[k], dtype=float).reshape(-1, 2)
            ax.scatter(pts[:, 0], pts[:, 1], s=14, facecolors="none", edgecolors="#00e5ff", linewidths=0.8)
            ax.set_xlim(0, w)
            ax.set_ylim(h, 0)
        if titles is not None:
            ax.set_title(titles[k], fontsize=9)
        if not shared_scale:
            fig.colorbar(image, ax=ax, shrink=0.8).set_label(colorbar_label, fontsize=8)
    if shared_scale and image is not None:
        fig.colorbar(image, ax=axes, shrink=0.8).set_label(colorbar_label)
    if title:
        fig.suptitle(title)
    return fig


def z_montage(
    measured,
    model,
    z_nm: Sequence[float],
    *,
    pixel_nm: float = 100.0,
    cmap: str = "magma",
    title: str | None = None,
) -> Figure:
    """Bead images vs PSF model(s) at a few axial positions: rows measured, model(s), residual(s).

    Parameters
    ----------
    measured : array_like, shape (n, H, W)
        Measured bead crops.
    model : array_like, shape (n, H, W), or mapping of str -> such arrays
        The model's expected images at the same z (same units); several models by row label
        (one image row and one residual row each, residuals on one shared colour scale).
    z_nm : sequence of float, length n
        Axial position of each column, in nm.
    pixel_nm : float
        Pixel size in nm (for the scale bar).

    Returns
    -------
    matplotlib.figure.Figure
    """
    measured = np.asarray(measured, dtype=float)
    single = not isinstance(model, Mapping)
    models = {"model": model} if single else dict(model)
    models = {label: np.asarray(images, dtype=float) for label, images in models.items()}
    for label, images in models.items():
        if measured.ndim != 3 or measured.shape != images.shape:
            raise ValueError(f"measured and {label} must both have shape (n, H, W); "
                             f"got {measured.shape} and {images.shape}")
    if len(z_nm) != measured.shape[0] or measured.shape[0] == 0:
        raise ValueError(f"z_nm has {len(z_nm)} entries for {measured.shape[0]} images")
    n, h, w = measured.shape
    residuals = {label: measured - images for label, images in models.items()}
    rmax = max(float(np.abs(r).max()) for r in residuals.values()) or 1.0
    brightest = np.max([measured.max(axis=(1, 2))] + [m.max(axis=(1, 2)) for m in models.values()], axis=0)
    rows = [("bead", measured, cmap, None)]
    rows += [(label, images, cmap, None) for label, images in models.items()]
    rows += [("residual" if single else f"{label} residual", r, "RdBu_r", rmax) for label, r in residuals.items()]
    fig, axes = plt.subplots(len(rows), n, figsize=(1.5 * n + 1.2, 1.63 * len(rows)), squeeze=False,
                             constrained_layout=True)
    for r, (label, stack, row_cmap, symmetric) in enumerate(rows):
        for c in range(n):
            ax = axes[r, c]
            lo, hi = (-symmetric, symmetric) if symmetric is not None else (0.0, float(brightest[c]))
            image = ax.imshow(stack[c], cmap=row_cmap, vmin=lo, vmax=hi, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"z = {z_nm[c]:+.0f} nm", fontsize=9)
            if c == 0:
                ax.set_ylabel(label, fontsize=9)
    first_residual = 1 + len(models)
    fig.colorbar(image, ax=axes[first_residual:, :], shrink=0.9, label="residual")
    bar_px = 500.0 / pixel_nm
    axes[0, 0].plot([1, 1 + bar_px], [h - 2, h - 2], color="white", lw=2)
    axes[0, 0].text(1 + bar_px / 2, h - 3, "500 nm", color="white", ha="center", va="bottom", fontsize=7)
    if title:
        fig.suptitle(title)
    return fig


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
    bounds = _mapping("bounds", bounds)
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
            axes[0, j].plot(z, curve, lw=2, color=_colour(label, i), label=label)
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


def distributions(
    samples: Mapping[str, np.ndarray],
    *,
    bins: int | np.ndarray = 40,
    xlabel: str = "nearest-neighbour distance (nm)",
    title: str | None = None,
    show_means: bool = True,
) -> Figure:
    """Overlaid normalised histograms of labelled samples, with their means marked.

    Parameters
    ----------
    samples : mapping of str -> 1-D array
        Values by legend label (e.g. nearest-neighbour distances in nm).
    bins : int or array
        Histogram bins shared by all samples.
    xlabel : str
        Axis label (give the unit).
    show_means : bool
        Draw a dashed vertical line at each sample's mean.

    Returns
    -------
    matplotlib.figure.Figure
    """
    samples = _mapping("samples", samples)
    values = {label: np.asarray(v, dtype=float).ravel() for label, v in samples.items()}
    finite = [v[np.isfinite(v)] for v in values.values()]
    if isinstance(bins, int):
        everything = np.concatenate(finite) if finite else np.zeros(0)
        hi = float(np.quantile(everything, 0.99)) if everything.size else 1.0
        bins = np.linspace(0.0, hi if hi > 0 else 1.0, bins + 1)
    fig, ax = plt.subplots(figsize=(6.0, 3.8), constrained_layout=True)
    for i, (label, v) in enumerate(values.items()):
        v = v[np.isfinite(v)]
        colour = _colour(label, i)
        if v.size:
            ax.hist(v, bins=bins, density=True, histtype="stepfilled", alpha=0.35, color=colour,
                    label=f"{label} (mean {v.mean():.0f})")
            ax.hist(v, bins=bins, density=True, histtype="step", color=colour, lw=1.5)
            if show_means:
                ax.axvline(v.mean(), color=colour, ls="--", lw=1.2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("probability density")
    ax.legend()
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
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
    ys = _mapping("ys", ys)
    x = np.asarray(x, dtype=float)
    fig, ax = plt.subplots(figsize=(6.0, 4.0), constrained_layout=True)
    for i, (label, y) in enumerate(ys.items()):
        y = np.asarray(y, dtype=float)
        if y.shape != x.shape:
            raise ValueError(f"ys[{label!r}] has shape {y.shape}, x has {x.shape}")
        ax.plot(x, y, lw=2, color=_colour(label, i), label=label)
    colours = {label: _colour(label, i) for i, label in enumerate(ys)}
    for i, (label, (px, py)) in enumerate((points or {}).items()):
        colour = colours.get(label, _DEFAULT_COLOURS[(len(ys) + i) % len(_DEFAULT_COLOURS)])
        ax.plot(px, py, "o", ms=5, color=colour, alpha=0.8, label=f"{label} (measured)")
    if reference is not None:
        rx, ry, rlabel = reference
        ax.plot(rx, ry, "k--", lw=1.2, label=rlabel)
    for i, (label, (mx, my)) in enumerate((markers or {}).items()):
        ax.plot([mx], [my], "o", ms=7, color=_DEFAULT_COLOURS[(i + 2) % len(_DEFAULT_COLOURS)],
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
