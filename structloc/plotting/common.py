"""What every figure shares: the book's colours, metric names, input checks and nm axes.

One palette (:data:`PALETTE`) gives the training regimes and the signal levels their colours
throughout the book; :func:`label_colour` looks a legend label up in it and
:func:`training_regime` reads the regime out of a model's label ("helix model", "shipped
csr_high"). :func:`z_colour_image` is the one way a figure colours an image by depth.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib import colormaps

from ..emitters import Emitters
from ..field import Field

__all__ = ["PALETTE", "COLOURS", "Z_CMAP", "METRIC_LABELS", "label_colour", "training_regime", "z_colour_image"]

#: Colours of the training regimes (structure-based = helix), the ground truth and the three
#: signal levels throughout the book.
PALETTE: dict[str, str] = {
    "csr": "#1f77b4",
    "structure": "#d62728",
    "helix": "#d62728",
    "truth": "#333333",
    "high": "#2ca02c",
    "medium": "#ff7f0e",
    "low": "#9467bd",
}
#: Colours, in turn, of labels that have none in :data:`PALETTE`.
COLOURS: tuple[str, ...] = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf")
#: Colour map for z throughout the book (blue below focus, red above).
Z_CMAP = "turbo"
#: Axis labels of the evaluation metrics (columns of :mod:`structloc.evaluate` results).
METRIC_LABELS: dict[str, str] = {
    "jaccard": "Jaccard index", "precision": "precision", "recall": "recall",
    "rmse_lat_nm": "RMSE lateral (nm)", "rmse_ax_nm": "RMSE axial (nm)", "rmse_vol_nm": "RMSE volumetric (nm)",
    "efficiency_lat": "lateral efficiency", "efficiency_ax": "axial efficiency", "efficiency_3d": "3D efficiency",
}


def label_colour(label: str, index: int) -> str:
    """The colour of a legend label: its :data:`PALETTE` entry, else the ``index``-th of :data:`COLOURS`.

    Parameters
    ----------
    label : str
        Legend label; matched to the palette without regard to case.
    index : int
        Position of the label in its figure (picks the colour of a label without a palette entry).

    Returns
    -------
    str
        A matplotlib colour.
    """
    return PALETTE.get(str(label).lower(), COLOURS[index % len(COLOURS)])


def training_regime(label: str) -> str:
    """The regime a model's label names: ``"helix"`` (or ``"structure"``), ``"csr"``, ``"truth"``, else the label.

    Model figures colour ``label_colour(training_regime(label), i)``, so "helix model" and
    "shipped helix_high" take the structure colour and "ground truth" the truth colour.
    """
    low = str(label).lower()
    for regime in ("helix", "structure", "csr", "truth"):
        if regime in low:
            return regime
    return str(label)


def mapping(name: str, value: Any) -> Mapping:
    """``value`` if it is a non-empty mapping of label -> data."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping of label -> data, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{name} is empty: give at least one labelled entry")
    return value


def finite_array(name: str, value: Any, ndim: int) -> np.ndarray:
    """``value`` (array or torch tensor) as a non-empty, finite float array of ``ndim`` dimensions."""
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


def emitters_table(name: str, value: Any) -> Emitters:
    """``value`` if it is an :class:`~structloc.emitters.Emitters` table."""
    if not isinstance(value, Emitters):
        raise TypeError(f"{name} must be a structloc.Emitters table, got {type(value).__name__}")
    return value


def checked_window(window_nm: Sequence[float] | None, field: Field) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) in nm, validated; the whole field when None."""
    if window_nm is None:
        return 0.0, field.width_nm, 0.0, field.height_nm
    if len(window_nm) != 4:
        raise ValueError(f"window_nm must be (x0, x1, y0, y1) in nm, got {window_nm!r}")
    x0, x1, y0, y1 = (float(v) for v in window_nm)
    if not all(map(math.isfinite, (x0, x1, y0, y1))) or x0 >= x1 or y0 >= y1:
        raise ValueError(f"window_nm must satisfy x0 < x1 and y0 < y1 (finite nm), got {window_nm!r}")
    return x0, x1, y0, y1


def apply_window(ax, window_nm: tuple[float, float, float, float]) -> None:
    """Show only ``window_nm`` = (x0, x1, y0, y1) in nm, y pointing down as in images."""
    ax.set_xlim(window_nm[0], window_nm[1])
    ax.set_ylim(window_nm[3], window_nm[2])


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
