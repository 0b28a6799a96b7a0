"""Fisher information and Cramer-Rao lower bound (CRLB) of the astigmatic PSF model.

The expected photons in pixel (row, col) of a square region of interest (ROI) around one emitter are

    mu = N * Px[col](x, sigma_x(z)) * Py[row](y, sigma_y(z)) + b

with the exact pixel-integrated Gaussian profiles of :func:`structloc.psf.pixel_profile`. For the
parameters theta = (x, y, z, N, b) the Fisher information is (Smith et al., Nat. Methods 2010;
Huang et al., Nat. Methods 2013)

    I_jk = sum_pixels (d mu / d theta_j) (d mu / d theta_k) / v,

with ``v = mu`` for an ideal Poisson camera, ``v = 2 mu`` for an EMCCD at high gain (excess noise
factor 2, which halves the information) and ``v = mu + r^2`` for an sCMOS camera with read noise
``r`` expressed in photons (read-noise rms divided by the gain). The CRLB of each parameter is the
square root of the matching diagonal entry of ``I^-1``: no unbiased estimator has a smaller
standard deviation. All derivatives are analytic.

The bound here is that of an isolated emitter whose whole PSF lies in the ROI;
:func:`structloc.frame_crlb.frame_crlb` bounds every emitter of a frame jointly with its neighbours
and the frame's edges.

What the bound depends on besides the emitter (the PSF model, the pixels, the ROI and the camera
noise) is one frozen :class:`CRLBSetup`; :func:`crlb` and :func:`fisher_information` take it as
``setup=`` or its fields as keywords (``crlb(z, photons=..., background=..., noise="emccd")``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Literal

import numpy as np
import torch

from .checks import integer_at_least, one_of, positive_float
from .psf import AstigmaticPSF, pixel_profile
from .snr import SignalLevel, signal_level

__all__ = [
    "CRLB",
    "CRLBSetup",
    "NOISE_MODELS",
    "PARAMETERS",
    "crlb",
    "crlb_for_snr",
    "fisher_information",
    "profile_derivatives",
    "sigma_derivative",
    "spot_derivatives",
]

#: Noise models understood by :func:`fisher_information`.
NOISE_MODELS = ("poisson", "emccd", "scmos")
#: Order of the parameters in the Fisher matrix.
PARAMETERS = ("x_nm", "y_nm", "z_nm", "photons", "background")

NoiseModel = Literal["poisson", "emccd", "scmos"]
#: Working memory of one batch of emitters in :meth:`CRLBSetup.fisher_information`, bytes: the
#: bounds of many emitters (a whole test set's) are computed batch by batch within it.
_FISHER_BYTES = 64 * 2**20


def profile_derivatives(
    center_nm: np.ndarray, sigma_nm: np.ndarray, n_px: int, pixel_nm: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel-integrated 1-D Gaussian profile and its analytic derivatives.

    Parameters
    ----------
    center_nm, sigma_nm : np.ndarray, shape (...,)
        Centre and standard deviation in nm, measured from the left edge of pixel 0.
    n_px : int
        Number of pixels; pixel k covers ``[k, k + 1) * pixel_nm``.
    pixel_nm : float
        Pixel size in nm.

    Returns
    -------
    profile, d_center, d_sigma : np.ndarray, shape (..., n_px)
        The fraction of the Gaussian in each pixel (from :func:`structloc.psf.pixel_profile`) and
        its derivatives with respect to the centre and the width, both per nm.
    """
    center = np.asarray(center_nm, dtype=np.float64)
    sigma = np.asarray(sigma_nm, dtype=np.float64)
    center, sigma = np.broadcast_arrays(center, sigma)
    profile = pixel_profile(torch.from_numpy(np.array(center)),
                            torch.from_numpy(np.array(sigma)), n_px, pixel_nm).numpy()
    edges = np.arange(n_px + 1, dtype=np.float64) * pixel_nm
    offset = edges - center[..., None]  # (..., n_px + 1)
    s = sigma[..., None]
    pdf = np.exp(-0.5 * (offset / s) ** 2) / (math.sqrt(2.0 * math.pi) * s)
    d_center = pdf[..., :-1] - pdf[..., 1:]
    weighted = offset * pdf / s
    d_sigma = weighted[..., :-1] - weighted[..., 1:]
    return profile, d_center, d_sigma


