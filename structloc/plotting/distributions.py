"""Histograms: distances, and positions modulo a pixel or grid period (the checkerboard).

Every figure takes plain samples, :func:`structloc.render.subpixel_bias` results or localization
tables, and returns the matplotlib ``Figure`` it drew.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..emitters import Emitters
from ..render import subpixel_bias
from .common import label_colour, mapping, training_regime

__all__ = ["distributions", "checkerboard_histograms", "subpixel_histograms"]


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
    samples = mapping("samples", samples)
    values = {label: np.asarray(v, dtype=float).ravel() for label, v in samples.items()}
    finite = [v[np.isfinite(v)] for v in values.values()]
    if isinstance(bins, int):
        everything = np.concatenate(finite) if finite else np.zeros(0)
        hi = float(np.quantile(everything, 0.99)) if everything.size else 1.0
        bins = np.linspace(0.0, hi if hi > 0 else 1.0, bins + 1)
    fig, ax = plt.subplots(figsize=(6.0, 3.8), constrained_layout=True)
    for i, (label, v) in enumerate(values.items()):
        v = v[np.isfinite(v)]
        colour = label_colour(label, i)
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
    biases = mapping("biases", biases)
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
            ax.stairs(density, edges, lw=2, color=label_colour(training_regime(label), i),
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


def subpixel_histograms(locs: Mapping[str, Emitters], *, period_nm: float = 100.0, bins: int = 20,
                        figsize: tuple[float, float] = (5.0, 3.0), title: str | None = None) -> Figure:
    """Histograms of localization positions modulo ``period_nm`` (x and y pooled), one line each.

    A flat line at 1 (density relative to uniform) means no sub-pixel bias; peaks mean positions
    snap to parts of the pixel (the checkerboard artifact).
    """
    locs = mapping("locs", locs)
    fig, ax = plt.subplots(figsize=figsize)
    centres = (np.arange(bins) + 0.5) / bins * period_nm
    for i, (label, table) in enumerate(locs.items()):
        if not isinstance(table, Emitters):
            raise TypeError(f"locs[{label!r}] must be an Emitters table, got {type(table).__name__}")
        bias = subpixel_bias(table, period_nm=period_nm, bins=bins)
        if bias.n == 0:
            continue
        ax.step(centres, bias.histogram / (bias.n / bins), where="mid",
                color=label_colour(training_regime(label), i),
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
