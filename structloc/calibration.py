"""Calibration of the astigmatic PSF from a bead z-stack.

Two steps, as in Huang et al. (Science 2008):

1. In every frame of the stack, fit a pixel-integrated 2-D Gaussian (the model of
   :mod:`structloc.psf`: centre x, y, widths sigma_x, sigma_y, photons, background) to a small
   region of interest (ROI) around each bead. All ``n_z x n_beads`` least-squares fits run together
   in a batched Levenberg-Marquardt with analytic derivatives.
2. Fit the Huang defocus curves ``sigma(z) = s0 sqrt(1 + u^2 + A u^3 + B u^4)``, ``u = (z - c)/d``,
   to the per-frame widths (median over beads), separately for x and y.
3. Fit the centre drift (:mod:`structloc.drift`): the lateral offset of each bead's fitted image
   centre from the bead's position, as a piecewise-linear function of z through all beads' offsets.
   For the shipped stack the bead positions are the challenge's listing; for a stack without known
   positions the reference is each bead's mean fitted centre, so only the z-dependent part of the
   drift is measured.

The shipped stack is the SMLM Challenge 2016 astigmatic bead stack (see ``structloc/data/README.md``),
recorded by the challenge's EMCCD (:class:`structloc.camera.EMCCD` defaults: baseline 100 ADU and on
average 6 ADU per photon); :meth:`Camera.to_photons` turns ADU back into photons. The defaults of
:class:`structloc.psf.AstigmaticPSF` are the result of
:func:`fit_bead_stack` on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.optimize
import tifffile
import torch

from . import datasets
from .camera import EMCCD, Camera
from .crlb import profile_derivatives
from .drift import CentreDrift, fit_centre_drift
from .psf import AstigmaticPSF

__all__ = [
    "BeadCalibration",
    "GaussianFits",
    "fit_bead_stack",
    "fit_gaussians",
    "huang_fit",
    "load_bead_stack",
    "model_montage",
]

_N_GAUSS = 6  # x, y, sigma_x, sigma_y, photons, background
_MIN_SIGMA_NM = 10.0
#: Knot spacing of the centre drift: the spacing with the smallest leave-one-bead-out error on the
#: shipped stack among 10-1500 nm (chapter 2 shows the comparison).
DRIFT_KNOT_STEP_NM = 20.0
#: What the bead offsets are measured from (see the module docstring).
CENTRE_REFERENCES = ("listed", "bead mean")


def load_bead_stack() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Load the shipped bead z-stack.

    Returns
    -------
    stack : np.ndarray of uint16, shape (151, 150, 150)
        Raw camera frames (ADU), ZYX.
    bead_xy_nm : np.ndarray, shape (6, 2)
        True lateral bead positions ``(x_nm, y_nm)``.
    z_nm : np.ndarray, shape (151,)
        Axial position of each frame, -750 ... 750 nm in 10 nm steps.
    """
    stack = tifffile.imread(datasets.bead_zstack_path())
    table = np.loadtxt(datasets.bead_positions_path(), delimiter=",", skiprows=1, ndmin=2)
    bead_xy_nm = table[:, 1:3].astype(np.float64)
    z_nm = datasets.BEAD_Z_START_NM + datasets.BEAD_Z_STEP_NM * np.arange(stack.shape[0])
    return stack, bead_xy_nm, z_nm


@dataclass(frozen=True, eq=False)
class GaussianFits:
    """Per-ROI pixel-integrated Gaussian fits (step 1); every array has shape ``(n_fits,)``.

    Attributes
    ----------
    x_nm, y_nm : np.ndarray
        Fitted centre in nm, relative to the top-left corner of the ROI.
    sigma_x_nm, sigma_y_nm : np.ndarray
        Fitted widths in nm.
    photons : np.ndarray
        Fitted total photons of the Gaussian.
    background : np.ndarray
        Fitted background in photons per pixel.
    rms_residual : np.ndarray
        Root-mean-square data-minus-model residual of each fit, in photons per pixel.
    """

    x_nm: np.ndarray
    y_nm: np.ndarray
    sigma_x_nm: np.ndarray
    sigma_y_nm: np.ndarray
    photons: np.ndarray
    background: np.ndarray
    rms_residual: np.ndarray


