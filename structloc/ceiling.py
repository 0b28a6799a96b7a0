"""What a representation allows before any training: the clean-target decode ceiling.

A network can at best output its head's *clean targets* (the encoded ground truth). Decoding
them and scoring the result against the truth measures how much a head's representation loses
by itself: emitters that share an output bin, blobs that merge, phases that average. Two
references put that number in context:

- the *per-pixel ceiling*: one emitter per camera pixel (DECODE's grid, the mixture head with
  ``upsample = 1``);
- the *resolvable bound*: an oracle that merges every group of emitters closer than
  ``lateral_nm`` laterally and ``axial_nm`` axially (defaults 50 and 100 nm) into one
  localization at their centroid, and finds all others exactly. Emitters that close cannot be
  told apart from one frame by any method, so a head that comes close to this bound does not cap
  quality.

All three are scored with :func:`structloc.evaluate.evaluate` (the challenge's matching), so they
are directly comparable with a trained model's Jaccard index.
"""

from __future__ import annotations

import numpy as np

from .emitters import Emitters
from .evaluate import evaluate
from .field import Field
from .heads import HeadSpec, clean_output, decode_output
from .mixture import MixtureSpec

__all__ = ["merge_unresolvable", "resolvable_bound", "decode_ceiling", "per_pixel_ceiling",
           "close_neighbour_fraction", "ceiling_table"]

#: Decoding threshold of clean targets (their scores are 1 or more, background 0).
CLEAN_THRESHOLD = 0.5
_FRAME_GAP_NM = 1e9  # frames are placed this far apart so that no pair spans two frames


def _close_pairs(emitters: Emitters, lateral_nm: float, axial_nm: float) -> np.ndarray:
    """(n_pairs, 2) indices of emitters in the same frame within both distances."""
    from scipy.spatial import cKDTree

    if len(emitters) < 2:
        return np.zeros((0, 2), np.int64)
    xy = np.column_stack([emitters.x_nm + emitters.frame * _FRAME_GAP_NM, emitters.y_nm])
    pairs = cKDTree(xy).query_pairs(lateral_nm, output_type="ndarray")
    return pairs[np.abs(emitters.z_nm[pairs[:, 0]] - emitters.z_nm[pairs[:, 1]]) <= axial_nm]


def merge_unresolvable(emitters: Emitters, *, lateral_nm: float = 50.0, axial_nm: float = 100.0) -> Emitters:
    """The oracle's localizations: groups of emitters linked by pairs closer than ``lateral_nm``
    laterally and ``axial_nm`` axially (single linkage, per frame) become one localization at
    their centroid with their summed photons; isolated emitters are kept exactly.

    Raises
    ------
    ValueError
        If a distance is not positive.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if not (lateral_nm > 0 and axial_nm > 0):
        raise ValueError(f"lateral_nm and axial_nm must be positive, got {lateral_nm!r} and {axial_nm!r}")
    n = len(emitters)
    if n == 0:
        return Emitters.empty(with_score=True)
    pairs = _close_pairs(emitters, lateral_nm, axial_nm)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    n_groups, label = connected_components(graph, directed=False)
    size = np.bincount(label, minlength=n_groups)

    def mean(values: np.ndarray) -> np.ndarray:
        return np.bincount(label, weights=values, minlength=n_groups) / size

    frame = np.zeros(n_groups, np.int64)
    frame[label] = emitters.frame
    return Emitters(frame, mean(emitters.x_nm), mean(emitters.y_nm), mean(emitters.z_nm),
                    np.bincount(label, weights=emitters.photons, minlength=n_groups), score=np.ones(n_groups))


def resolvable_bound(emitters: Emitters, *, lateral_nm: float = 50.0, axial_nm: float = 100.0) -> float:
    """Jaccard index of :func:`merge_unresolvable` against the truth (1 when nothing is closer)."""
    if len(emitters) == 0:
        return float("nan")
    return evaluate(emitters, merge_unresolvable(emitters, lateral_nm=lateral_nm, axial_nm=axial_nm)).jaccard


def decode_ceiling(emitters: Emitters, n_frames: int, spec: HeadSpec) -> float:
    """Jaccard index of the decoded clean targets of ``spec``'s head against the truth."""
    if len(emitters) == 0:
        return float("nan")
    return evaluate(emitters, decode_output(clean_output(emitters, n_frames, spec), spec, CLEAN_THRESHOLD)).jaccard


def per_pixel_ceiling(emitters: Emitters, n_frames: int, field: Field = Field()) -> float:
    """:func:`decode_ceiling` of one emitter per camera pixel (DECODE's representation)."""
    return decode_ceiling(emitters, n_frames, MixtureSpec(field=field, upsample=1))


def close_neighbour_fraction(emitters: Emitters, lateral_nm: float = 50.0) -> float:
    """Fraction of emitters with another in the same frame within ``lateral_nm`` laterally."""
    if len(emitters) == 0:
        return float("nan")
    pairs = _close_pairs(emitters, lateral_nm, np.inf)
    has = np.zeros(len(emitters), bool)
    has[pairs.ravel()] = True
    return float(has.mean())


def ceiling_table(densities_per_um2=(0.1, 1.0, 5.0, 10.0), samplers=("mt0", "helix"), *, n_frames: int = 100,
                  seed: int = 7, field: Field = Field()):
    """The ceilings of both heads next to the two references, per sampler and density.

    Emitters only (no frames are rendered): per-frame Poisson counts at each density, positions
    from the sampler (``"mt0"``: the MT0 ground truth, or a training sampler's name).

    Returns
    -------
    pandas.DataFrame
        One row per (sampler, density): ``emitters``, ``close_50nm`` (:func:`close_neighbour_fraction`),
        ``per_pixel``, ``mixture`` (the default head, 50 nm bins), ``grid`` (the paper's blob grid,
        25 nm bins) and ``resolvable`` (:func:`resolvable_bound`), all Jaccard indices except the
        first two.
    """
    import pandas as pd

    from .heads import head_spec
    from .sampling import MT0Sampler, poisson_counts, sampler_from_name

    rows = []
    for name in samplers:
        sampler = MT0Sampler(field) if name == "mt0" else sampler_from_name(name, field=field)
        for k, density in enumerate(densities_per_um2):
            rng = np.random.default_rng([seed, k])
            emitters = sampler.sample(poisson_counts(n_frames, density, field, rng), rng, "high")
            rows.append({
                "sampler": name, "density_per_um2": float(density), "emitters": len(emitters),
                "close_50nm": close_neighbour_fraction(emitters),
                "per_pixel": per_pixel_ceiling(emitters, n_frames, field),
                "mixture": decode_ceiling(emitters, n_frames, head_spec("mixture", field=field, photon_scale=1e4)),
                "grid": decode_ceiling(emitters, n_frames, head_spec("grid", field=field, photon_scale=1e4)),
                "resolvable": resolvable_bound(emitters),
            })
    return pd.DataFrame(rows)
