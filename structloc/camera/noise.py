"""Exact, vectorised noise samplers and the random sources the camera steps draw from.

The random steps of a camera use exact samplers written with torch tensor operations (so the
same code runs on CPU and CUDA with a seeded ``torch.Generator``):

* Poisson: Hoermann's transformed rejection with squeeze (PTRS, the algorithm of numpy and torch)
  for means >= 10, ``torch.poisson`` for smaller means;
* Gamma with whole-number shape: Marsaglia & Tsang (2000), exact rejection;

both run as a whole-array proposal followed by re-proposals of the rejected elements only.
No Gaussian approximations are used. On the CPU the camera draws instead with numpy Generators
(fast scalar C samplers) on fixed-size chunks in a small thread pool: :class:`TorchSource` and
:class:`NumpySource` offer the same methods, so one camera step serves both.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

__all__ = ["sample_poisson", "sample_gamma", "TorchSource", "NumpySource", "WORK_DTYPE", "CHUNK_PIXELS",
           "pool"]

WORK_DTYPE = torch.float64  # internal precision of the random steps (counts up to ~1e8 stay exact)
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
    lam = mean.detach().to(WORK_DTYPE).reshape(-1)
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
    flat = shape.detach().to(WORK_DTYPE).reshape(-1)
    out = torch.zeros_like(flat)
    todo = (flat > 0).nonzero().squeeze(1)
    d_all = flat[todo] - 1.0 / 3.0
    c_all = (9.0 * d_all).rsqrt_()
    keep = torch.arange(todo.numel(), device=flat.device)  # rows of d_all still to draw
    while keep.numel():
        d, c = d_all[keep], c_all[keep]
        x = torch.randn(keep.numel(), generator=generator, device=flat.device, dtype=WORK_DTYPE)
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



# -- random sources: one per backend, same methods ---------------------------------------------
class TorchSource:
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


class NumpySource:
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


CHUNK_PIXELS = 1 << 15  # pixels per numpy work item (fixed: results do not depend on threads)
_POOL: ThreadPoolExecutor | None = None


def pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=max(1, min(torch.get_num_threads(), os.cpu_count() or 1)))
    return _POOL