def _gauss_model(params: np.ndarray, roi_px: int, pixel_nm: float, *, jacobian: bool):
    """Images ``(M, R, R)`` of M Gaussians and, optionally, their Jacobian ``(M, R, R, 6)``."""
    x, y, sx, sy, n, b = params.T
    px, dpx_dx, dpx_ds = profile_derivatives(x, sx, roi_px, pixel_nm)
    py, dpy_dy, dpy_ds = profile_derivatives(y, sy, roi_px, pixel_nm)
    shape = py[:, :, None] * px[:, None, :]
    model = n[:, None, None] * shape + b[:, None, None]
    if not jacobian:
        return model, None
    nn = n[:, None, None]
    jac = np.stack(
        [
            nn * py[:, :, None] * dpx_dx[:, None, :],
            nn * dpy_dy[:, :, None] * px[:, None, :],
            nn * py[:, :, None] * dpx_ds[:, None, :],
            nn * dpy_ds[:, :, None] * px[:, None, :],
            shape,
            np.ones_like(shape),
        ],
        axis=-1,
    )
    return model, jac


def _initial_guess(rois: np.ndarray, pixel_nm: float) -> np.ndarray:
    """Moment-based starting values ``(M, 6)`` for :func:`fit_gaussians`."""
    m, r, _ = rois.shape
    border = np.concatenate([rois[:, 0, :], rois[:, -1, :], rois[:, :, 0], rois[:, :, -1]], axis=1)
    background = np.median(border, axis=1)
    signal = np.clip(rois - background[:, None, None], 0.0, None)
    total = signal.sum(axis=(1, 2))
    weight = np.where(total > 0, total, 1.0)
    centres = (np.arange(r) + 0.5) * pixel_nm
    x = np.where(total > 0, (signal.sum(axis=1) * centres).sum(axis=1) / weight, r * pixel_nm / 2)
    y = np.where(total > 0, (signal.sum(axis=2) * centres).sum(axis=1) / weight, r * pixel_nm / 2)
    var_x = (signal.sum(axis=1) * (centres - x[:, None]) ** 2).sum(axis=1) / weight - pixel_nm**2 / 12
    var_y = (signal.sum(axis=2) * (centres - y[:, None]) ** 2).sum(axis=1) / weight - pixel_nm**2 / 12
    sx = np.sqrt(np.clip(var_x, (1.5 * pixel_nm) ** 2, (r * pixel_nm / 4) ** 2))
    sy = np.sqrt(np.clip(var_y, (1.5 * pixel_nm) ** 2, (r * pixel_nm / 4) ** 2))
    return np.stack([x, y, sx, sy, np.maximum(total, 1.0), background], axis=1)


