"""Astigmatic Gaussian PSF with the Huang et al. (2008) defocus model, integrated over pixels.

The expected photon image of an emitter at (x, y, z) with N photons is

    mu[row, col] = N * Px[col] * Py[row],
    Px[col] = 1/2 [erf((x_hi - x) / (sqrt(2) sx(z))) - erf((x_lo - x) / (sqrt(2) sx(z)))]

with ``x_lo, x_hi`` the edges of the column in nm (and likewise for rows), and

    s(z) = s0 * sqrt(1 + u^2 + A u^3 + B u^4),  u = (z - c) / d

separately for x and y. Because the Gaussian is separable, a frame with E emitters is the matrix
product ``Py^T @ diag(N) @ Px`` of an (E x H) and an (E x W) profile matrix: exact (no patch
truncation), memory O(E (H + W)) instead of O(E H W), and one batched matmul on any device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .emitters import Emitters
from .field import Field

__all__ = ["AstigmaticPSF", "render", "render_padded", "pad_by_frame", "pixel_profile"]


@dataclass(frozen=True)
class AstigmaticPSF:
    """Parameters of the astigmatic Gaussian PSF (Huang et al., Science 2008).

    ``sigma_x(z) = sigma0_x_nm * sqrt(1 + u^2 + a_x u^3 + b_x u^4)``, ``u = (z - c_x_nm) / d_x_nm``,
    and the same for y with its own parameters. The defaults are fitted to the SMLM Challenge 2016
    astigmatic bead z-stack: ``structloc.calibration.fit_bead_stack()`` (31 x 31 px ROIs around the
    six beads, pixel-integrated Gaussian fits per frame, median width over beads, Huang curves by
    least squares; rms residual 7.6 nm), rounded to 0.1 nm and 4 decimals; ``tests/test_calibration.py``
    re-runs the fit and checks these numbers.

    Parameters
    ----------
    sigma0_x_nm, sigma0_y_nm : float
        In-focus Gaussian standard deviation along x and y, in nm (> 0).
    c_x_nm, c_y_nm : float
        Axial position of the x and y focus, in nm.
    d_x_nm, d_y_nm : float
        Depth of focus of each axis, in nm (> 0).
    a_x, b_x, a_y, b_y : float
        Dimensionless third- and fourth-order correction coefficients.
    """

    sigma0_x_nm: float = 163.0
    sigma0_y_nm: float = 151.2
    c_x_nm: float = -34.5
    c_y_nm: float = 309.1
    d_x_nm: float = 304.7
    d_y_nm: float = 263.8
    a_x: float = -0.2287
    b_x: float = 0.2317
    a_y: float = 0.1432
    b_y: float = 0.1342

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not math.isfinite(value):
                raise ValueError(f"AstigmaticPSF.{name} must be finite, got {value!r}")
        for name in ("sigma0_x_nm", "sigma0_y_nm", "d_x_nm", "d_y_nm"):
            if getattr(self, name) <= 0:
                raise ValueError(f"AstigmaticPSF.{name} must be positive, got {getattr(self, name)!r}")

    def sigma_nm(self, z_nm):
        """Gaussian widths ``(sigma_x, sigma_y)`` in nm at axial positions ``z_nm`` (nm).

        Works on floats, numpy arrays and torch tensors. The radicand is clipped at a small
        positive floor so that extreme z never gives NaN.
        """
        return (
            _huang(z_nm, self.sigma0_x_nm, self.c_x_nm, self.d_x_nm, self.a_x, self.b_x),
            _huang(z_nm, self.sigma0_y_nm, self.c_y_nm, self.d_y_nm, self.a_y, self.b_y),
        )

    def max_sigma_nm(self, z_min_nm: float = -750.0, z_max_nm: float = 750.0) -> float:
        """Largest width of either axis over ``[z_min_nm, z_max_nm]``, in nm."""
        z = np.linspace(z_min_nm, z_max_nm, 301)
        sx, sy = self.sigma_nm(z)
        return float(max(sx.max(), sy.max()))


_RADICAND_FLOOR = 1e-2


def _huang(z, s0, c, d, a, b):
    u = (z - c) / d
    radicand = 1 + u**2 + a * u**3 + b * u**4
    if isinstance(radicand, torch.Tensor):
        return s0 * torch.sqrt(torch.clamp(radicand, min=_RADICAND_FLOOR))
    return s0 * np.sqrt(np.maximum(radicand, _RADICAND_FLOOR))


def pixel_profile(center_nm: torch.Tensor, sigma_nm: torch.Tensor, n_px: int, pixel_nm: float) -> torch.Tensor:
    """Fraction of a 1-D Gaussian falling in each of ``n_px`` pixels.

    Parameters
    ----------
    center_nm, sigma_nm : torch.Tensor, shape (...,)
        Centre and standard deviation in nm.
    n_px : int
        Number of pixels; pixel k covers ``[k, k + 1) * pixel_nm``.
    pixel_nm : float
        Pixel size in nm.

    Returns
    -------
    torch.Tensor, shape (..., n_px)
        Integrated fractions (each in [0, 1]; they sum to 1 for a Gaussian well inside the range).
    """
    edges = torch.arange(n_px + 1, device=center_nm.device, dtype=center_nm.dtype) * pixel_nm
    if torch.is_grad_enabled() and (center_nm.requires_grad or sigma_nm.requires_grad):
        cdf = torch.erf((edges - center_nm.unsqueeze(-1)) / (sigma_nm.unsqueeze(-1) * math.sqrt(2.0)))
        return 0.5 * (cdf[..., 1:] - cdf[..., :-1])
    # no autograd: reuse buffers in place (one erf per edge, no extra temporaries)
    inv_width = (sigma_nm * math.sqrt(2.0)).reciprocal_().unsqueeze(-1)
    cdf = (edges - center_nm.unsqueeze(-1)).mul_(inv_width).erf_()
    return torch.sub(cdf[..., 1:], cdf[..., :-1]).mul_(0.5)


#: Profile elements (per axis) computed at once by render_padded: keeps temporaries cache-sized.
_RENDER_CHUNK_ELEMENTS = 1 << 18


def render_padded(
    x_nm: torch.Tensor,
    y_nm: torch.Tensor,
    z_nm: torch.Tensor,
    photons: torch.Tensor,
    *,
    psf: AstigmaticPSF,
    field: Field,
) -> torch.Tensor:
    """Expected photon images of a batch of frames from padded emitter tensors.

    Parameters
    ----------
    x_nm, y_nm, z_nm, photons : torch.Tensor, shape (B, E)
        Emitter positions (nm) and photon counts per frame; padding slots carry 0 photons.
    psf : AstigmaticPSF
        The PSF model.
    field : Field
        Frame geometry.

    Returns
    -------
    torch.Tensor, shape (B, H, W)
        Expected photons per pixel, on the device and dtype of the inputs.
    """
    n_batch, n_emit = x_nm.shape
    height, width = field.height_px, field.width_px
    out = torch.empty((n_batch, height, width), dtype=x_nm.dtype, device=x_nm.device)
    step = n_batch if x_nm.device.type != "cpu" else max(1, _RENDER_CHUNK_ELEMENTS // max(1, n_emit * (width + 1)))
    for start in range(0, n_batch, step):
        part = slice(start, start + step)
        sx, sy = psf.sigma_nm(z_nm[part])
        px = pixel_profile(x_nm[part], sx, width, field.pixel_nm)  # (b, E, W)
        py = pixel_profile(y_nm[part], sy, height, field.pixel_nm) * photons[part].unsqueeze(-1)
        torch.bmm(py.transpose(1, 2), px, out=out[part])  # (b, H, E) @ (b, E, W)
    return out


def pad_by_frame(emitters: Emitters, n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Slot layout that packs an emitters table into (n_frames, E_max) padded arrays.

    Returns
    -------
    slot : np.ndarray of int, shape (n,)
        Position of each row within its frame.
    e_max : int
        Largest number of emitters in one frame (at least 1, so shapes stay valid).
    """
    if len(emitters) and emitters.frame.max() >= n_frames:
        raise ValueError(
            f"emitters reference frame {int(emitters.frame.max())} but only {n_frames} frames requested"
        )
    order = np.argsort(emitters.frame, kind="stable")
    counts = np.bincount(emitters.frame, minlength=n_frames)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot = np.empty(len(emitters), np.int64)
    slot[order] = np.arange(len(emitters)) - starts[emitters.frame[order]]
    return slot, max(int(counts.max()) if counts.size else 0, 1)


