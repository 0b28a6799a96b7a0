"""Frames and their ground truth: sampler -> emitters -> PSF -> + background -> camera -> ADU.

Three entry points, one per level:

* :func:`simulate_expected` - expected photons per pixel (PSF images plus uniform background);
* :func:`simulate_frames` - noisy ADU frames of a given emitters table, on any torch device
  (what on-the-fly training calls on the GPU);
* :func:`simulate` - the whole pipeline from a sampler, in batches, to a :class:`Simulation`
  holding uint16 frames and the ground-truth table.

Randomness: emitters come from ``numpy.random.default_rng`` on the host; camera noise from a
seeded ``torch.Generator`` on the device. Both seeds derive from the one ``seed`` of
:func:`simulate`, so the same seed (and batch size) gives identical frames on the CPU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .camera import EMCCD, Camera
from .checks import integer_at_least
from .emitters import Emitters
from .field import Field
from .memory import check_fits
from .psf import PSF, AstigmaticPSF, check_psf, render
from .sampling import BYTES_PER_EMITTER, Sampler, poisson_counts, validate_counts
from .snr import SignalLevel, signal_level

__all__ = ["Simulation", "simulate", "simulate_frames", "simulate_expected"]


def _check_n_frames(n_frames) -> int:
    return integer_at_least("n_frames", n_frames, 0)


def _check_background(background_photons) -> float:
    try:
        value = float(background_photons)
    except (TypeError, ValueError):
        raise TypeError(f"background_photons must be a number, got {background_photons!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"background_photons must be finite and >= 0, got {background_photons!r}")
    return value


def _check_emitters(emitters) -> Emitters:
    if not isinstance(emitters, Emitters):
        raise TypeError(f"emitters must be a structloc.Emitters table, got {type(emitters).__name__}")
    return emitters


def simulate_expected(
    emitters: Emitters,
    n_frames: int,
    *,
    field: Field | None = None,
    psf: PSF | None = None,
    background_photons: float = 0.0,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Expected photons per pixel: every emitter's pixel-integrated PSF plus a uniform background.

    Parameters
    ----------
    emitters : Emitters
        Ground truth; ``frame`` in ``[0, n_frames)``, positions in nm, photons per emitter.
    n_frames : int
        Number of frames (>= 0).
    field, psf : optional
        Frame geometry and PSF (defaults :class:`Field`, :class:`AstigmaticPSF`; any
        :class:`~structloc.psf.PSF`, e.g. :class:`~structloc.interpolated_psf.InterpolatedPSF`).
    background_photons : float
        Uniform background in photons per pixel per frame (>= 0).
    device, dtype : optional
        Where and in which precision to compute.

    Returns
    -------
    torch.Tensor, shape (n_frames, H, W)
        Expected photons per pixel (at the sample, before the camera's QE).
    """
    emitters = _check_emitters(emitters)
    n_frames = _check_n_frames(n_frames)
    background = _check_background(background_photons)
    field = field or Field()
    expected = render(emitters, n_frames, psf=psf, field=field, device=device, dtype=dtype)
    if background:
        expected += background
    return expected


def simulate_frames(
    emitters: Emitters,
    n_frames: int,
    *,
    snr: str | SignalLevel = "high",
    background_photons: float | None = None,
    psf: PSF | None = None,
    camera: Camera | None = None,
    field: Field | None = None,
    generator: torch.Generator | None = None,
    device: str | torch.device = "cpu",
) -> torch.Tensor:
    """Noisy camera frames (ADU) of an emitters table, on a torch device.

    Parameters
    ----------
    emitters : Emitters
        Ground truth (photons per emitter are taken from the table).
    n_frames : int
        Number of frames (>= 0).
    snr : str or SignalLevel
        Signal level whose ``background`` (photons per pixel) is used. Default "high".
    background_photons : float, optional
        Overrides the signal level's background, in photons per pixel.
    psf, camera, field : optional
        Defaults: :class:`AstigmaticPSF` (any :class:`~structloc.psf.PSF` works), the challenge
        :class:`~structloc.camera.EMCCD`, :class:`Field`.
    generator : torch.Generator, optional
        Seeded generator on ``device`` for the camera noise.
    device : str or torch.device
        Where to render and add noise.

    Returns
    -------
    torch.Tensor, shape (n_frames, H, W), float32
        Whole-number ADU values on ``device``.
    """
    background = signal_level(snr).background if background_photons is None else background_photons
    camera = camera if camera is not None else EMCCD()
    if not isinstance(camera, Camera):
        raise TypeError(f"camera must be a structloc.camera.Camera, got {type(camera).__name__}")
    expected = simulate_expected(
        emitters, n_frames, field=field, psf=psf, background_photons=background, device=device
    )
    return camera.expose(expected, generator)


@dataclass(frozen=True, eq=False)
class Simulation:
    """Simulated frames with their ground truth and the settings that made them.

    Attributes
    ----------
    frames : np.ndarray of uint16, shape (n_frames, H, W)
        Camera frames in ADU.
    emitters : Emitters
        Ground truth, frames counted from 0.
    field, psf, camera, signal :
        Geometry, PSF, camera and signal level used.
    seed : int
        The seed of :func:`simulate`.
    batch_size : int
        Frames simulated per batch (the noise stream depends on it).
    """

    frames: np.ndarray
    emitters: Emitters
    field: Field
    psf: PSF
    camera: Camera
    signal: SignalLevel
    seed: int
    batch_size: int

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.frames.shape[0])


