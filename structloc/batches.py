"""Training batches, simulated on the training device when they are needed.

Per frame a density is drawn log-uniformly in the config's range and the emitter count is
Poisson with mean ``density * area`` (:func:`training_counts`); the sampler places the emitters
and draws their photons from the SNR preset (optionally rescaled to ``photons_range``, with the
background drawn from ``background_range_photons``); frames are rendered, the camera applied and
the ADU mapped back to photons; the head's targets are made (:func:`simulate_batch`).
"""

from __future__ import annotations

import numpy as np
import torch

from .emitters import Emitters
from .heads import encode_batch
from .sampling import sampler_from_name
from .simulate import simulate_expected, simulate_frames
from .train_config import TrainConfig

__all__ = ["training_counts", "simulate_batch", "validation_batch", "VALIDATION_RANK"]

#: The rank in the seed ``[config.seed, VALIDATION_RANK, 0]`` of the validation set (no training
#: process has it, so the validation frames are never a training batch).
VALIDATION_RANK = 2**31 - 1


def training_counts(config: TrainConfig, n_frames: int, rng: np.random.Generator) -> np.ndarray:
    """Emitters per training frame: Poisson with mean ``density * area``, the density of each
    frame log-uniform in ``[density_min_per_um2, density_max_per_um2]`` (int64, shape (n_frames,))."""
    log_lo, log_hi = np.log(config.density_min_per_um2), np.log(config.density_max_per_um2)
    density = np.exp(rng.uniform(log_lo, log_hi, size=n_frames))
    return rng.poisson(density * config.field.area_um2).astype(np.int64)


def simulate_batch(
    config: TrainConfig, n_frames: int, seed: list[int] | int, device: torch.device | str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor, Emitters]:
    """One training (or validation) batch, simulated on ``device``.

    Parameters
    ----------
    config : TrainConfig
        Sampler, signal level, density range, PSF, camera and field.
    n_frames : int
        Frames in the batch.
    seed : int or list of int
        Seed (sequence) of ``numpy.random.default_rng``; the torch noise generator is seeded from it.
    device : torch.device or str
        Where frames and targets are made.

    Returns
    -------
    frames : torch.Tensor, shape (n_frames, H, W)
        Frames in photon units (``camera.to_photons`` of the ADU frames), float32.
    targets : torch.Tensor
        The head's targets (:func:`structloc.heads.encode_batch`): grids (n_frames, 3, H * up,
        W * up) for the grid head, the padded truth (n_frames, E_max, 5) for the mixture head.
    emitters : Emitters
        The ground truth.
    """
    device = torch.device(device)
    rng = np.random.default_rng(seed)
    counts = training_counts(config, n_frames, rng)
    emitters = _sampler(config).sample(counts, rng, config.signal)
    generator = torch.Generator(device=device)
    generator.manual_seed(int(rng.integers(2**62)))
    if config.photons_range is None and config.background_range_photons is None:
        adu = simulate_frames(emitters, n_frames, snr=config.signal, psf=config.psf, camera=config.camera,
                              field=config.field, generator=generator, device=device)
    else:
        emitters, background = _signal_ranges(config, emitters, n_frames, rng)
        expected = simulate_expected(emitters, n_frames, field=config.field, psf=config.psf, device=device)
        adu = config.camera.expose(expected + torch.as_tensor(background, dtype=expected.dtype,
                                                              device=device).view(-1, 1, 1), generator)
    frames = config.camera.to_photons(adu).float()
    targets = encode_batch(emitters, n_frames, config.target_spec(), device=device)
    return frames, targets, emitters


def validation_batch(config: TrainConfig,
                     device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor, Emitters]:
    """The fixed validation set of a run: ``config.n_val_frames`` frames, seeded by ``config.seed``
    (:func:`simulate_batch` with the seed ``[config.seed, VALIDATION_RANK, 0]``)."""
    return simulate_batch(config, config.n_val_frames, [config.seed, VALIDATION_RANK, 0], device)


def _log_uniform(bounds: tuple[float, float], n: int, rng: np.random.Generator) -> np.ndarray:
    return np.exp(rng.uniform(np.log(bounds[0]), np.log(bounds[1]), size=n))


def _signal_ranges(config: TrainConfig, emitters: Emitters, n_frames: int,
                   rng: np.random.Generator) -> tuple[Emitters, np.ndarray]:
    """Per-frame photons (emitters rescaled) and background drawn from the config's ranges."""
    photons = emitters.photons
    if config.photons_range is not None:
        level = _log_uniform(config.photons_range, n_frames, rng)
        photons = photons * (level / config.signal.photons)[emitters.frame]
    background = (np.full(n_frames, config.signal.background) if config.background_range_photons is None
                  else _log_uniform(config.background_range_photons, n_frames, rng))
    scaled = Emitters(emitters.frame, emitters.x_nm, emitters.y_nm, emitters.z_nm, photons)
    return scaled, background


def _sampler(config: TrainConfig):
    return sampler_from_name(config.sampler, field=config.field)
