"""Camera frames and network grids as images: galleries, bead montages, targets and outputs.

Every figure takes plain arrays (frames in photons or ADU, grids of :mod:`structloc.targets` or
:mod:`structloc.mixture`) and :class:`~structloc.emitters.Emitters` tables, and returns the
matplotlib ``Figure`` it drew. :func:`grid_z_nm` reads amplitude and depth out of a grid for
display.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from ..emitters import Emitters
from ..field import Field
from .common import (Z_CMAP, apply_window, checked_window, emitters_table, finite_array, label_colour, mapping,
                     training_regime, z_colour_image)

__all__ = ["frame_gallery", "z_montage", "grid_z_nm", "target_channels", "prediction_vs_truth",
           "localizations_on_frame"]


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
    grid = finite_array("grid", grid, 3)
    if grid.shape[0] < 2:
        raise ValueError(f"grid needs the A cos and A sin channels first, got shape {grid.shape}")
    c, s = grid[0], grid[1]
    phase = np.arctan2(s, c)
    phase = np.clip(np.where(phase < -np.pi / 2, phase + 2 * np.pi, phase), 0.0, np.pi)
    return np.hypot(c, s), field.z_min_nm + phase / np.pi * field.depth_nm


def _frame_panel(ax, frame: np.ndarray, field: Field, window, cmap: str = "magma") -> None:
    h, w = frame.shape
    ax.imshow(frame, cmap=cmap, extent=(0, w * field.pixel_nm, h * field.pixel_nm, 0), interpolation="nearest")
    apply_window(ax, window)


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
    apply_window(ax, window)
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
    frame = finite_array("frame_photons", frame_photons, 2)
    grid = finite_array("target", target, 3)
    if grid.shape[0] != 3:
        raise ValueError(f"target must have 3 channels (A cos, A sin, photons), got shape {grid.shape}")
    window = checked_window(window_nm, field)
    extent = _field_extent(field)
    fig, grid_axes = plt.subplots(2, 2, figsize=(10.0, 8.8), constrained_layout=True)
    axes = grid_axes.ravel()  # 2 x 2 so that each panel stays legible at page width
    _frame_panel(axes[0], frame, field, window)
    _finish_nm_axes(axes[0], f"camera frame ({field.pixel_nm:g} nm pixels)")
    bin_nm = field.pixel_nm * field.width_px / grid.shape[2]
    for ax, channel, name in ((axes[1], grid[0], "A cos φ"), (axes[2], grid[1], "A sin φ")):
        image = ax.imshow(channel, cmap="RdBu_r", vmin=-1, vmax=1, extent=extent, interpolation="nearest")
        apply_window(ax, window)
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
    frame = finite_array("frame_photons", frame_photons, 2)
    target = finite_array("target", target, 3)
    output = finite_array("output", output, 3)
    for name, grid in (("target", target), ("output", output)):
        if grid.shape[1] * field.width_px != grid.shape[2] * field.height_px:
            raise ValueError(f"{name} grid {grid.shape[1:]} does not have the field's aspect "
                             f"({field.height_px} x {field.width_px} px)")
    window = checked_window(window_nm, field)
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
    frame = finite_array("frame_photons", frame_photons, 2)
    truth = emitters_table("truth", truth)
    preds = mapping("preds", preds)
    window = checked_window(window_nm, field)
    n = len(preds)
    fig, axes = plt.subplots(1, n, figsize=(5.0 * n, 5.0), squeeze=False, constrained_layout=True)
    for i, (label, pred) in enumerate(preds.items()):
        pred = emitters_table(f"preds[{label!r}]", pred)
        ax = axes[0, i]
        _frame_panel(ax, frame, field, window, cmap="gray")
        _mark(ax, truth, window, style="o", colour="#00e5ff", label=f"truth ({len(truth)})")
        _mark(ax, pred, window, style="x", colour=label_colour(training_regime(label), i), label=f"{label} ({len(pred)})")
        _finish_nm_axes(ax, label)
        ax.legend(loc="lower right", fontsize=8)
    axes[0, 0].set_ylabel("y (nm)")
    if title:
        fig.suptitle(title)
    return fig