def _levenberg_marquardt(
    p: np.ndarray, data: np.ndarray, roi_px: int, pixel_nm: float, max_iter: int = 200
) -> tuple[np.ndarray, np.ndarray]:
    """Batched Levenberg-Marquardt: minimise each row's sum of squared residuals independently.

    Every iteration evaluates all M models and Jacobians at once and solves M 6 x 6 damped
    normal equations with one batched :func:`numpy.linalg.solve`; each fit keeps its own damping.
    Returns the parameters ``(M, 6)`` and residuals ``(M, R*R)`` (model minus data).
    """
    m = p.shape[0]
    lower = np.array([-roi_px * pixel_nm, -roi_px * pixel_nm, _MIN_SIGMA_NM, _MIN_SIGMA_NM, 0.0, -np.inf])
    upper = np.array([2 * roi_px * pixel_nm, 2 * roi_px * pixel_nm, 4 * roi_px * pixel_nm, 4 * roi_px * pixel_nm,
                      np.inf, np.inf])
    damping = np.full(m, 1e-3)
    model, jac = _gauss_model(p, roi_px, pixel_nm, jacobian=True)
    residual = model.reshape(m, -1) - data
    cost = np.sum(residual**2, axis=1)
    active = np.ones(m, dtype=bool)
    eye = np.eye(_N_GAUSS)
    for _ in range(max_iter):
        if not active.any():
            break
        j = jac.reshape(m, -1, _N_GAUSS)[active]
        jtj = np.einsum("mki,mkj->mij", j, j)
        grad = np.einsum("mki,mk->mi", j, residual[active])
        diag = np.einsum("mii->mi", jtj)[:, None, :] * eye
        step = np.linalg.solve(jtj + damping[active, None, None] * (diag + 1e-12 * eye), -grad[..., None])[..., 0]
        trial = np.clip(p[active] + step, lower, upper)
        trial_model, trial_jac = _gauss_model(trial, roi_px, pixel_nm, jacobian=True)
        trial_residual = trial_model.reshape(len(trial), -1) - data[active]
        trial_cost = np.sum(trial_residual**2, axis=1)
        better = trial_cost <= cost[active]
        idx = np.flatnonzero(active)
        accepted = idx[better]
        converged = np.zeros(m, dtype=bool)
        converged[accepted] = (cost[accepted] - trial_cost[better]) <= 1e-10 * cost[accepted] + 1e-20
        p[accepted] = trial[better]
        jac[accepted] = trial_jac[better]
        residual[accepted] = trial_residual[better]
        cost[accepted] = trial_cost[better]
        damping[accepted] /= 3.0
        damping[idx[~better]] *= 4.0
        active &= ~converged & (damping < 1e12)
    return p, residual


def fit_gaussians(rois: np.ndarray, *, pixel_nm: float = 100.0) -> GaussianFits:
    """Least-squares fit of a pixel-integrated 2-D Gaussian plus constant to each ROI.

    Parameters
    ----------
    rois : np.ndarray, shape (M, R, R)
        Square images in photons (any real dtype); pixel (0, 0) is the ROI's top-left pixel.
    pixel_nm : float
        Pixel size in nm.

    Returns
    -------
    GaussianFits
        One fit per ROI. All fits run together in a batched Levenberg-Marquardt with the analytic
        Jacobian (a single sparse :func:`scipy.optimize.least_squares` over all ROIs was tried and
        is minutes instead of a second).
    """
    rois = np.asarray(rois)
    if rois.ndim != 3 or rois.shape[1] != rois.shape[2]:
        raise ValueError(f"rois must have shape (M, R, R), got {rois.shape}")
    if not np.issubdtype(rois.dtype, np.number) or np.iscomplexobj(rois):
        raise TypeError(f"rois must be real numbers, got dtype {rois.dtype}")
    rois = rois.astype(np.float64)
    if not np.all(np.isfinite(rois)):
        raise ValueError("rois must be finite (no NaN or inf)")
    m, r, _ = rois.shape
    if r < 3:
        raise ValueError(f"ROIs must be at least 3 x 3 pixels, got {r} x {r}")
    if m == 0:
        empty = np.empty(0)
        return GaussianFits(*(empty,) * 7)

    p, residual = _levenberg_marquardt(_initial_guess(rois, pixel_nm), rois.reshape(m, -1), r, pixel_nm)
    rms = np.sqrt(np.mean(residual**2, axis=1))
    return GaussianFits(*(p[:, k].copy() for k in range(_N_GAUSS)), rms_residual=rms)


def _huang_curve(params: np.ndarray, z: np.ndarray) -> np.ndarray:
    s0, c, d, a, b = params
    u = (z - c) / d
    return s0 * np.sqrt(np.maximum(1 + u**2 + a * u**3 + b * u**4, 1e-2))


