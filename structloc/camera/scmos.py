"""The scientific CMOS (sCMOS) camera: per-pixel offset, gain and read noise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..checks import nonnegative_float, positive_float
from .base import Camera, check_qe_bits
from .noise import WORK_DTYPE, TorchSource

__all__ = ["SCMOS"]


def _as_map(name: str, value: Any, *, allow_zero: bool) -> float | np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        if value.ndim != 2 or value.size == 0:
            raise ValueError(f"SCMOS.{name} must be a scalar or a 2-D (H, W) map, got shape {value.shape}")
        if value.dtype.kind not in "biuf":
            raise TypeError(f"SCMOS.{name} must be numeric, got dtype {value.dtype}")
        out = value.astype(np.float64)
        if not np.all(np.isfinite(out)):
            raise ValueError(f"SCMOS.{name} contains NaN or infinite values")
        if np.any(out < 0) or (not allow_zero and np.any(out == 0)):
            raise ValueError(f"SCMOS.{name} must be {'>= 0' if allow_zero else '> 0'} everywhere")
        out.setflags(write=False)
        return out
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"SCMOS.{name} must be a number or a 2-D array, got {type(value).__name__}")
    (nonnegative_float if allow_zero else positive_float)(f"SCMOS.{name}", float(value))
    return float(value)


@dataclass(frozen=True, eq=False)
class SCMOS(Camera):
    """Scientific CMOS camera with per-pixel offset, gain and read noise.

    ``Poisson(qe * photons)`` photoelectrons -> ``+ Normal(0, read_noise_e)`` -> ``* gain_adu_per_e``
    -> ``floor`` -> ``+ offset_adu`` -> clip to ``[0, 2**bit_depth - 1]``. Each of
    ``offset_adu``, ``gain_adu_per_e`` and ``read_noise_e`` is a scalar or an (H, W) map that must
    match the frame shape. The defaults are illustrative values typical of a scientific CMOS
    camera, not a particular model; :meth:`with_random_maps` draws pixel-to-pixel variation.

    Parameters
    ----------
    qe : float
        Quantum efficiency in (0, 1].
    offset_adu : float or (H, W) array
        Offset in ADU (>= 0).
    gain_adu_per_e : float or (H, W) array
        Conversion gain in ADU per electron (> 0).
    read_noise_e : float or (H, W) array
        Read-noise standard deviation in electrons (>= 0).
    bit_depth : int
        Converter depth; saturation at ``2**bit_depth - 1`` ADU.
    """

    qe: float = 0.8
    offset_adu: Any = 100.0
    gain_adu_per_e: Any = 0.5
    read_noise_e: Any = 1.6
    bit_depth: int = 16

    def __post_init__(self) -> None:
        check_qe_bits("SCMOS", self.qe, self.bit_depth)
        maps = {
            "offset_adu": _as_map("offset_adu", self.offset_adu, allow_zero=True),
            "gain_adu_per_e": _as_map("gain_adu_per_e", self.gain_adu_per_e, allow_zero=False),
            "read_noise_e": _as_map("read_noise_e", self.read_noise_e, allow_zero=True),
        }
        shapes = {name: m.shape for name, m in maps.items() if isinstance(m, np.ndarray)}
        if len(set(shapes.values())) > 1:
            raise ValueError(f"SCMOS maps must share one (H, W) shape, got {shapes}")
        for name, value in maps.items():
            object.__setattr__(self, name, value)

    @property
    def map_shape(self) -> tuple[int, int] | None:
        """(H, W) of the per-pixel maps, or None when every parameter is a scalar."""
        for name in ("offset_adu", "gain_adu_per_e", "read_noise_e"):
            value = getattr(self, name)
            if isinstance(value, np.ndarray):
                return value.shape
        return None

    @classmethod
    def with_random_maps(
        cls,
        shape_hw: tuple[int, int],
        *,
        seed: int = 0,
        qe: float = 0.8,
        offset_adu: float = 100.0,
        offset_spread_adu: float = 2.0,
        gain_adu_per_e: float = 0.5,
        gain_spread: float = 0.05,
        read_noise_e: float = 1.6,
        read_noise_sigma_log: float = 0.4,
        bit_depth: int = 16,
    ) -> "SCMOS":
        """An sCMOS camera with random per-pixel maps (reproducible with ``seed``).

        Offsets are ``Normal(offset_adu, offset_spread_adu)`` (clipped at 0), gains
        ``gain_adu_per_e * (1 + gain_spread * Normal)`` (clipped at 10 % of the mean) and read
        noise log-normal with median ``read_noise_e`` and log-sd ``read_noise_sigma_log``
        (a long tail of noisy pixels, as in real sensors).
        """
        if (
            len(shape_hw) != 2
            or not all(isinstance(s, (int, np.integer)) and s > 0 for s in shape_hw)
        ):
            raise ValueError(f"shape_hw must be two positive integers (H, W), got {shape_hw!r}")
        for name, value in (("offset_spread_adu", offset_spread_adu), ("gain_spread", gain_spread),
                            ("read_noise_sigma_log", read_noise_sigma_log)):
            nonnegative_float(f"SCMOS.with_random_maps.{name}", value)
        rng = np.random.default_rng(seed)
        shape = tuple(int(s) for s in shape_hw)
        offset = np.maximum(rng.normal(offset_adu, offset_spread_adu, shape), 0.0)
        gain = gain_adu_per_e * np.maximum(1.0 + gain_spread * rng.standard_normal(shape), 0.1)
        noise = read_noise_e * np.exp(read_noise_sigma_log * rng.standard_normal(shape))
        return cls(qe=qe, offset_adu=offset, gain_adu_per_e=gain, read_noise_e=noise, bit_depth=bit_depth)

    def _check_frame_shape(self, photons: torch.Tensor) -> None:
        shape = self.map_shape
        if shape is not None and tuple(photons.shape[-2:]) != shape:
            raise ValueError(
                f"SCMOS maps have shape {shape} but photons have shape {tuple(photons.shape)}"
            )

    def read(self, electrons, src):
        noise = src.normal(electrons)
        noise *= src.param(self.read_noise_e, electrons)
        electrons += noise
        return electrons

    def digitize(self, electrons, src):
        electrons *= src.param(self.gain_adu_per_e, electrons)
        adu = src.floor(electrons)
        adu += src.param(self.offset_adu, electrons)
        return src.clip(adu, 0.0, self.max_adu)

    def _param(self, name: str, like):
        value = getattr(self, name)
        if isinstance(like, torch.Tensor):
            if isinstance(value, np.ndarray) and like.ndim >= 2 and tuple(like.shape[-2:]) != value.shape:
                raise ValueError(
                    f"SCMOS.{name} map has shape {value.shape} but frames are {tuple(like.shape[-2:])}"
                )
            return TorchSource.param(value, like if like.dtype.is_floating_point else like.to(WORK_DTYPE))
        return value

    def _maps_like(self, photons) -> tuple[Any, Any, Any, Any]:
        return tuple([photons] + [self._param(n, photons) for n in ("offset_adu", "gain_adu_per_e", "read_noise_e")])

    def adu_per_photon(self):
        """Mean ADU per photon at the sample: ``qe * gain_adu_per_e`` (scalar or map)."""
        return self.qe * self.gain_adu_per_e

    def mean_adu(self, photons):
        """``offset + gain qe photons - 1/2`` (per pixel; ``-1/2`` is the floor's mean)."""
        photons, offset, gain, _ = self._maps_like(photons)
        return offset + gain * self.qe * photons - 0.5

    def variance_adu(self, photons):
        """``gain^2 (qe photons + read_noise^2) + 1/12`` (per pixel)."""
        photons, _, gain, noise = self._maps_like(photons)
        return gain**2 * (self.qe * photons + noise**2) + 1.0 / 12.0

    def to_photons(self, adu):
        if not isinstance(adu, torch.Tensor):
            adu = torch.as_tensor(np.asarray(adu, dtype=np.float64))
        if not adu.dtype.is_floating_point:
            adu = adu.to(torch.float32)
        _, offset, gain, _ = self._maps_like(adu)
        return (adu - offset + 0.5) / (gain * self.qe)
