"""PSF centre drift: where the image of an emitter lies relative to the emitter, as a function of z.

A real astigmatic PSF is not centred on its emitter at every depth: aberrations (coma, a tilted
cylindrical lens) move the centre of the image laterally as the emitter moves through focus. The
convention of structloc: ground-truth ``x_nm, y_nm`` is the *emitter*; its image is centred at

    x + dx(z),  y + dy(z),

with ``dx, dy`` piecewise-linear curves through knots ``(z_k, dx_k, dy_k)`` (constant beyond the
first and last knot). :class:`structloc.psf.AstigmaticPSF` carries the knots; this module holds
the curve itself and its calibration from a bead stack whose bead positions are known:
:func:`fit_centre_drift` fits knot values by least squares to the offsets of every bead in every
frame (fitted image centre minus bead position), with standard errors, and
:func:`drift_cross_validation` scores a knot spacing on beads left out of the fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["CentreDrift", "drift_cross_validation", "drift_curve", "drift_slope", "fit_centre_drift"]


def drift_curve(z_nm, knots_z_nm: tuple[float, ...], knots_nm: tuple[float, ...]):
    """Piecewise-linear curve through the knots, evaluated at ``z_nm`` (nm).

    Constant beyond the first and last knot; a single knot is a constant offset; no knots is zero.
    Works on floats, numpy arrays and torch tensors (returned on the tensor's device and dtype).
    """
    if isinstance(z_nm, torch.Tensor):
        if not knots_z_nm:
            return torch.zeros_like(z_nm)
        if len(knots_z_nm) == 1:
            return torch.full_like(z_nm, float(knots_nm[0]))
        kz = torch.tensor(knots_z_nm, dtype=z_nm.dtype, device=z_nm.device)
        kv = torch.tensor(knots_nm, dtype=z_nm.dtype, device=z_nm.device)
        z = z_nm.clamp(kz[0], kz[-1])
        right = torch.searchsorted(kz, z.contiguous()).clamp(1, len(knots_z_nm) - 1)
        z0, z1, v0, v1 = kz[right - 1], kz[right], kv[right - 1], kv[right]
        return v0 + (v1 - v0) * (z - z0) / (z1 - z0)
    z = np.asarray(z_nm, dtype=np.float64)
    if not knots_z_nm:
        return np.zeros_like(z)
    return np.interp(z, knots_z_nm, knots_nm)


def drift_slope(z_nm, knots_z_nm: tuple[float, ...], knots_nm: tuple[float, ...]) -> np.ndarray:
    """Derivative ``d(drift)/dz`` (nm per nm) of :func:`drift_curve` at ``z_nm`` (numpy).

    The slope of the segment that holds z; 0 beyond the knots. At a knot itself the segment to its
    right is used (the curve has a kink there; either one-sided slope is a valid choice).
    """
    z = np.asarray(z_nm, dtype=np.float64)
    if len(knots_z_nm) < 2:
        return np.zeros_like(z)
    kz, kv = np.asarray(knots_z_nm), np.asarray(knots_nm)
    seg = np.clip(np.searchsorted(kz, z, side="right") - 1, 0, len(kz) - 2)
    slope = (kv[seg + 1] - kv[seg]) / (kz[seg + 1] - kz[seg])
    return np.where((z >= kz[0]) & (z <= kz[-1]), slope, 0.0)


@dataclass(frozen=True, eq=False)
class CentreDrift:
    """A fitted centre-drift curve (see :func:`fit_centre_drift`).

    Attributes
    ----------
    z_nm : np.ndarray, shape (k,)
        Knot positions in nm.
    x_nm, y_nm : np.ndarray, shape (k,)
        Lateral offset of the image centre at each knot, in nm.
    x_err_nm, y_err_nm : np.ndarray, shape (k,)
        Standard errors of the knot values, in nm (least-squares covariance scaled by the
        residual variance).
    scatter_x_nm, scatter_y_nm : float
        Rms residual of the single-bead offsets around the curve, in nm.
    """

    z_nm: np.ndarray
    x_nm: np.ndarray
    y_nm: np.ndarray
    x_err_nm: np.ndarray
    y_err_nm: np.ndarray
    scatter_x_nm: float
    scatter_y_nm: float

    def knots(self, decimals: int = 1) -> dict[str, tuple[float, ...]]:
        """The knots as :class:`~structloc.psf.AstigmaticPSF` keyword arguments, rounded."""
        def rounded(values: np.ndarray) -> tuple[float, ...]:
            return tuple(float(v) for v in np.round(values, decimals))

        return {"drift_z_nm": rounded(self.z_nm), "drift_x_nm": rounded(self.x_nm),
                "drift_y_nm": rounded(self.y_nm)}


def _hat_basis(z: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Design matrix of the piecewise-linear curve: row i holds the knot weights at z_i."""
    basis = np.zeros((z.size, knots.size))
    zc = np.clip(z, knots[0], knots[-1])
    right = np.clip(np.searchsorted(knots, zc, side="right"), 1, knots.size - 1)
    t = (zc - knots[right - 1]) / (knots[right] - knots[right - 1])
    rows = np.arange(z.size)
    basis[rows, right - 1] = 1.0 - t
    basis[rows, right] += t
    return basis


def _knots(z: np.ndarray, knot_step_nm: float) -> np.ndarray:
    lo, hi = float(z.min()), float(z.max())
    n = max(1, int(math.ceil((hi - lo) / knot_step_nm - 1e-9)))
    return np.linspace(lo, hi, n + 1)


def _check_offsets(z_nm, offset_x_nm, offset_y_nm, knot_step_nm: float):
    z = np.asarray(z_nm, dtype=np.float64)
    ox = np.asarray(offset_x_nm, dtype=np.float64)
    oy = np.asarray(offset_y_nm, dtype=np.float64)
    if z.ndim != 1 or z.size < 2:
        raise ValueError(f"z_nm must be 1-D with at least 2 values, got shape {z.shape}")
    if ox.ndim == 1:
        ox, oy = ox[:, None], oy[:, None]
    if ox.shape != oy.shape or ox.ndim != 2 or ox.shape[0] != z.size:
        raise ValueError(f"offsets must have shape (n_z={z.size}, n_beads), got {ox.shape} and {oy.shape}")
    if not (np.all(np.isfinite(z)) and np.all(np.isfinite(ox)) and np.all(np.isfinite(oy))):
        raise ValueError("z_nm and the offsets must be finite")
    if not (isinstance(knot_step_nm, (int, float)) and math.isfinite(knot_step_nm) and knot_step_nm > 0):
        raise ValueError(f"knot_step_nm must be positive and finite, got {knot_step_nm!r}")
    return z, ox, oy


def fit_centre_drift(z_nm, offset_x_nm, offset_y_nm, *, knot_step_nm: float = 50.0) -> CentreDrift:
    """Least-squares piecewise-linear drift curves through the offsets of every bead.

    Parameters
    ----------
    z_nm : array_like, shape (n_z,)
        Axial position of each frame, in nm.
    offset_x_nm, offset_y_nm : array_like, shape (n_z, n_beads) or (n_z,)
        Fitted image centre minus bead position, in nm, per frame and bead.
    knot_step_nm : float
        Spacing of the knots, in nm; the knots run from the smallest to the largest z
        (the spacing is shrunk slightly where the range is not a whole number of steps).

    Returns
    -------
    CentreDrift
    """
    z, ox, oy = _check_offsets(z_nm, offset_x_nm, offset_y_nm, knot_step_nm)
    knots = _knots(z, float(knot_step_nm))
    basis = np.repeat(_hat_basis(z, knots), ox.shape[1], axis=0)  # rows: (frame, bead)
    gram_inv = np.linalg.pinv(basis.T @ basis)
    dof = max(basis.shape[0] - knots.size, 1)

    def one_axis(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        target = values.reshape(-1)
        coef = gram_inv @ (basis.T @ target)
        residual = target - basis @ coef
        variance = float(residual @ residual) / dof
        return coef, np.sqrt(np.diag(gram_inv) * variance), math.sqrt(float(np.mean(residual**2)))

    x, x_err, sx = one_axis(ox)
    y, y_err, sy = one_axis(oy)
    return CentreDrift(z_nm=knots, x_nm=x, y_nm=y, x_err_nm=x_err, y_err_nm=y_err,
                       scatter_x_nm=sx, scatter_y_nm=sy)


def drift_cross_validation(z_nm, offset_x_nm, offset_y_nm, knot_steps_nm) -> dict[float, float]:
    """Leave-one-bead-out rms error of the drift curve for each knot spacing, in nm.

    For every bead, the curve is fitted to the other beads and compared with the left-out bead's
    offsets; the rms over both axes, all frames and all left-out beads is reported. Too coarse a
    spacing misses the shape of the drift; too fine a spacing fits the noise of the other beads.
    Needs at least two beads.
    """
    z, ox, oy = _check_offsets(z_nm, offset_x_nm, offset_y_nm, 1.0)
    n_beads = ox.shape[1]
    if n_beads < 2:
        raise ValueError("cross-validation needs at least two beads")
    scores = {}
    for step in knot_steps_nm:
        squared = []
        for bead in range(n_beads):
            rest = np.delete(np.arange(n_beads), bead)
            fit = fit_centre_drift(z, ox[:, rest], oy[:, rest], knot_step_nm=float(step))
            squared.append((ox[:, bead] - drift_curve(z, tuple(fit.z_nm), tuple(fit.x_nm))) ** 2)
            squared.append((oy[:, bead] - drift_curve(z, tuple(fit.z_nm), tuple(fit.y_nm))) ** 2)
        scores[float(step)] = math.sqrt(float(np.mean(squared)))
    return scores