def _fit_one_axis(z: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    i_min = int(np.argmin(sigma))
    p0 = np.array([sigma[i_min], z[i_min], 400.0, 0.0, 0.0])
    lower = np.array([1.0, -np.inf, 1.0, -np.inf, -np.inf])
    result = scipy.optimize.least_squares(
        lambda p: _huang_curve(p, z) - sigma, p0, bounds=(lower, np.inf), x_scale=[100, 100, 100, 1, 1]
    )
    return result.x


def huang_fit(z_nm, sigma_x_nm, sigma_y_nm) -> AstigmaticPSF:
    """Least-squares fit of the Huang defocus curves to measured widths.

    Parameters
    ----------
    z_nm, sigma_x_nm, sigma_y_nm : array_like, shape (n,)
        Axial positions and measured Gaussian widths, all in nm (n >= 5; NaN widths are ignored).

    Returns
    -------
    AstigmaticPSF
        The fitted ``(s0, c, d, A, B)`` of each axis.
    """
    z, sx, sy = (np.asarray(a, dtype=np.float64) for a in (z_nm, sigma_x_nm, sigma_y_nm))
    if not (z.ndim == 1 and z.shape == sx.shape == sy.shape):
        raise ValueError(
            f"z_nm, sigma_x_nm, sigma_y_nm must be 1-D of equal length, got {z.shape}, {sx.shape}, {sy.shape}"
        )
    if not np.all(np.isfinite(z)):
        raise ValueError("z_nm must be finite")
    ok = np.isfinite(sx) & np.isfinite(sy)
    if np.any(np.isinf(sx)) or np.any(np.isinf(sy)) or np.any(sx[ok] <= 0) or np.any(sy[ok] <= 0):
        raise ValueError("sigma_x_nm and sigma_y_nm must be positive and finite (NaN marks a missing value)")
    if ok.sum() < 5:
        raise ValueError(f"huang_fit needs at least 5 valid widths (5 parameters per axis), got {int(ok.sum())}")
    px = _fit_one_axis(z[ok], sx[ok])
    py = _fit_one_axis(z[ok], sy[ok])
    return AstigmaticPSF(
        sigma0_x_nm=float(px[0]), c_x_nm=float(px[1]), d_x_nm=float(px[2]), a_x=float(px[3]), b_x=float(px[4]),
        sigma0_y_nm=float(py[0]), c_y_nm=float(py[1]), d_y_nm=float(py[2]), a_y=float(py[3]), b_y=float(py[4]),
        drift_z_nm=(), drift_x_nm=(), drift_y_nm=(),
    )


@dataclass(frozen=True, eq=False)
class BeadCalibration:
    """Result of :func:`fit_bead_stack`.

    Attributes
    ----------
    psf : AstigmaticPSF
        Fitted Huang model.
    z_nm : np.ndarray, shape (n_z,)
        Axial position of each frame, in nm.
    sigma_x_nm, sigma_y_nm : np.ndarray, shape (n_z,)
        Measured widths per frame (median over beads), in nm.
    photons, background : np.ndarray, shape (n_z,)
        Fitted photons per bead and background photons per pixel (median over beads).
    bead_x_nm, bead_y_nm, bead_sigma_x_nm, bead_sigma_y_nm, bead_photons, bead_background
        Per-frame, per-bead fits, shape (n_z, n_beads); positions in nm in the frame's coordinates.
    offset_x_nm, offset_y_nm : np.ndarray, shape (n_z, n_beads)
        Fitted image centre minus the bead's reference position (see ``centre_reference``), in nm.
    drift : CentreDrift
        The centre-drift curve fitted to those offsets (its knots are in ``psf``).
    centre_reference : str
        ``"listed"`` (the given bead positions) or ``"bead mean"`` (each bead's mean fitted centre).
    residual_x_nm, residual_y_nm : np.ndarray, shape (n_z,)
        Measured minus Huang-model width, in nm.
    rms_residual_nm : float
        Root-mean-square of both residual arrays, in nm.
    pixel_nm : float
        Pixel size in nm.
    roi_origin_px : np.ndarray of int, shape (n_beads, 2)
        (row, column) of each bead ROI's top-left pixel in the frame.
    roi_photons : np.ndarray, shape (n_z, n_beads, roi_px, roi_px)
        The fitted ROIs in photons (for figures such as :func:`model_montage`).
    """

    psf: AstigmaticPSF
    z_nm: np.ndarray
    sigma_x_nm: np.ndarray
    sigma_y_nm: np.ndarray
    photons: np.ndarray
    background: np.ndarray
    bead_x_nm: np.ndarray
    bead_y_nm: np.ndarray
    bead_sigma_x_nm: np.ndarray
    bead_sigma_y_nm: np.ndarray
    bead_photons: np.ndarray
    bead_background: np.ndarray
    offset_x_nm: np.ndarray
    offset_y_nm: np.ndarray
    drift: CentreDrift
    centre_reference: str
    residual_x_nm: np.ndarray
    residual_y_nm: np.ndarray
    rms_residual_nm: float
    pixel_nm: float
    roi_origin_px: np.ndarray
    roi_photons: np.ndarray

    def drift_residuals_nm(self) -> tuple[np.ndarray, np.ndarray]:
        """What the centre drift leaves: per frame, the median over beads of each bead's offset
        minus the drift curve of :attr:`psf`, in nm (x, y; shape (n_z,) each)."""
        dx, dy = self.psf.centre_offset_nm(self.z_nm)
        return (np.median(self.offset_x_nm - dx[:, None], axis=1),
                np.median(self.offset_y_nm - dy[:, None], axis=1))


def _check_stack(stack, z_nm, bead_xy_nm, roi_px: int, pixel_nm: float):
    stack = np.asarray(stack)
    if stack.ndim != 3 or stack.shape[0] < 5:
        raise ValueError(f"stack must be 3-D (z, rows, columns) with >= 5 frames, got shape {stack.shape}")
    if not np.issubdtype(stack.dtype, np.number) or np.iscomplexobj(stack):
        raise TypeError(f"stack must hold real numbers, got dtype {stack.dtype}")
    if not np.all(np.isfinite(stack)):
        raise ValueError("stack must be finite (no NaN or inf)")
    bead_xy = np.asarray(bead_xy_nm, dtype=np.float64)
    if bead_xy.ndim != 2 or bead_xy.shape[1] != 2 or bead_xy.shape[0] == 0:
        raise ValueError(f"bead_xy_nm must have shape (n_beads >= 1, 2), got {bead_xy.shape}")
    if not np.all(np.isfinite(bead_xy)):
        raise ValueError("bead_xy_nm must be finite")
    z = np.asarray(z_nm, dtype=np.float64)
    if z.shape != (stack.shape[0],) or not np.all(np.isfinite(z)):
        raise ValueError(f"z_nm must be {stack.shape[0]} finite values, one per frame, got shape {z.shape}")
    if isinstance(roi_px, bool) or not isinstance(roi_px, (int, np.integer)) or roi_px < 5 or roi_px % 2 == 0:
        raise ValueError(f"roi_px must be an odd integer >= 5, got {roi_px!r}")
    if roi_px > min(stack.shape[1:]):
        raise ValueError(f"roi_px={roi_px} does not fit in frames of {stack.shape[1:]} pixels")
    if not (math.isfinite(pixel_nm) and pixel_nm > 0):
        raise ValueError(f"pixel_nm must be positive and finite, got {pixel_nm!r}")
    height, width = stack.shape[1:]
    inside = (bead_xy[:, 0] >= 0) & (bead_xy[:, 0] < width * pixel_nm)
    inside &= (bead_xy[:, 1] >= 0) & (bead_xy[:, 1] < height * pixel_nm)
    if not np.all(inside):
        raise ValueError(
            f"bead_xy_nm has beads outside the {width} x {height} px frame: rows {np.flatnonzero(~inside)}"
        )
    return stack, bead_xy, z


def fit_bead_stack(
    stack: np.ndarray | None = None,
    bead_xy_nm: np.ndarray | None = None,
    *,
    z_nm=None,
    pixel_nm: float = 100.0,
    roi_px: int = 31,
    camera: Camera | None = None,
    centre_reference: str | None = None,
    drift_knot_step_nm: float = DRIFT_KNOT_STEP_NM,
) -> BeadCalibration:
    """Calibrate the astigmatic PSF from a bead z-stack (both steps, see module docstring).

    Parameters
    ----------
    stack : np.ndarray, shape (n_z, H, W), optional
        Camera frames in ADU. Default: the shipped challenge stack (:func:`load_bead_stack`),
        together with its bead positions and z values.
    bead_xy_nm : np.ndarray, shape (n_beads, 2), optional
        Approximate lateral bead positions ``(x_nm, y_nm)``; required when ``stack`` is given.
        The fit frees the centres, so they only place the ROIs.
    z_nm : array_like, shape (n_z,), optional
        Axial position of each frame in nm (default ``-750 + 10 k``).
    pixel_nm : float
        Pixel size in nm.
    roi_px : int
        Side of the square ROI around each bead (odd), in pixels. The default, 31 px (3.1 um),
        holds the widest defocused bead of the shipped stack (sigma up to ~1 um at z = -750 nm);
        21 px is too small there and the Gaussian fits at the ends of the stack fail.
    camera : Camera, optional
        Camera that recorded the stack; its :meth:`~structloc.camera.Camera.to_photons` converts
        ADU to photons. Default: the challenge EMCCD, :class:`structloc.camera.EMCCD`.
    centre_reference : {"listed", "bead mean"}, optional
        What the centre drift is measured from: the given bead positions (default for the shipped
        stack, whose listing is exact) or each bead's mean fitted centre over the stack (default
        when ``stack`` is given: approximate positions only place the ROIs).
    drift_knot_step_nm : float
        Knot spacing of the fitted centre drift, in nm.

    Returns
    -------
    BeadCalibration
    """
    if centre_reference is None:
        centre_reference = "listed" if stack is None else "bead mean"
    if centre_reference not in CENTRE_REFERENCES:
        raise ValueError(f"centre_reference must be one of {CENTRE_REFERENCES}, got {centre_reference!r}")
    if stack is None:
        stack, shipped_xy, shipped_z = load_bead_stack()
        bead_xy_nm = shipped_xy if bead_xy_nm is None else bead_xy_nm
        z_nm = shipped_z if z_nm is None else z_nm
    if bead_xy_nm is None:
        raise ValueError("bead_xy_nm (approximate bead positions) is required when a stack is given")
    if z_nm is None:
        z_nm = datasets.BEAD_Z_START_NM + datasets.BEAD_Z_STEP_NM * np.arange(np.shape(stack)[0])
    camera = EMCCD() if camera is None else camera
    if not isinstance(camera, Camera):
        raise TypeError(f"camera must be a structloc.camera.Camera, got {type(camera).__name__}")
    stack, bead_xy, z = _check_stack(stack, z_nm, bead_xy_nm, roi_px, pixel_nm)
    n_z, height, width = stack.shape
    n_beads = bead_xy.shape[0]

    centre = np.floor(bead_xy[:, ::-1] / pixel_nm).astype(np.int64)  # (row, col)
    origin = np.clip(centre - roi_px // 2, 0, np.array([height, width]) - roi_px)
    offsets = np.arange(roi_px)
    rr = (origin[:, 0, None] + offsets)[:, :, None]  # (n_beads, R, 1)
    cc = (origin[:, 1, None] + offsets)[:, None, :]  # (n_beads, 1, R)
    rois = camera.to_photons(torch.from_numpy(stack[:, rr, cc].astype(np.float64))).numpy()  # (n_z, n_beads, R, R)

    fits = fit_gaussians(rois.reshape(-1, roi_px, roi_px), pixel_nm=pixel_nm)

    def per_bead(values: np.ndarray) -> np.ndarray:
        return values.reshape(n_z, n_beads)

    bead_sx, bead_sy = per_bead(fits.sigma_x_nm), per_bead(fits.sigma_y_nm)
    sx, sy = np.median(bead_sx, axis=1), np.median(bead_sy, axis=1)
    bead_x = per_bead(fits.x_nm) + origin[:, 1] * pixel_nm
    bead_y = per_bead(fits.y_nm) + origin[:, 0] * pixel_nm
    if centre_reference == "listed":
        offset_x, offset_y = bead_x - bead_xy[:, 0], bead_y - bead_xy[:, 1]
    else:
        offset_x, offset_y = bead_x - bead_x.mean(axis=0), bead_y - bead_y.mean(axis=0)
    drift = fit_centre_drift(z, offset_x, offset_y, knot_step_nm=drift_knot_step_nm)
    widths = huang_fit(z, sx, sy)
    psf = AstigmaticPSF(**{**vars(widths), "drift_z_nm": tuple(drift.z_nm), "drift_x_nm": tuple(drift.x_nm),
                           "drift_y_nm": tuple(drift.y_nm)})
    model_sx, model_sy = psf.sigma_nm(z)
    res_x, res_y = sx - model_sx, sy - model_sy
    return BeadCalibration(
        psf=psf,
        z_nm=z,
        sigma_x_nm=sx,
        sigma_y_nm=sy,
        photons=np.median(per_bead(fits.photons), axis=1),
        background=np.median(per_bead(fits.background), axis=1),
        bead_x_nm=bead_x,
        bead_y_nm=bead_y,
        bead_sigma_x_nm=bead_sx,
        bead_sigma_y_nm=bead_sy,
        bead_photons=per_bead(fits.photons),
        bead_background=per_bead(fits.background),
        offset_x_nm=offset_x,
        offset_y_nm=offset_y,
        drift=drift,
        centre_reference=centre_reference,
        residual_x_nm=res_x,
        residual_y_nm=res_y,
        rms_residual_nm=float(np.sqrt(np.mean(np.concatenate([res_x, res_y]) ** 2))),
        pixel_nm=float(pixel_nm),
        roi_origin_px=origin,
        roi_photons=rois,
    )


def model_montage(
    calibration: BeadCalibration, z_values_nm, *, bead: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Measured bead images beside the calibrated model, for a z-montage figure.

    For each requested z the frame nearest to it is taken; the model is the calibrated
    :class:`AstigmaticPSF` at that frame's z, placed at the bead's fitted centre (median over the
    stack) with the frame's fitted photons and background.

    Parameters
    ----------
    calibration : BeadCalibration
    z_values_nm : array_like, shape (k,)
        Requested axial positions in nm.
    bead : int
        Which bead to show.

    Returns
    -------
    z_nm : np.ndarray, shape (k,)
        The z of the frames used.
    measured, model : np.ndarray, shape (k, roi_px, roi_px)
        Bead ROI and model image, both in photons per pixel.
    """
    z_values = np.atleast_1d(np.asarray(z_values_nm, dtype=np.float64))
    if z_values.ndim != 1 or not np.all(np.isfinite(z_values)):
        raise ValueError("z_values_nm must be a finite 1-D sequence of z positions in nm")
    n_beads = calibration.roi_origin_px.shape[0]
    if isinstance(bead, bool) or not isinstance(bead, (int, np.integer)) or not 0 <= bead < n_beads:
        raise ValueError(f"bead must be an integer in [0, {n_beads}), got {bead!r}")
    idx = np.abs(calibration.z_nm[None, :] - z_values[:, None]).argmin(axis=1)
    roi_px = calibration.roi_photons.shape[-1]
    pixel = calibration.pixel_nm
    origin = calibration.roi_origin_px[bead]
    x = np.full(idx.shape, np.median(calibration.bead_x_nm[:, bead]) - origin[1] * pixel)
    y = np.full(idx.shape, np.median(calibration.bead_y_nm[:, bead]) - origin[0] * pixel)
    z = calibration.z_nm[idx]
    sx, sy = calibration.psf.sigma_nm(z)
    params = np.stack(
        [x, y, sx, sy, calibration.bead_photons[idx, bead], calibration.bead_background[idx, bead]], axis=1
    )
    model, _ = _gauss_model(params, roi_px, pixel, jacobian=False)
    return z, calibration.roi_photons[idx, bead], model
