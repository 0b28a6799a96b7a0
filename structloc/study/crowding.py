"""Do the training frames look like the test frames? Crowding, measured by what a frame costs.

The study's two training regimes place the same *number* of emitters per frame in different ways:
CSR anywhere, helix along three random curves. The MT0 test frames place them along microtubules.
How crowded an emitter is, for localization, is what its frame costs its precision: its
*crowding factor* (:func:`structloc.frame_crlb.crowding_factor`, the bound in the frame over the
bound alone), which counts a neighbour by how much its PSF overlaps, in 3D and for this PSF, and
the frame's edge too. :func:`crowding_of_frames` draws frames from each sampler at the same count
densities and gives the share of their emitters in each crowding group
(:data:`structloc.evaluate.CROWDING_EDGES`); :func:`distance_to` measures how far each sampler's
mix is from a reference sampler's (total variation distance: the share of emitters that would have
to change group).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..crlb import CRLBSetup
from ..evaluate import CROWDING_EDGES, crowding_group, crowding_labels
from ..frame_crlb import crowding_factor
from ..psf import AstigmaticPSF
from ..sampling import CSRSampler, HelixSampler, MT0Sampler
from ..snr import signal_level

__all__ = ["crowding_of_frames", "distance_to"]


def crowding_of_frames(count_densities, *, n_frames: int = 50, snr: str = "high", seed: int = 7,
                       psf: AstigmaticPSF | None = None, samplers: dict | None = None) -> pd.DataFrame:
    """Share of emitters per crowding group in frames of each sampler, at fixed count densities.

    Parameters
    ----------
    count_densities : sequence of float
        Emitters per um^2; every frame holds ``round(density * area)`` emitters (at least 1).
    n_frames : int
        Frames per sampler and density (>= 1).
    snr : str
        Signal level: photons of the emitters and the background of the bound.
    seed : int
        Seed of the draws (the same for every sampler, so each sees the same random stream).
    psf : AstigmaticPSF, optional
        PSF of the bound (default: the default PSF).
    samplers : dict of str -> sampler, optional
        Default: ``csr``, ``helix`` and ``mt0`` on the default field.

    Returns
    -------
    pandas.DataFrame
        One row per (sampler, density): ``sampler, density_per_um2, emitters``, then one share
        column per group labelled as :func:`structloc.evaluate.crowding_labels` (the shares of a
        row add up to 1).
    """
    densities = [float(d) for d in count_densities]
    if not densities or any(not np.isfinite(d) or d <= 0 for d in densities):
        raise ValueError(f"count_densities must be positive numbers, got {count_densities!r}")
    if not isinstance(n_frames, int) or isinstance(n_frames, bool) or n_frames < 1:
        raise ValueError(f"n_frames must be a positive integer, got {n_frames!r}")
    samplers = {"csr": CSRSampler(), "helix": HelixSampler(), "mt0": MT0Sampler()} if samplers is None else samplers
    level = signal_level(snr)
    setup = CRLBSetup(psf=psf, noise="emccd")
    labels = crowding_labels(CROWDING_EDGES)
    rows = []
    for name, sampler in samplers.items():
        field = sampler.field
        for k, density in enumerate(densities):
            count = max(1, int(round(density * field.area_um2)))
            rng = np.random.default_rng([seed, k])
            emitters = sampler.sample(np.full(n_frames, count), rng, level)
            factor = crowding_factor(emitters, field=field, background_photons=level.background, setup=setup)
            shares = np.bincount(crowding_group(factor), minlength=len(labels)) / max(len(factor), 1)
            rows.append({"sampler": name, "density_per_um2": density, "emitters": len(factor),
                         **dict(zip(labels, shares))})
    return pd.DataFrame(rows)


def distance_to(table: pd.DataFrame, reference: str = "mt0") -> pd.DataFrame:
    """Total variation distance of each sampler's crowding mix from ``reference``'s, per density.

    Returns
    -------
    pandas.DataFrame
        Index: density per um^2; one column per sampler other than ``reference``; values in
        [0, 1] (0: the same mix).
    """
    labels = crowding_labels(CROWDING_EDGES)
    if reference not in set(table["sampler"]):
        raise ValueError(f"no sampler {reference!r} in the table (it has {sorted(set(table['sampler']))})")
    shares = table.set_index(["sampler", "density_per_um2"])[labels]
    ref = shares.loc[reference]
    others = [s for s in dict.fromkeys(table["sampler"]) if s != reference]
    return pd.DataFrame({s: 0.5 * (shares.loc[s] - ref).abs().sum(axis=1) for s in others})
