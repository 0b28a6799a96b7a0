"""Test sets of the study: frames simulated from the MT0 ground truth at one signal level.

A test point is a signal level and either a target *nominal* density (the count density that
gives it comes from :func:`structloc.density.mt0_count_density_for_nominal`) or one of the
challenge's own activation tables (``LD``, ``HD``: positions kept, photons redrawn). Each point
draws from a seed of its own (derived from the study seed, the SNR and the test set), so a point is reproducible on its own.
"""

from __future__ import annotations

import warnings
import zlib
from dataclasses import dataclass

import numpy as np

from ..camera import Camera
from ..checks import integer_at_least
from ..density import mt0_count_density_for_nominal, nominal_density
from ..emitters import Emitters
from ..field import Field
from ..io import load_mt0_ground_truth
from ..psf import AstigmaticPSF
from ..sampling import MT0Sampler, TableSampler
from ..simulate import simulate
from .config import check_snr, check_target, target_label

__all__ = ["TestSet", "simulate_test_set"]


def _point_seed(seed: int, snr: str, target: float | str) -> int:
    """A seed of its own for each (seed, SNR, test set): points are reproducible one at a time."""
    key = zlib.crc32(f"{snr}/{target_label(target)}".encode())
    return int(np.random.SeedSequence([int(seed), key]).generate_state(1)[0])


def _challenge_frames(kind: str, n_frames: int, rng: np.random.Generator) -> Emitters:
    """``n_frames`` frames drawn without replacement from the MT0 ``kind`` table, renumbered 0.."""
    table = load_mt0_ground_truth(kind)
    if n_frames > table.n_frames:
        raise ValueError(f"MT0 {kind} has {table.n_frames} frames; cannot take n_frames={n_frames}")
    chosen = np.sort(rng.choice(table.n_frames, size=n_frames, replace=False))
    new_index = np.full(table.n_frames, -1, dtype=np.int64)
    new_index[chosen] = np.arange(n_frames)
    keep = new_index[table.frame] >= 0
    picked = table.take(keep)
    return Emitters(new_index[picked.frame], picked.x_nm, picked.y_nm, picked.z_nm, picked.photons).sorted()


@dataclass(frozen=True, eq=False)
class TestSet:
    """Frames of one test point and their ground truth (see :func:`simulate_test_set`).

    Attributes
    ----------
    frames : numpy.ndarray of uint16, shape (n_frames, H, W)
        ADU frames.
    truth : Emitters
        Their ground truth.
    snr, test_set : str
        Signal level and test-set label (``"0.38"``, ``"LD"``...).
    nominal_target : float
        The target nominal density (per um^2; NaN for a challenge set).
    count_density, nominal_density : float
        Count density simulated and nominal density measured on ``truth`` (per um^2).
    seed : int
        The point's own seed (simulation and bootstrap).
    """

    __test__ = False  # not a pytest class

    frames: np.ndarray
    truth: Emitters
    snr: str
    test_set: str
    nominal_target: float
    count_density: float
    nominal_density: float
    seed: int


def simulate_test_set(snr: str, target: float | str, *, n_frames: int = 200, seed: int = 7, field: Field = Field(),
                      psf: AstigmaticPSF | None = None, camera: Camera | None = None, device: str = "cpu",
                      calibration_frames: int = 400) -> TestSet:
    """Simulate the test frames of one (SNR, test set) point from the MT0 ground truth.

    Parameters
    ----------
    snr : str
        Signal level preset.
    target : float or {"LD", "HD"}
        Target nominal density (per um^2; the count density comes from
        :func:`structloc.density.mt0_count_density_for_nominal`) or a challenge activation table (``n_frames`` of its
        frames, seeded; positions kept, photons drawn from the SNR preset).
    n_frames, seed : int
        Frames and the study seed (the point's own seed derives from it, ``snr`` and ``target``).
    field, psf, camera :
        Must be those the models were trained with (see :func:`structloc.study.runner.run_point`);
        ``None`` for the simulation's defaults.
    device : str
        Torch device for rendering and noise.
    calibration_frames : int
        MT0 frames per grid point of the count-to-nominal density calibration.

    Returns
    -------
    TestSet
        With the measured nominal density of its ground truth.
    """
    snr, target = check_snr(snr), check_target(target)
    n_frames = integer_at_least("n_frames", n_frames)
    point_seed = _point_seed(integer_at_least("seed", seed, 0), snr, target)
    if isinstance(target, str):
        table = _challenge_frames(target, n_frames, np.random.default_rng(point_seed))
        sampler = TableSampler(field, table)
        sim = simulate(sampler, n_frames, snr=snr, counts=np.bincount(table.frame, minlength=n_frames),
                       psf=psf, camera=camera, seed=point_seed, device=device)
        nominal_target = float("nan")
        count_density = len(table) / (n_frames * field.area_um2)
    else:
        count_density = float(mt0_count_density_for_nominal(target, field, n_frames=calibration_frames)[0])
        sim = simulate(MT0Sampler(field), n_frames, snr=snr, density_per_um2=count_density, psf=psf,
                       camera=camera, seed=point_seed, device=device)
        nominal_target = target
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        measured = nominal_density(sim.emitters, field, n_frames=n_frames) if len(sim.emitters) else float("nan")
    return TestSet(sim.frames, sim.emitters, snr, target_label(target), nominal_target, count_density,
                   float(measured), point_seed)
