"""The camera interface: expected photons per pixel -> digital image in ADU, and back.

Each camera is a frozen dataclass with the same pipeline of small, overridable steps
(after microsim): ``detect`` (photons -> photoelectrons, Poisson), ``amplify`` (EM gain),
``read`` (read noise, still in electrons), ``digitize`` (electrons -> whole ADU, offset,
saturation). :meth:`Camera.expose` runs them in order on any torch device; :meth:`Camera.mean_adu`
and :meth:`Camera.variance_adu` give the closed-form moments (used by tests and the CRLB) and
:meth:`Camera.to_photons` inverts the mean. :class:`IdealCamera`, shot noise only, is the
pipeline with no step overridden; the EMCCD and sCMOS models live in their own modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..checks import in_range, integer_in_range
from .noise import CHUNK_PIXELS, WORK_DTYPE, NumpySource, TorchSource, pool

__all__ = ["Camera", "IdealCamera"]


# -- validation helpers -----------------------------------------------------------------------
def _check_photons(photons: Any) -> torch.Tensor:
    if not isinstance(photons, torch.Tensor):
        if isinstance(photons, (np.ndarray, list, tuple, float, int)):
            photons = torch.as_tensor(np.asarray(photons, dtype=np.float64))
        else:
            raise TypeError(f"photons must be a torch.Tensor or array, got {type(photons).__name__}")
    if not (photons.dtype.is_floating_point or photons.dtype in (torch.int32, torch.int64, torch.uint8)):
        raise TypeError(f"photons must be a real-valued tensor, got dtype {photons.dtype}")
    if photons.numel():
        if not bool(torch.isfinite(photons).all()):
            raise ValueError("photons contain NaN or infinite values")
        if bool((photons < 0).any()):
            raise ValueError("photons must be >= 0 (expected photons per pixel), got negative values")
    return photons


def _out_dtype(photons: torch.Tensor) -> torch.dtype:
    return photons.dtype if photons.dtype.is_floating_point else torch.float32


def check_qe_bits(owner: str, qe: float, bit_depth: int) -> None:
    """The checks every camera makes: ``qe`` in (0, 1], ``bit_depth`` an integer in [1, 32]."""
    in_range(f"{owner}.qe", qe, 0.0, 1.0, low_open=True)
    integer_in_range(f"{owner}.bit_depth", bit_depth, 1, 32)


# -- the base class ---------------------------------------------------------------------------
class Camera:
    """Interface shared by the camera models (subclasses are frozen dataclasses).

    Subclasses define ``qe``, ``bit_depth`` and override the steps they change. Each step takes
    an array and a random source ``src`` (torch tensors on any device, or float64 numpy arrays
    on the CPU fast path) and uses only ``src``'s methods and arithmetic, so one definition
    serves both backends.
    """

    qe: float
    bit_depth: int

    @property
    def max_adu(self) -> float:
        """Saturation value ``2**bit_depth - 1`` in ADU."""
        return float(2**self.bit_depth - 1)

    # steps (overridable) ------------------------------------------------------------------
    def detect(self, photons, src):
        """Photoelectrons: ``Poisson(qe * photons)``."""
        return src.poisson(photons * self.qe)

    def amplify(self, electrons, src):
        """Electron multiplication (none by default)."""
        return electrons

    def read(self, electrons, src):
        """Add read noise in electrons (none by default)."""
        return electrons

    def digitize(self, electrons, src):
        """Electrons to whole ADU, offset and clipping to ``[0, max_adu]``."""
        return src.clip(electrons, 0.0, self.max_adu)

    def _pipeline(self, photons, src):
        electrons = self.detect(photons, src)
        electrons = self.amplify(electrons, src)
        electrons = self.read(electrons, src)
        return self.digitize(electrons, src)

    # the pipeline ---------------------------------------------------------------------------
    def expose(self, photons: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Digital image of expected photons per pixel.

        On the CPU the noise is drawn with numpy Generators (seeded from ``generator``) on
        fixed-size chunks of whole frames, in a small thread pool; on other devices with the
        exact torch samplers of this module. Both are reproducible for a seeded generator.

        Parameters
        ----------
        photons : torch.Tensor
            Expected photons per pixel at the sample (before QE), any shape, any device; >= 0.
        generator : torch.Generator, optional
            Seeded generator on ``photons.device`` for reproducible noise.

        Returns
        -------
        torch.Tensor
            Whole-number ADU values in ``[0, 2**bit_depth - 1]``, same shape and device, float
            (the input's float dtype, float32 for integer input).
        """
        photons = _check_photons(photons)
        self._check_frame_shape(photons)
        dtype = _out_dtype(photons)
        if photons.numel() == 0:
            return torch.empty(photons.shape, dtype=dtype, device=photons.device)
        if photons.device.type != "cpu":
            return self._pipeline(photons.to(WORK_DTYPE), TorchSource(generator)).to(dtype)
        seed = int(torch.randint(0, 2**62, (1,), generator=generator))
        flat = photons.detach().to(torch.float64).numpy()
        flat = flat.reshape((-1,) + flat.shape[-2:]) if flat.ndim >= 2 else flat.reshape(1, -1)
        per_chunk = max(1, CHUNK_PIXELS // max(1, flat[0].size))
        pieces = [flat[i:i + per_chunk] for i in range(0, flat.shape[0], per_chunk)]
        seeds = np.random.SeedSequence(seed).spawn(len(pieces))
        work = lambda pair: self._pipeline(pair[0], NumpySource(np.random.default_rng(pair[1])))  # noqa: E731
        parts = list(pool().map(work, zip(pieces, seeds))) if len(pieces) > 1 else [work((pieces[0], seeds[0]))]
        out = torch.from_numpy(np.concatenate(parts)).reshape(photons.shape)
        return out.to(dtype)

    def _check_frame_shape(self, photons: torch.Tensor) -> None:
        """Hook for cameras with per-pixel maps (frames must match them)."""

    # closed forms ---------------------------------------------------------------------------
    def mean_adu(self, photons):  # pragma: no cover - abstract
        """Expected ADU of a pixel with ``photons`` expected photons (ignores saturation)."""
        raise NotImplementedError

    def variance_adu(self, photons):  # pragma: no cover - abstract
        """Variance in ADU^2 of a pixel with ``photons`` expected photons (ignores saturation)."""
        raise NotImplementedError

    def adu_per_photon(self):  # pragma: no cover - abstract
        """Slope of :meth:`mean_adu` in ADU per photon (at the sample, before QE)."""
        raise NotImplementedError

    def to_photons(self, adu: torch.Tensor) -> torch.Tensor:
        """Invert the mean: photons (at the sample, before QE) whose expected ADU is ``adu``.

        ``(adu - mean_adu(0)) / adu_per_photon()``, so that ``E[to_photons(expose(mu))] = mu``
        (below saturation).
        """
        if not isinstance(adu, torch.Tensor):
            adu = torch.as_tensor(np.asarray(adu, dtype=np.float64))
        if not adu.dtype.is_floating_point:
            adu = adu.to(torch.float32)
        zero = torch.zeros((), dtype=adu.dtype, device=adu.device)
        return (adu - self.mean_adu(zero)) / self.adu_per_photon()


# -- ideal ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IdealCamera(Camera):
    """Shot noise only: ADU = detected photons (``Poisson(qe * photons)``), baseline 0, gain 1.

    Parameters
    ----------
    qe : float
        Quantum efficiency in (0, 1].
    bit_depth : int
        Saturation at ``2**bit_depth - 1`` counts.
    """

    qe: float = 1.0
    bit_depth: int = 16

    def __post_init__(self) -> None:
        check_qe_bits("IdealCamera", self.qe, self.bit_depth)

    def adu_per_photon(self) -> float:
        """``qe`` counts per photon."""
        return self.qe

    def mean_adu(self, photons):
        """``qe * photons``."""
        return photons * self.qe

    def variance_adu(self, photons):
        """``qe * photons`` (Poisson)."""
        return photons * self.qe