def _check_request(n_frames: int, field: Field, n_emitters: float) -> None:
    """Refuse a simulation whose frames and emitters do not fit in the memory available now."""
    frame_bytes = 2.0 * n_frames * field.height_px * field.width_px  # the uint16 stack
    emitters = f" with {n_emitters:,.0f} emitters" if n_emitters else ""
    check_fits(frame_bytes + n_emitters * BYTES_PER_EMITTER,
               f"simulating {n_frames:,} frames of {field.width_px} x {field.height_px} px{emitters}")


def _device_generator(seed_sequence: np.random.SeedSequence, device: torch.device) -> torch.Generator:
    generator = torch.Generator(device=device)
    generator.manual_seed(int(seed_sequence.generate_state(1, np.uint64)[0] >> np.uint64(1)))
    return generator


def simulate(
    sampler: Sampler,
    n_frames: int,
    *,
    snr: str | SignalLevel = "high",
    density_per_um2: float | None = None,
    counts: np.ndarray | None = None,
    psf: PSF | None = None,
    camera: Camera | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
    batch_size: int = 256,
    progress: bool = False,
) -> Simulation:
    """Simulate ``n_frames`` camera frames and their ground truth from a sampler.

    Parameters
    ----------
    sampler : Sampler
        Any object with a ``field`` and ``sample(counts, rng, signal) -> Emitters``
        (see :mod:`structloc.sampling`).
    n_frames : int
        Number of frames (>= 0; 0 gives an empty (0, H, W) stack).
    snr : str or SignalLevel
        Signal level: photons per emitter and background photons per pixel. Default "high".
    density_per_um2 : float, optional
        Mean emitter density; per-frame counts are Poisson (exactly one of this and ``counts``).
    counts : array_like of int, shape (n_frames,), optional
        Emitters in each frame.
    psf, camera : optional
        Defaults :class:`AstigmaticPSF` (any :class:`~structloc.psf.PSF` works, e.g.
        :class:`~structloc.interpolated_psf.InterpolatedPSF`) and the challenge
        :class:`~structloc.camera.EMCCD`.
    seed : int
        Seeds both the host sampling and the device noise.
    device : str or torch.device
        Where to render and add noise; frames are returned on the host.
    batch_size : int
        Frames per batch (>= 1).
    progress : bool
        Show a tqdm progress bar over batches.

    Returns
    -------
    Simulation

    Raises
    ------
    ValueError
        On a density or counts above :data:`structloc.sampling.MAX_EMITTERS_PER_FRAME` per frame,
        or (:class:`structloc.memory.MemoryBudgetError`) a request whose frames and emitters need
        more memory than is available; both before anything large is allocated.
    """
    n_frames = _check_n_frames(n_frames)
    field = getattr(sampler, "field", None)
    if not isinstance(field, Field) or not callable(getattr(sampler, "sample", None)):
        raise TypeError("sampler must have a `field` (structloc.Field) and a `sample(counts, rng, signal)` method")
    integer_at_least("batch_size", batch_size)
    if (density_per_um2 is None) == (counts is None):
        raise ValueError("give exactly one of density_per_um2 and counts")
    integer_at_least("seed", seed, 0)
    signal = signal_level(snr)
    psf = AstigmaticPSF() if psf is None else check_psf(psf)
    camera = camera if camera is not None else EMCCD()
    device = torch.device(device)

    host_seed, device_seed = np.random.SeedSequence(int(seed)).spawn(2)
    rng = np.random.default_rng(host_seed)
    if counts is None:
        _check_request(n_frames, field, 0.0)  # the frames alone, before drawing a count per frame
        counts = poisson_counts(n_frames, density_per_um2, field, rng)
    counts = validate_counts(counts)
    if counts.size != n_frames:
        raise ValueError(f"counts has {counts.size} entries but n_frames is {n_frames}")
    _check_request(n_frames, field, float(counts.sum()))
    emitters = sampler.sample(counts, rng, signal) if n_frames else Emitters.empty()
    generator = _device_generator(device_seed, device)

    frames = np.empty((n_frames, field.height_px, field.width_px), np.uint16)
    starts = range(0, n_frames, int(batch_size))
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, total=len(starts), desc="simulate", unit="batch")
    ordered = emitters.sorted()
    bounds = np.searchsorted(ordered.frame, np.arange(0, n_frames + batch_size, batch_size))
    for i, start in enumerate(starts):
        stop = min(start + batch_size, n_frames)
        part = ordered.take(np.arange(bounds[i], bounds[i + 1])).shift_frames(-start)
        adu = simulate_frames(
            part, stop - start, snr=signal, psf=psf, camera=camera, field=field,
            generator=generator, device=device,
        )
        frames[start:stop] = adu.to("cpu").numpy().astype(np.uint16)
    return Simulation(frames, emitters, field, psf, camera, signal, int(seed), int(batch_size))
