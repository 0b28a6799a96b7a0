"""Step 1 of the bead calibration: pixel-integrated 2-D Gaussians fitted to bead images.

In every frame of a bead stack, a pixel-integrated 2-D Gaussian (the model of
:mod:`structloc.psf`: centre x, y, widths sigma_x, sigma_y, photons, background) is fitted to a
small region of interest (ROI) around each bead. All ``n_z x n_beads`` least-squares fits run
together in a batched Levenberg-Marquardt with analytic derivatives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..crlb import profile_derivatives

__all__ = ["GaussianFits", "fit_gaussians", "gauss_model"]

_N_GAUSS = 6  # x, y, sigma_x, sigma_y, photons, background
_MIN_SIGMA_NM = 10.0


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


def gauss_model(params: np.ndarray, roi_px: int, pixel_nm: float, *, jacobian: bool):
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
    model, jac = gauss_model(p, roi_px, pixel_nm, jacobian=True)
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
        trial_model, trial_jac = gauss_model(trial, roi_px, pixel_nm, jacobian=True)
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
