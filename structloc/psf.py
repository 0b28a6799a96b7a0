"""Astigmatic Gaussian PSF with the Huang et al. (2008) defocus model, integrated over pixels.

The expected photon image of an emitter at (x, y, z) with N photons is

    mu[row, col] = N * Px[col] * Py[row],
    Px[col] = 1/2 [erf((x_hi - x) / (sqrt(2) sx(z))) - erf((x_lo - x) / (sqrt(2) sx(z)))]

with ``x_lo, x_hi`` the edges of the column in nm (and likewise for rows), and

    s(z) = s0 * sqrt(1 + u^2 + A u^3 + B u^4),  u = (z - c) / d

separately for x and y. Because the Gaussian is separable, a frame with E emitters is the matrix
product ``Py^T @ diag(N) @ Px`` of an (E x H) and an (E x W) profile matrix: exact (no patch
truncation), memory O(E (H + W)) instead of O(E H W), and one batched matmul on any device.

:func:`render` and :func:`render_padded` take any model of the :class:`PSF` protocol (a
``render_padded`` method): this Gaussian, or the bead stack itself
(:class:`structloc.interpolated_psf.InterpolatedPSF`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

import numpy as np
import torch

from .drift import drift_curve, drift_slope
from .emitters import Emitters
from .field import Field

__all__ = ["AstigmaticPSF", "BEAD_DRIFT_X_NM", "BEAD_DRIFT_Y_NM", "BEAD_DRIFT_Z_NM", "PSF", "check_psf", "render",
           "render_padded", "pad_by_frame", "pixel_profile"]

#: Knots of the centre drift fitted to the shipped bead stack (every 20 nm from -750 to 750 nm):
#: ``structloc.calibration.fit_bead_stack()`` with its default knot spacing, rounded to 0.1 nm;
#: ``tests/test_calibration.py`` re-runs the fit and checks these numbers.
BEAD_DRIFT_Z_NM = tuple(float(z) for z in range(-750, 751, 20))
BEAD_DRIFT_X_NM = (
    1.1, 13.8, 16.6, 17.9, 16.5, 17.1, 14.3, 18, 21.1, 20.9, 15.4, 12.3, 15, 15.6, 19.9, 19.5,
    18.3, 20.8, 22, 22, 17.9, 15.3, 16, 16.2, 13.5, 14.4, 13.7, 16.7, 14.4, 16.8, 12.4, 9.1,
    8.8, 10.7, 14.6, 15.4, 13.3, 9, 8.2, 7.2, 9.5, 12.6, 18.6, 23.3, 26.1, 31.1, 36.4, 36.4,
    35.9, 30.8, 35.2, 39, 40.9, 38, 40.3, 46.8, 48.6, 47.1, 43.2, 34.2, 29.4, 27.1, 21.5, 16.2,
    15.9, 6.7, 12.1, 13.2, 18.5, 13.8, 16.8, 18.2, 21, 8.2, 17, 19.6,
)
BEAD_DRIFT_Y_NM = (
    -106.8, -101.8, -105, -90.5, -92.5, -99.2, -80, -92, -79.2, -69.5, -78.7, -76.2, -76.1,
    -75.5, -78.1, -69.3, -56.8, -57.6, -57.8, -59.7, -65.9, -55.9, -55.2, -62.5, -60.8, -54.1,
    -50.9, -47.7, -48.3, -52, -42.5, -35.6, -35, -39.2, -45.2, -54, -54.2, -54, -51.8, -45.7,
    -43.7, -42.3, -45, -46.6, -45.6, -43.5, -49.3, -46, -41.1, -39.8, -38.6, -40.7, -43.8,
    -49.9, -54.8, -57.2, -59.8, -66.6, -71.2, -73.3, -76.6, -76.7, -76.5, -79.3, -85.3, -79.7,
    -81.1, -84.9, -86.1, -83, -85.7, -86.7, -87.7, -84.9, -84.2, -90,
)


@runtime_checkable
class PSF(Protocol):
    """What the renderer needs of a PSF model: expected photon images of padded emitter tensors.

    Two models implement it: :class:`AstigmaticPSF` (the Gaussian model that training, the CRLB
    and the shipped models use) and :class:`structloc.interpolated_psf.InterpolatedPSF` (the bead
    stack itself, for simulating a real microscope's frames). :func:`render`,
    :func:`render_padded` and :mod:`structloc.simulate` accept either.
    """

    def render_padded(self, x_nm: torch.Tensor, y_nm: torch.Tensor, z_nm: torch.Tensor, photons: torch.Tensor, *,
                      field: Field) -> torch.Tensor:
        """Expected photons per pixel, shape (B, H, W), of emitters given as (B, E) tensors."""
        ...


def check_psf(psf) -> PSF:
    """``psf`` itself if it is a PSF model; a one-line TypeError otherwise."""
    if not isinstance(psf, PSF):
        raise TypeError(f"psf must be a PSF model (AstigmaticPSF or InterpolatedPSF), got {type(psf).__name__}")
    return psf


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
    drift_z_nm, drift_x_nm, drift_y_nm : tuple of float
        Centre drift (:mod:`structloc.drift`): the image of an emitter at ``(x, y, z)`` is centred
        at ``(x + dx(z), y + dy(z))``, with ``dx``, ``dy`` piecewise linear through the knots
        ``(drift_z_nm[k], drift_x_nm[k], drift_y_nm[k])`` (nm; z increasing; constant beyond the
        ends). Ground-truth positions are always the emitter's. Default: the drift fitted to the
        bead stack (:data:`BEAD_DRIFT_X_NM`, :data:`BEAD_DRIFT_Y_NM`); three empty tuples (see
        :meth:`without_drift`) put the image on the emitter, the model of structloc <= 0.1.
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
    drift_z_nm: tuple[float, ...] = BEAD_DRIFT_Z_NM
    drift_x_nm: tuple[float, ...] = BEAD_DRIFT_X_NM
    drift_y_nm: tuple[float, ...] = BEAD_DRIFT_Y_NM

    def __post_init__(self) -> None:
        drift = ("drift_z_nm", "drift_x_nm", "drift_y_nm")
        for name in drift:  # lists (e.g. from JSON) become tuples of floats, so configs compare equal
            try:
                object.__setattr__(self, name, tuple(float(v) for v in getattr(self, name)))
            except (TypeError, ValueError):
                raise ValueError(f"AstigmaticPSF.{name} must be a sequence of numbers, "
                                 f"got {getattr(self, name)!r}") from None
        for name, value in vars(self).items():
            values = value if name in drift else (value,)
            if not all(math.isfinite(v) for v in values):
                raise ValueError(f"AstigmaticPSF.{name} must be finite, got {value!r}")
        for name in ("sigma0_x_nm", "sigma0_y_nm", "d_x_nm", "d_y_nm"):
            if getattr(self, name) <= 0:
                raise ValueError(f"AstigmaticPSF.{name} must be positive, got {getattr(self, name)!r}")
        lengths = {len(getattr(self, name)) for name in drift}
        if len(lengths) != 1:
            raise ValueError("AstigmaticPSF.drift_z_nm, drift_x_nm and drift_y_nm must have the same length, "
                             f"got {[len(getattr(self, name)) for name in drift]}")
        if any(b <= a for a, b in zip(self.drift_z_nm, self.drift_z_nm[1:])):
            raise ValueError("AstigmaticPSF.drift_z_nm must be strictly increasing")

    @property
    def has_drift(self) -> bool:
        """Whether the image centre moves away from the emitter at some z."""
        return any(self.drift_x_nm) or any(self.drift_y_nm)

    def without_drift(self) -> AstigmaticPSF:
        """The same widths with the image centred on the emitter at every z."""
        return replace(self, drift_z_nm=(), drift_x_nm=(), drift_y_nm=())

    def centre_offset_nm(self, z_nm):
        """Offsets ``(dx, dy)`` in nm of the image centre from the emitter at ``z_nm`` (nm).

        Works on floats, numpy arrays and torch tensors.
        """
        return (drift_curve(z_nm, self.drift_z_nm, self.drift_x_nm),
                drift_curve(z_nm, self.drift_z_nm, self.drift_y_nm))

    def centre_offset_slope(self, z_nm) -> tuple[np.ndarray, np.ndarray]:
        """Derivatives ``(d dx/dz, d dy/dz)`` of :meth:`centre_offset_nm` (dimensionless, numpy)."""
        return (drift_slope(z_nm, self.drift_z_nm, self.drift_x_nm),
                drift_slope(z_nm, self.drift_z_nm, self.drift_y_nm))

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

    def render_padded(self, x_nm: torch.Tensor, y_nm: torch.Tensor, z_nm: torch.Tensor, photons: torch.Tensor,
                      *, field: Field) -> torch.Tensor:
        """Expected photon images of padded emitters (see :func:`render_padded`).

        Separable: one (H x E) @ (E x W) product of pixel-integrated profiles per frame.
        """
        n_batch, n_emit = x_nm.shape
        height, width = field.height_px, field.width_px
        out = torch.empty((n_batch, height, width), dtype=x_nm.dtype, device=x_nm.device)
        step = n_batch if x_nm.device.type != "cpu" else max(1, _RENDER_CHUNK_ELEMENTS // max(1, n_emit * (width + 1)))
        for start in range(0, n_batch, step):
            part = slice(start, start + step)
            sx, sy = self.sigma_nm(z_nm[part])
            x, y = x_nm[part], y_nm[part]
            if self.has_drift:  # the image centre, not the emitter
                dx, dy = self.centre_offset_nm(z_nm[part])
                x, y = x + dx, y + dy
            px = pixel_profile(x, sx, width, field.pixel_nm)  # (b, E, W)
            py = pixel_profile(y, sy, height, field.pixel_nm) * photons[part].unsqueeze(-1)
            torch.bmm(py.transpose(1, 2), px, out=out[part])  # (b, H, E) @ (b, E, W)
        return out


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
    psf: PSF,
    field: Field,
) -> torch.Tensor:
    """Expected photon images of a batch of frames from padded emitter tensors.

    Parameters
    ----------
    x_nm, y_nm, z_nm, photons : torch.Tensor, shape (B, E)
        Emitter positions (nm) and photon counts per frame; padding slots carry 0 photons.
    psf : PSF
        The PSF model (:class:`AstigmaticPSF` or :class:`~structloc.interpolated_psf.InterpolatedPSF`).
    field : Field
        Frame geometry.

    Returns
    -------
    torch.Tensor, shape (B, H, W)
        Expected photons per pixel, on the device and dtype of the inputs; photons falling outside
        the frame are lost.
    """
    return check_psf(psf).render_padded(x_nm, y_nm, z_nm, photons, field=field)


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
    psf: PSF | None = None,
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
        PSF model (:class:`AstigmaticPSF`, the default, or
        :class:`~structloc.interpolated_psf.InterpolatedPSF`) and frame geometry (default :class:`Field`).
    device, dtype : optional
        Where and in which precision to render.

    Returns
    -------
    torch.Tensor, shape (n_frames, H, W)
        Expected photons per pixel.
    """
    psf = AstigmaticPSF() if psf is None else check_psf(psf)
    field = field or Field()
    n_frames = emitters.n_frames if n_frames is None else int(n_frames)
    if n_frames < 0:
        raise ValueError(f"n_frames must be >= 0, got {n_frames}")
    slot, e_max = pad_by_frame(emitters, n_frames)
    padded = np.zeros((4, n_frames, e_max))
    padded[:, emitters.frame, slot] = np.stack([emitters.x_nm, emitters.y_nm, emitters.z_nm, emitters.photons])
    x, y, z, n = torch.as_tensor(padded, dtype=dtype, device=device)
    return render_padded(x, y, z, n, psf=psf, field=field)
