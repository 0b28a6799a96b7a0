"""Where the emitters are: 3D point clouds and super-resolution images coloured by z.

Every figure takes positions in nm (arrays or :class:`~structloc.emitters.Emitters` tables) or
:mod:`structloc.render` reconstructions, and returns the matplotlib ``Figure`` it drew. Images are
coloured by depth with :func:`~structloc.plotting.common.z_colour_image`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from ..emitters import Emitters
from ..field import Field
from ..render import render_gaussian
from ..snr import SNR_PRESETS
from .common import Z_CMAP, apply_window, checked_window, finite_array, label_colour, mapping, z_colour_image

__all__ = ["point_clouds_3d", "reconstructions_z", "reconstruction_grid"]


def _points(name: str, values) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 2 or array.shape[1] != 3:
        raise ValueError(f"{name} must be an (n, 3) array of x, y, z in nm, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite positions")
    return array


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
    clouds = mapping("clouds", clouds)
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
                alpha=(alphas or {}).get(label, 0.6), color=label_colour(label, order[label]),
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
    reconstructions = mapping("reconstructions", reconstructions)
    if not 0 < saturate_quantile <= 1:
        raise ValueError(f"saturate_quantile must be in (0, 1], got {saturate_quantile!r}")
    n = len(reconstructions)
    fig, axes = plt.subplots(1, n, figsize=(4.8 * n + 0.8, 5.0), squeeze=False, constrained_layout=True)
    for i, (label, rec) in enumerate(reconstructions.items()):
        image = finite_array(f"reconstructions[{label!r}].image", getattr(rec, "image", None), 2)
        nonzero = image[image > 0]
        vmax = float(np.quantile(nonzero, saturate_quantile)) if nonzero.size else 1.0
        rgb = z_colour_image(image, rec.z_nm, z_range_nm=z_range_nm, vmax=vmax, gamma=gamma)
        ax = axes[0, i]
        ax.imshow(rgb, extent=rec.extent_nm(), interpolation="nearest")
        if window_nm is not None:
            apply_window(ax, checked_window(window_nm, Field()))
        ax.set_facecolor("black")
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("x (nm)")
    axes[0, 0].set_ylabel("y (nm)")
    fig.colorbar(ScalarMappable(Normalize(*z_range_nm), Z_CMAP), ax=axes[0, -1], shrink=0.8).set_label("z (nm)")
    if title:
        fig.suptitle(title)
    return fig


def reconstruction_grid(locs: Mapping[tuple[str, str], Emitters], *, snrs: Sequence[str] | None = None,
                        rows: Sequence[str] = ("truth", "csr", "helix"), field: Field = Field(),
                        pixel_nm: float = 10.0, sigma_nm: float = 15.0,
                        z_range: tuple[float, float] = (-750.0, 750.0), cmap: str = Z_CMAP,
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
    locs = mapping("locs", locs)
    present = {snr for _, snr in locs}
    columns = [s for s in (snrs or SNR_PRESETS) if s in present]
    if snrs is not None and len(columns) != len(snrs):
        raise ValueError(f"SNR(s) {sorted(set(snrs) - present)} have no localizations")
    row_names = [r for r in rows if any((r, s) in locs for s in columns)]
    if not row_names:
        raise ValueError(f"none of the rows {list(rows)} has localizations")
    fig, axes = plt.subplots(len(row_names), len(columns), squeeze=False,
                             figsize=(panel_size * len(columns) + 0.8, panel_size * len(row_names)))
    extent = (0, field.width_nm / 1000, field.height_nm / 1000, 0)
    for i, row in enumerate(row_names):
        for j, snr in enumerate(columns):
            ax = axes[i, j]
            table = locs.get((row, snr))
            if table is not None:
                rec = render_gaussian(table, field=field, pixel_nm=pixel_nm, sigma_nm=sigma_nm)
                vmax = np.percentile(rec.image[rec.image > 0], 99) if np.any(rec.image > 0) else 1.0
                rgb = z_colour_image(rec.image, rec.z_nm, z_range_nm=z_range, cmap=cmap, vmax=vmax)
                ax.imshow(rgb, extent=extent)
                ax.text(0.02, 0.02, f"{len(table)} locs", color="w", fontsize=7, transform=ax.transAxes)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(f"{snr} SNR")
            if j == 0:
                ax.set_ylabel("ground truth" if row == "truth" else f"{row} training")
    mappable = ScalarMappable(Normalize(*z_range), cmap)
    fig.colorbar(mappable, ax=axes, shrink=0.6, label="z (nm)")
    if title:
        fig.suptitle(title)
    return fig
