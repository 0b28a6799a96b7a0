"""Camera models: expected photons per pixel -> digital image in ADU, and back.

Each camera is a frozen dataclass with the same pipeline of small, overridable steps
(after microsim): ``detect`` (photons -> photoelectrons, Poisson), ``amplify`` (EM gain),
``read`` (read noise, still in electrons), ``digitize`` (electrons -> whole ADU, offset,
saturation). :meth:`Camera.expose` runs them in order on any torch device; :meth:`Camera.mean_adu`
and :meth:`Camera.variance_adu` give the closed-form moments (used by tests and the CRLB) and
:meth:`Camera.to_photons` inverts the mean.

The random steps use exact, vectorised samplers written with torch tensor operations (so the
same code runs on CPU and CUDA with a seeded ``torch.Generator``):

* Poisson: Hoermann's transformed rejection with squeeze (PTRS, the algorithm of numpy and torch)
  for means >= 10, ``torch.poisson`` for smaller means;
* Gamma with whole-number shape: Marsaglia & Tsang (2000), exact rejection;

both run as a whole-array proposal followed by re-proposals of the rejected elements only.
No Gaussian approximations are used.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from typing import Any, Mapping

import numpy as np
import torch

__all__ = [
    "Camera",
    "EMCCD",
    "SCMOS",
    "IdealCamera",
    "camera_from_name",
    "camera_from_dict",
    "camera_to_dict",
    "camera_name",
    "camera_parameters",
    "describe_camera",
    "CAMERA_PARAMETERS",
    "sample_poisson",
    "sample_gamma",
    "CAMERA_NAMES",
]

_WORK = torch.float64  # internal precision of the random steps (counts up to ~1e8 stay exact)
_PTRS_MIN_MEAN = 10.0  # PTRS is valid for means >= 10 (Hoermann 1993)


# -- exact vectorised samplers ----------------------------------------------------------------
def _rand(n: int, like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    return torch.rand(n, generator=generator, device=like.device, dtype=like.dtype)


def _ptrs(lam: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Poisson samples for a flat float64 tensor of means >= 10 (PTRS, Hoermann 1993)."""
    out = torch.empty_like(lam)
    slam = lam.sqrt()
    loglam = lam.log()
    b = slam.mul_(2.53).add_(0.931)
    a = b * 0.02483 - 0.059
    log_invalpha = (1.1328 / (b - 3.4)).add_(1.1239).log_()
    vr = 0.9277 - 3.6224 / (b - 2.0)
    todo: torch.Tensor | None = None  # indices still to draw (None: all of them)
    while True:
        n = lam.numel() if todo is None else todo.numel()
        if n == 0:
            return out
        take = (lambda t: t) if todo is None else (lambda t: t[todo])
        lam_t, a_t, b_t = take(lam), take(a), take(b)
        u = _rand(n, lam, generator).sub_(0.5)
        v = _rand(n, lam, generator)
        us = 0.5 - u.abs()
        k = (2.0 * a_t / us).add_(b_t).mul_(u).add_(lam_t).add_(0.43).floor_()
        accept = (us >= 0.07) & (v <= take(vr))
        check = ~accept & (k >= 0) & ~((us < 0.013) & (v > us))
        idx = check.nonzero().squeeze(1)
        if idx.numel():
            kc, usc = k[idx], us[idx]
            lhs = v[idx].log() + take(log_invalpha)[idx] - (a_t[idx] / (usc * usc) + b_t[idx]).log()
            rhs = kc * take(loglam)[idx] - lam_t[idx] - torch.lgamma(kc + 1.0)
            accept[idx] = lhs <= rhs
        where = accept.nonzero().squeeze(1)
        if todo is None:
            out[where] = k[where]
            todo = (~accept).nonzero().squeeze(1)
        else:
            out[todo[where]] = k[where]
            todo = todo[~accept]


