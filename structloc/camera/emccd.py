"""The electron-multiplying CCD (EMCCD), with the SMLM Challenge 2016 camera as its defaults."""

from __future__ import annotations

from dataclasses import dataclass

from ..checks import nonnegative_float, positive_float
from .base import Camera, check_qe_bits

__all__ = ["EMCCD"]


@dataclass(frozen=True)
class EMCCD(Camera):
    """Electron-multiplying CCD; defaults are the SMLM Challenge 2016 camera.

    ``Poisson(qe * photons + spurious_e)`` photoelectrons -> ``Gamma(shape = electrons,
    scale = em_gain)`` (0 electrons give 0) -> ``+ Normal(0, read_noise_e)`` -> ``/ e_per_adu``
    -> ``floor`` -> ``+ baseline_adu`` -> clip to ``[0, 2**bit_depth - 1]``.

    Parameters
    ----------
    qe : float
        Quantum efficiency in (0, 1].
    em_gain : float
        Mean electron-multiplication gain (> 0).
    read_noise_e : float
        Read-noise standard deviation in electrons (>= 0).
    spurious_e : float
        Spurious charge (clock-induced) in electrons per pixel per frame (>= 0).
    e_per_adu : float
        Electrons per ADU of the converter (> 0).
    baseline_adu : float
        Offset added to every pixel, in ADU.
    bit_depth : int
        Converter depth; saturation at ``2**bit_depth - 1`` ADU.
    """

    qe: float = 0.9
    em_gain: float = 300.0
    read_noise_e: float = 74.4
    spurious_e: float = 0.002
    e_per_adu: float = 45.0
    baseline_adu: float = 100.0
    bit_depth: int = 16

    def __post_init__(self) -> None:
        check_qe_bits("EMCCD", self.qe, self.bit_depth)
        positive_float("EMCCD.em_gain", self.em_gain)
        positive_float("EMCCD.e_per_adu", self.e_per_adu)
        nonnegative_float("EMCCD.read_noise_e", self.read_noise_e)
        nonnegative_float("EMCCD.spurious_e", self.spurious_e)
        nonnegative_float("EMCCD.baseline_adu", self.baseline_adu)

    def detect(self, photons, src):
        return src.poisson(photons * self.qe + self.spurious_e)

    def amplify(self, electrons, src):
        gained = src.gamma(electrons)
        gained *= self.em_gain
        return gained

    def read(self, electrons, src):
        if self.read_noise_e > 0:
            noise = src.normal(electrons)
            noise *= self.read_noise_e
            electrons += noise
        return electrons

    def digitize(self, electrons, src):
        electrons /= self.e_per_adu
        adu = src.floor(electrons)
        adu += self.baseline_adu
        return src.clip(adu, 0.0, self.max_adu)

    def adu_per_photon(self) -> float:
        """Mean ADU per photon at the sample: ``qe * em_gain / e_per_adu``."""
        return self.qe * self.em_gain / self.e_per_adu

    def mean_adu(self, photons):
        """``baseline + (qe photons + spurious) gain / e_per_adu - 1/2``.

        The ``-1/2`` is the mean of the floor; it is exact to ~exp(-2 pi^2 s^2) for a read
        noise of s ADU (s = 1.65 ADU for the challenge camera). Saturation is ignored.
        """
        signal = (photons * self.qe + self.spurious_e) * (self.em_gain / self.e_per_adu)
        return signal + (self.baseline_adu - 0.5)

    def variance_adu(self, photons):
        """``(2 gain^2 (qe photons + spurious) + read_noise^2) / e_per_adu^2 + 1/12``.

        A Poisson number of electrons through a Gamma gain register has variance
        ``2 gain^2 lambda``: the excess noise factor is exactly 2 in this model.
        """
        lam = photons * self.qe + self.spurious_e
        return (2.0 * self.em_gain**2 * lam + self.read_noise_e**2) / self.e_per_adu**2 + 1.0 / 12.0
