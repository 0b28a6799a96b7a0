"""Nearest-neighbour (NN) distances between the emitters of each frame.

Frames are independent: an emitter's nearest neighbour is the closest other emitter of the same
frame. One k-d tree over all frames answers every frame at once, the frame index being an extra
coordinate that puts frames far apart (:func:`_framed_coordinates`); :mod:`.ripley` uses the same
trick for its pair counts.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from ..emitters import Emitters

__all__ = ["nearest_neighbor_distances", "mean_nn_distance_nm", "mean_nn_distance_per_frame"]


# -- helpers -------------------------------------------------------------------------------------
def _check_emitters(emitters: Emitters) -> Emitters:
    if not isinstance(emitters, Emitters):
        raise TypeError(f"emitters must be a structloc.Emitters table, got {type(emitters).__name__}")
    return emitters


def _check_dims(dims: int) -> int:
    if isinstance(dims, bool) or dims not in (2, 3):
        raise ValueError(f"dims must be 2 (lateral) or 3 (with z), got {dims!r}")
    return int(dims)


def _framed_coordinates(frame: np.ndarray, coords: np.ndarray, gap_nm: float) -> np.ndarray:
    """Coordinates with the frame index as an extra axis, frames ``gap_nm`` apart.

    One k-d tree over all frames then answers per-frame queries: points of different frames are
    at least ``gap_nm`` apart, and same-frame distances are exact (the extra coordinate cancels).
    """
    return np.column_stack([coords, frame.astype(np.float64) * gap_nm])


def _gap_nm(coords: np.ndarray, at_least_nm: float = 0.0) -> float:
    span = float(np.ptp(coords, axis=0).max()) if coords.size else 0.0
    return 4.0 * max(span, at_least_nm) + 1.0


# -- nearest neighbours --------------------------------------------------------------------------
def nearest_neighbor_distances(emitters: Emitters, dims: int = 2) -> np.ndarray:
    """Distance from each emitter to its nearest neighbour in the same frame.

    Parameters
    ----------
    emitters : Emitters
        Any table; frames are treated independently.
    dims : {2, 3}
        2: lateral distance ``sqrt(dx^2 + dy^2)``; 3: with ``dz`` too.

    Returns
    -------
    numpy.ndarray of float64, shape (len(emitters),)
        NN distance in nm, in the table's row order; NaN for an emitter alone in its frame.
    """
    emitters = _check_emitters(emitters)
    dims = _check_dims(dims)
    if len(emitters) == 0:
        return np.zeros(0)
    coords = emitters.xyz_nm()[:, :dims]
    gap = _gap_nm(coords)
    tree = cKDTree(_framed_coordinates(emitters.frame, coords, gap), balanced_tree=False,
                   compact_nodes=False)
    distance, _ = tree.query(tree.data, k=2, distance_upper_bound=gap / 2)
    nn = distance[:, 1]
    nn[~np.isfinite(nn)] = np.nan
    return nn


def mean_nn_distance_per_frame(emitters: Emitters, dims: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Mean NN distance of each frame that has at least two emitters.

    Returns
    -------
    frames : numpy.ndarray of int64
        The frames with >= 2 emitters, ascending.
    mean_nn_nm : numpy.ndarray of float64
        Their mean NN distance in nm.
    """
    nn = nearest_neighbor_distances(emitters, dims)
    ok = np.isfinite(nn)
    frames, inverse = np.unique(emitters.frame[ok], return_inverse=True)
    sums = np.bincount(inverse, weights=nn[ok], minlength=frames.size)
    counts = np.bincount(inverse, minlength=frames.size)
    return frames, sums / np.maximum(counts, 1)


def mean_nn_distance_nm(emitters: Emitters, dims: int = 2) -> float:
    """Mean NN distance (nm) over all emitters that have a neighbour in their frame; NaN if none."""
    nn = nearest_neighbor_distances(emitters, dims)
    nn = nn[np.isfinite(nn)]
    return float(nn.mean()) if nn.size else float("nan")