def sample_poisson(mean: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Exact Poisson samples with the given means, as a float tensor of whole numbers.

    Parameters
    ----------
    mean : torch.Tensor
        Non-negative, finite means (any shape, any device).
    generator : torch.Generator, optional
        Seeded generator on ``mean.device`` (default: torch's global generator).

    Returns
    -------
    torch.Tensor
        Counts, same shape and device as ``mean``, dtype float64.
    """
    lam = mean.detach().to(_WORK).reshape(-1)
    out = torch.zeros_like(lam)
    large = lam >= _PTRS_MIN_MEAN
    n_large = int(large.sum())
    if n_large == lam.numel():
        out = _ptrs(lam, generator)
    else:
        if n_large:
            idx = large.nonzero().squeeze(1)
            out[idx] = _ptrs(lam[idx], generator)
        small = (~large & (lam > 0)).nonzero().squeeze(1)
        if small.numel():
            out[small] = torch.poisson(lam[small], generator=generator)
    return out.reshape(mean.shape)


def sample_gamma(shape: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Exact Gamma(shape, scale=1) samples for whole-number shapes >= 0 (0 gives exactly 0).

    Marsaglia & Tsang (2000): ``d = shape - 1/3``, ``c = 1 / sqrt(9 d)``; propose
    ``d (1 + c x)^3`` with ``x ~ N(0, 1)`` and accept with ``u ~ U(0, 1)`` if
    ``log u < x^2 / 2 + d (1 - v + log v)`` (with the usual cheap squeeze first). Exact for
    shape >= 1.

    Parameters
    ----------
    shape : torch.Tensor
        Whole-number shapes >= 0 (e.g. photoelectron counts), any device.
    generator : torch.Generator, optional
        Seeded generator on ``shape.device``.

    Returns
    -------
    torch.Tensor
        Samples, same shape and device, dtype float64.
    """
    flat = shape.detach().to(_WORK).reshape(-1)
    out = torch.zeros_like(flat)
    todo = (flat > 0).nonzero().squeeze(1)
    d_all = flat[todo] - 1.0 / 3.0
    c_all = (9.0 * d_all).rsqrt_()
    keep = torch.arange(todo.numel(), device=flat.device)  # rows of d_all still to draw
    while keep.numel():
        d, c = d_all[keep], c_all[keep]
        x = torch.randn(keep.numel(), generator=generator, device=flat.device, dtype=_WORK)
        u = _rand(keep.numel(), flat, generator)
        v = (c * x).add_(1.0).pow_(3)
        x2 = x.mul_(x)
        accept = (v > 0) & (u < 1.0 - 0.0331 * x2 * x2)
        idx = (~accept & (v > 0)).nonzero().squeeze(1)
        if idx.numel():
            vi = v[idx]
            accept[idx] = u[idx].log() < 0.5 * x2[idx] + d[idx] * (1.0 - vi + vi.log())
        where = accept.nonzero().squeeze(1)
        out[todo[keep[where]]] = d[where] * v[where]
        keep = keep[~accept]
    return out.reshape(shape.shape)


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


def _positive(owner: str, name: str, value: float, *, allow_zero: bool = False) -> None:
    ok = math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{owner}.{name} must be finite and {bound}, got {value!r}")


def _check_qe_bits(owner: str, qe: float, bit_depth: int) -> None:
    if not (math.isfinite(qe) and 0 < qe <= 1):
        raise ValueError(f"{owner}.qe must be in (0, 1], got {qe!r}")
    if not isinstance(bit_depth, int) or isinstance(bit_depth, bool) or not 1 <= bit_depth <= 32:
        raise ValueError(f"{owner}.bit_depth must be an integer in [1, 32], got {bit_depth!r}")


# -- random sources: one per backend, same methods ---------------------------------------------
class _TorchSource:
    """Random draws and elementwise steps on torch tensors (any device)."""

    def __init__(self, generator: torch.Generator | None) -> None:
        self.generator = generator

    def poisson(self, mean):
        return sample_poisson(mean, self.generator)

    def gamma(self, shape):
        return sample_gamma(shape, self.generator)

    def normal(self, like):
        return torch.randn(like.shape, generator=self.generator, device=like.device, dtype=like.dtype)

    @staticmethod
    def floor(x):
        return x.floor_()

    @staticmethod
    def clip(x, lo, hi):
        return x.clamp_(lo, hi)

    @staticmethod
    def param(value, like):
        if isinstance(value, np.ndarray):
            return torch.tensor(value, dtype=like.dtype, device=like.device)
        return value


class _NumpySource:
    """The same on float64 numpy arrays with a numpy Generator (fast scalar C samplers on CPU)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def poisson(self, mean):
        return self.rng.poisson(mean).astype(np.float64)

    def gamma(self, shape):
        return self.rng.gamma(shape)  # shape 0 gives exactly 0

    def normal(self, like):
        return self.rng.standard_normal(like.shape)

    @staticmethod
    def floor(x):
        return np.floor(x, out=x)

    @staticmethod
    def clip(x, lo, hi):
        return np.clip(x, lo, hi, out=x)

    @staticmethod
    def param(value, like):
        return value


_CHUNK_PIXELS = 1 << 15  # pixels per numpy work item (fixed: results do not depend on threads)
_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=max(1, min(torch.get_num_threads(), os.cpu_count() or 1)))
    return _POOL


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
            return self._pipeline(photons.to(_WORK), _TorchSource(generator)).to(dtype)
        seed = int(torch.randint(0, 2**62, (1,), generator=generator))
        flat = photons.detach().to(torch.float64).numpy()
        flat = flat.reshape((-1,) + flat.shape[-2:]) if flat.ndim >= 2 else flat.reshape(1, -1)
        per_chunk = max(1, _CHUNK_PIXELS // max(1, flat[0].size))
        pieces = [flat[i:i + per_chunk] for i in range(0, flat.shape[0], per_chunk)]
        seeds = np.random.SeedSequence(seed).spawn(len(pieces))
        work = lambda pair: self._pipeline(pair[0], _NumpySource(np.random.default_rng(pair[1])))  # noqa: E731
        parts = list(_pool().map(work, zip(pieces, seeds))) if len(pieces) > 1 else [work((pieces[0], seeds[0]))]
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


# -- EMCCD ------------------------------------------------------------------------------------
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
        _check_qe_bits("EMCCD", self.qe, self.bit_depth)
        _positive("EMCCD", "em_gain", self.em_gain)
        _positive("EMCCD", "e_per_adu", self.e_per_adu)
        _positive("EMCCD", "read_noise_e", self.read_noise_e, allow_zero=True)
        _positive("EMCCD", "spurious_e", self.spurious_e, allow_zero=True)
        _positive("EMCCD", "baseline_adu", self.baseline_adu, allow_zero=True)

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


# -- sCMOS ------------------------------------------------------------------------------------
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
    _positive("SCMOS", name, float(value), allow_zero=allow_zero)
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
        _check_qe_bits("SCMOS", self.qe, self.bit_depth)
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
            _positive("SCMOS.with_random_maps", name, value, allow_zero=True)
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
            return _TorchSource.param(value, like if like.dtype.is_floating_point else like.to(_WORK))
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
        _check_qe_bits("IdealCamera", self.qe, self.bit_depth)

    def adu_per_photon(self) -> float:
        """``qe`` counts per photon."""
        return self.qe

    def mean_adu(self, photons):
        """``qe * photons``."""
        return photons * self.qe

    def variance_adu(self, photons):
        """``qe * photons`` (Poisson)."""
        return photons * self.qe


CAMERA_NAMES = ("emccd", "scmos", "ideal")
_CLASSES: dict[str, type] = {"emccd": EMCCD, "scmos": SCMOS, "ideal": IdealCamera}

#: What each camera parameter means, with its unit (help of the ``--camera`` options).
CAMERA_PARAMETERS: dict[str, str] = {
    "qe": "quantum efficiency, in (0, 1]",
    "em_gain": "mean EM gain, electrons out per electron in (EMCCD)",
    "e_per_adu": "electrons per ADU of the converter (EMCCD)",
    "baseline_adu": "offset added to every pixel, in ADU (EMCCD)",
    "read_noise_e": "read-noise standard deviation, in electrons (EMCCD, sCMOS)",
    "spurious_e": "spurious (clock-induced) charge, electrons per pixel per frame (EMCCD)",
    "offset_adu": "offset added to every pixel, in ADU (sCMOS)",
    "gain_adu_per_e": "conversion gain, ADU per electron (sCMOS)",
    "bit_depth": "converter depth in bits; saturation at 2**bit_depth - 1 ADU",
}


def camera_parameters(name: str) -> tuple[str, ...]:
    """Parameter names of the camera called ``name`` (its dataclass fields, in order)."""
    return tuple(f.name for f in fields(_camera_class(name)))


def _camera_class(name: str) -> type:
    key = name.lower() if isinstance(name, str) else name
    if key not in _CLASSES:
        raise ValueError(f"unknown camera {name!r}; choose one of {list(CAMERA_NAMES)}")
    return _CLASSES[key]


def camera_name(camera: Camera) -> str:
    """``"emccd"``, ``"scmos"`` or ``"ideal"``: the name of a camera's model."""
    for name, cls in _CLASSES.items():
        if type(camera) is cls:
            return name
    raise TypeError(f"expected a structloc camera, got {type(camera).__name__}")


def camera_from_name(name: str, **params: Any) -> Camera:
    """A camera model by name: ``"emccd"`` (challenge preset), ``"scmos"`` or ``"ideal"``.

    Extra keyword arguments are passed to the class (e.g. ``qe=0.95``); unknown ones are refused
    with the list of the camera's parameters.
    """
    cls = _camera_class(name)
    allowed = camera_parameters(name)
    unknown = [key for key in params if key not in allowed]
    if unknown:
        raise ValueError(f"the {name.lower()} camera has no parameter {unknown[0]!r}; "
                         f"its parameters are {', '.join(allowed)}")
    return cls(**params)


def camera_from_dict(data: Mapping[str, Any]) -> Camera:
    """Inverse of :func:`camera_to_dict`: ``{"camera": name, **parameters}`` (lists become maps)."""
    if not isinstance(data, Mapping) or "camera" not in data:
        raise ValueError('a camera needs a "camera" entry naming its model '
                         f"({', '.join(CAMERA_NAMES)}) and its parameters")
    params = {k: (np.asarray(v, dtype=np.float64) if isinstance(v, list) else v)
              for k, v in data.items() if k != "camera"}
    return camera_from_name(data["camera"], **params)


def camera_to_dict(camera: Camera) -> dict[str, Any]:
    """``{"camera": name, **parameters}`` in plain python (per-pixel maps as nested lists)."""
    out: dict[str, Any] = {"camera": camera_name(camera)}
    for f in fields(camera):
        value = getattr(camera, f.name)
        out[f.name] = value.tolist() if isinstance(value, np.ndarray) else value
    return out


def describe_camera(camera: Camera) -> str:
    """One line naming a camera and its parameters, e.g. ``scmos (qe=0.8, offset_adu=100, ...)``."""
    def text(value: Any) -> str:
        if isinstance(value, np.ndarray):
            return f"map {value.shape[0]}x{value.shape[1]} (mean {value.mean():g})"
        return f"{value:g}"

    return f"{camera_name(camera)} ({', '.join(f'{f.name}={text(getattr(camera, f.name))}' for f in fields(camera))})"