def sigma_derivative(psf: AstigmaticPSF, z_nm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Derivatives ``(d sigma_x / dz, d sigma_y / dz)`` of the Huang widths (dimensionless, nm/nm).

    Where the radicand of the Huang model is clipped (see :class:`AstigmaticPSF`) the width is
    constant and the derivative is 0.
    """
    z = np.asarray(z_nm, dtype=np.float64)

    def one_axis(s0: float, c: float, d: float, a: float, b: float) -> np.ndarray:
        u = (z - c) / d
        radicand = 1 + u**2 + a * u**3 + b * u**4
        slope = (2 * u + 3 * a * u**2 + 4 * b * u**3) / d
        safe = np.maximum(radicand, 1e-2)
        return np.where(radicand > 1e-2, s0 * slope / (2 * np.sqrt(safe)), 0.0)

    return (
        one_axis(psf.sigma0_x_nm, psf.c_x_nm, psf.d_x_nm, psf.a_x, psf.b_x),
        one_axis(psf.sigma0_y_nm, psf.c_y_nm, psf.d_y_nm, psf.a_y, psf.b_y),
    )


def spot_derivatives(psf: AstigmaticPSF, x_nm, y_nm, z_nm, width_px: int, height_px: int,
                     pixel_nm: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The pixel-integrated image of one photon of an emitter and its derivatives (analytic).

    Parameters
    ----------
    psf : AstigmaticPSF
        Widths and centre drift of the spot.
    x_nm, y_nm, z_nm : np.ndarray, shape (...,)
        Emitter positions in nm, x and y from the top-left corner of pixel (0, 0) (the image is
        centred on the position plus the PSF's drift at z).
    width_px, height_px : int
        Pixels of the image.
    pixel_nm : float
        Pixel size in nm.

    Returns
    -------
    signal, d_dx, d_dy, d_dz : np.ndarray, shape (..., height_px, width_px)
        Fraction of the photons in each pixel and its derivatives per nm of x, y and z.
    """
    z = np.asarray(z_nm, dtype=np.float64)
    sx, sy = psf.sigma_nm(z)
    dsx_dz, dsy_dz = sigma_derivative(psf, z)
    drift_x, drift_y = psf.centre_offset_nm(z)
    ddx_dz, ddy_dz = psf.centre_offset_slope(z)
    px, dpx_dx, dpx_ds = profile_derivatives(np.asarray(x_nm, np.float64) + drift_x, sx, width_px, pixel_nm)
    py, dpy_dy, dpy_ds = profile_derivatives(np.asarray(y_nm, np.float64) + drift_y, sy, height_px, pixel_nm)

    def outer(col: np.ndarray, row: np.ndarray) -> np.ndarray:
        return col[..., :, None] * row[..., None, :]  # (..., H) x (..., W) -> (..., H, W)

    d_dz = (outer(py, dpx_ds) * dsx_dz[..., None, None] + outer(dpy_ds, px) * dsy_dz[..., None, None]
            + outer(py, dpx_dx) * ddx_dz[..., None, None] + outer(dpy_dy, px) * ddy_dz[..., None, None])
    return outer(py, px), outer(py, dpx_dx), outer(dpy_dy, px), d_dz


def _as_float_array(name: str, value, *, sign: str = "any") -> np.ndarray:
    """``value`` as a finite float64 array; ``sign`` is "any", "nonnegative" or "positive"."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number or an array of numbers, got {type(value).__name__}") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    if sign == "positive" and np.any(arr <= 0):
        raise ValueError(f"{name} must be positive")
    if sign == "nonnegative" and np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative")
    return arr


def _inverse_diagonal(fisher: np.ndarray) -> np.ndarray:
    """Diagonal of ``fisher^-1``; parameters with no information (zero row) get inf."""
    diag = np.diagonal(fisher, axis1=-2, axis2=-1)
    dead = ~(diag > 0)
    scale = np.sqrt(np.where(dead, 1.0, diag))
    # Normalise to unit diagonal for a well-conditioned inverse; replace dead rows by identity.
    normed = fisher / (scale[..., :, None] * scale[..., None, :])
    keep = ~dead
    mask = keep[..., :, None] & keep[..., None, :]
    eye = np.broadcast_to(np.eye(fisher.shape[-1]), fisher.shape)
    normed = np.where(mask, normed, eye)
    inv_diag = np.diagonal(np.linalg.inv(normed), axis1=-2, axis2=-1) / scale**2
    return np.where(dead, np.inf, inv_diag)


@dataclass(frozen=True, eq=False)
class CRLB:
    """Cramer-Rao lower bounds (standard deviations) of the five fit parameters.

    Attributes
    ----------
    x_nm, y_nm, z_nm : np.ndarray
        Positional precision limits in nm.
    photons : np.ndarray
        Limit on the photon-count estimate, in photons.
    background : np.ndarray
        Limit on the background estimate, in photons per pixel.
    """

    x_nm: np.ndarray
    y_nm: np.ndarray
    z_nm: np.ndarray
    photons: np.ndarray
    background: np.ndarray

    @property
    def lateral_nm(self) -> np.ndarray:
        """``sqrt(x_nm^2 + y_nm^2)``, in nm."""
        return np.sqrt(self.x_nm**2 + self.y_nm**2)

    @property
    def volumetric_nm(self) -> np.ndarray:
        """``sqrt(x_nm^2 + y_nm^2 + z_nm^2)``, in nm."""
        return np.sqrt(self.x_nm**2 + self.y_nm**2 + self.z_nm**2)



@dataclass(frozen=True, eq=False)
class CRLBSetup:
    """The imaging setup of a bound: PSF model, pixel size, ROI and camera noise model.

    Parameters
    ----------
    psf : AstigmaticPSF, optional
        PSF model (default :class:`AstigmaticPSF`).
    pixel_nm : float
        Pixel size in nm (> 0).
    roi_px : int
        Side of the square ROI in pixels, centred on the emitter. The default, 41 px (4.1 um at
        100 nm pixels), holds the calibrated PSF even at z = -750 nm (sigma_y ~ 1 um): larger ROIs
        change the bound by < 2 %, while 15 px would inflate it several-fold at the ends of the
        z range because most of a defocused PSF would fall outside.
    noise : {"poisson", "emccd", "scmos"}
        Camera noise model (see the module docstring).
    read_noise_photons : float or np.ndarray of shape (roi_px, roi_px), optional
        sCMOS read-noise rms in photons (required for, and only for, ``noise="scmos"``); kept as
        a read-only float64 array.
    """

    psf: AstigmaticPSF | None = None
    pixel_nm: float = 100.0
    roi_px: int = 41
    noise: NoiseModel = "poisson"
    read_noise_photons: float | np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.psf is None:
            object.__setattr__(self, "psf", AstigmaticPSF())
        if not isinstance(self.psf, AstigmaticPSF):
            raise TypeError(f"psf must be an AstigmaticPSF, got {type(self.psf).__name__}")
        object.__setattr__(self, "roi_px", integer_at_least("roi_px", self.roi_px))
        positive_float("pixel_nm", self.pixel_nm)
        one_of("noise (the camera noise model)", self.noise, NOISE_MODELS)
        read = self.read_noise_photons
        if self.noise != "scmos":
            if read is not None:
                raise ValueError(f"read_noise_photons applies only to noise='scmos', not {self.noise!r}")
            return
        if read is None:
            raise ValueError("noise='scmos' needs read_noise_photons (read-noise rms / gain, in photons)")
        read = _as_float_array("read_noise_photons", read, sign="nonnegative")
        if read.ndim not in (0, 2) or (read.ndim == 2 and read.shape != (self.roi_px, self.roi_px)):
            raise ValueError(f"read_noise_photons must be a scalar or a ({self.roi_px}, {self.roi_px}) "
                             f"per-pixel map, got shape {read.shape}")
        read.setflags(write=False)
        object.__setattr__(self, "read_noise_photons", read)

    def noise_variance(self, mu: np.ndarray) -> np.ndarray:
        """Variance of each pixel, in photons^2, for expected photons ``mu`` (see the module docstring)."""
        if self.noise == "scmos":
            return mu + self.read_noise_photons**2
        return 2.0 * mu if self.noise == "emccd" else mu

    def fisher_information(self, z_nm, *, photons, background, x_offset_px=0.5, y_offset_px=0.5) -> np.ndarray:
        """Fisher information of (x, y, z, photons, background) for one emitter (see :func:`fisher_information`)."""
        psf, pixel_nm, roi_px = self.psf, self.pixel_nm, self.roi_px
        z = _as_float_array("z_nm", z_nm)
        n = _as_float_array("photons", photons, sign="positive")
        b = _as_float_array("background", background, sign="nonnegative")
        x_off = _as_float_array("x_offset_px", x_offset_px)
        y_off = _as_float_array("y_offset_px", y_offset_px)
        z, n, b, x_off, y_off = np.broadcast_arrays(z, n, b, x_off, y_off)
        shape = z.shape
        z, n, b, x_off, y_off = (np.ravel(a) for a in (z, n, b, x_off, y_off))
        # the emitter sits at the ROI centre plus the offset (its image also moves with the PSF drift)
        x = (roi_px // 2 + x_off) * pixel_nm
        y = (roi_px // 2 + y_off) * pixel_nm
        fisher = np.empty((len(z), len(PARAMETERS), len(PARAMETERS)))
        # a few hundred emitters at a time: each needs about a dozen (roi_px, roi_px) float64 images
        step = max(1, _FISHER_BYTES // (8 * 12 * roi_px * roi_px))
        for start in range(0, len(z), step):
            part = slice(start, start + step)
            fisher[part] = self._fisher_of_spots(x[part], y[part], z[part], n[part], b[part])
        return fisher.reshape(shape + fisher.shape[1:])

    def _fisher_of_spots(self, x_nm: np.ndarray, y_nm: np.ndarray, z_nm: np.ndarray, photons: np.ndarray,
                         background: np.ndarray) -> np.ndarray:
        """Fisher matrices (k, 5, 5) of k emitters at ROI positions ``x_nm``, ``y_nm`` (1-D arrays)."""
        signal, d_dx, d_dy, d_dz = spot_derivatives(self.psf, x_nm, y_nm, z_nm, self.roi_px, self.roi_px,
                                                    self.pixel_nm)
        nn = photons[:, None, None]
        jac = np.stack([nn * d_dx, nn * d_dy, nn * d_dz, signal, np.ones_like(signal)], axis=-1)  # (k, H, W, 5)
        var = self.noise_variance(nn * signal + background[:, None, None])
        # With background 0, pixels far from the emitter can have exactly zero expected variance: no
        # photon is ever seen there, they carry no usable information and are skipped.
        weight = np.divide(1.0, var, out=np.zeros_like(var), where=var > 0)
        return np.einsum("khwi,khwj->kij", jac * weight[..., None], jac)

    def crlb(self, z_nm, *, photons, background, x_offset_px=0.5, y_offset_px=0.5) -> CRLB:
        """Cramer-Rao lower bound of (x, y, z, photons, background) (see :func:`crlb`)."""
        fisher = self.fisher_information(z_nm, photons=photons, background=background,
                                         x_offset_px=x_offset_px, y_offset_px=y_offset_px)
        std = np.sqrt(_inverse_diagonal(fisher))
        return CRLB(*(std[..., k] for k in range(len(PARAMETERS))))


_SETUP_FIELDS = tuple(f.name for f in fields(CRLBSetup))


def _setup(setup: CRLBSetup | None, options: dict) -> CRLBSetup:
    """``setup`` with ``options`` (fields of :class:`CRLBSetup`) replaced, or a new setup of them."""
    unknown = [key for key in options if key not in _SETUP_FIELDS]
    if unknown:
        raise TypeError(f"unknown option {unknown[0]!r}; the setup options are {', '.join(_SETUP_FIELDS)}")
    if setup is None:
        return CRLBSetup(**options)
    if not isinstance(setup, CRLBSetup):
        raise TypeError(f"setup must be a CRLBSetup, got {type(setup).__name__}")
    return replace(setup, **options) if options else setup


def fisher_information(
    z_nm, *, photons, background, x_offset_px=0.5, y_offset_px=0.5, setup: CRLBSetup | None = None, **options
) -> np.ndarray:
    """Fisher information matrix of theta = (x, y, z, photons, background) for one emitter in a ROI.

    Parameters
    ----------
    z_nm : array_like
        Axial position(s) of the emitter, in nm.
    photons : array_like
        Total photons emitted in the frame (> 0), broadcast against ``z_nm``.
    background : array_like
        Background photons per pixel (>= 0), broadcast against ``z_nm``. With 0, pixels whose
        expected signal underflows to 0 are skipped.
    x_offset_px, y_offset_px : array_like
        Emitter position within the central pixel ``roi_px // 2``, in pixels (0.5 is its centre).
    setup : CRLBSetup, optional
        PSF, pixels, ROI and noise model (default ``CRLBSetup()``: the default PSF, 100 nm pixels,
        a 41 px ROI, Poisson noise).
    **options
        Fields of :class:`CRLBSetup` (``psf``, ``pixel_nm``, ``roi_px``, ``noise``,
        ``read_noise_photons``), replacing those of ``setup``.

    Returns
    -------
    np.ndarray, shape (..., 5, 5)
        Fisher information in units of 1/(parameter unit)^2 (nm for positions, photons otherwise),
        parameters ordered as :data:`PARAMETERS`.
    """
    return _setup(setup, options).fisher_information(
        z_nm, photons=photons, background=background, x_offset_px=x_offset_px, y_offset_px=y_offset_px)


def crlb(
    z_nm, *, photons, background, x_offset_px=0.5, y_offset_px=0.5, setup: CRLBSetup | None = None, **options
) -> CRLB:
    """Cramer-Rao lower bound of (x, y, z, photons, background) for an isolated emitter.

    Takes the same arguments as :func:`fisher_information` (vectorised: every array argument is
    broadcast) and returns the square roots of the diagonal of the inverse Fisher matrix.

    Examples
    --------
    >>> bound = crlb(0.0, photons=5000, background=50, noise="emccd")
    >>> float(bound.volumetric_nm) > 0
    True
    >>> same = crlb(0.0, photons=5000, background=50, setup=CRLBSetup(noise="emccd"))
    >>> bool(same.volumetric_nm == bound.volumetric_nm)
    True
    """
    return _setup(setup, options).crlb(
        z_nm, photons=photons, background=background, x_offset_px=x_offset_px, y_offset_px=y_offset_px)


def crlb_for_snr(snr: str | SignalLevel, z_nm, *, setup: CRLBSetup | None = None, **options) -> CRLB:
    """CRLB at one of the study's signal levels (``"high"``, ``"medium"``, ``"low"``).

    Uses the preset's mean photons per emitter and background per pixel; ``setup`` and further
    keyword arguments go to :func:`crlb`. Without a ``setup``, the noise model is ``"emccd"``
    unless ``noise=`` says otherwise.
    """
    level = signal_level(snr)
    if setup is None:
        options.setdefault("noise", "emccd")
    return crlb(z_nm, photons=level.photons, background=level.background, setup=setup, **options)