def render(
    emitters: Emitters,
    n_frames: int | None = None,
    *,
    psf: AstigmaticPSF | None = None,
    field: Field | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Expected photon images (no background, no noise) of an emitters table.

    Parameters
    ----------
    emitters : Emitters
        Ground-truth table; ``frame`` selects the output frame.
    n_frames : int, optional
        Number of frames to render (default: ``emitters.n_frames``).
    psf, field : optional
        PSF model and frame geometry (defaults: :class:`AstigmaticPSF`, :class:`Field`).
    device, dtype : optional
        Where and in which precision to render.

    Returns
    -------
    torch.Tensor, shape (n_frames, H, W)
        Expected photons per pixel.
    """
    psf = psf or AstigmaticPSF()
    field = field or Field()
    n_frames = emitters.n_frames if n_frames is None else int(n_frames)
    if n_frames < 0:
        raise ValueError(f"n_frames must be >= 0, got {n_frames}")
    slot, e_max = pad_by_frame(emitters, n_frames)
    padded = np.zeros((4, n_frames, e_max))
    padded[:, emitters.frame, slot] = np.stack([emitters.x_nm, emitters.y_nm, emitters.z_nm, emitters.photons])
    x, y, z, n = torch.as_tensor(padded, dtype=dtype, device=device)
    return render_padded(x, y, z, n, psf=psf, field=field)
