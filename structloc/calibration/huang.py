"""Step 2 of the bead calibration: the Huang defocus curves fitted to the measured widths.

``sigma(z) = s0 sqrt(1 + u^2 + A u^3 + B u^4)``, ``u = (z - c)/d``, fitted separately for x and
y (Huang et al., Science 2008).
"""

from __future__ import annotations

import numpy as np
import scipy.optimize

from ..psf import AstigmaticPSF

__all__ = ["huang_fit"]


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
