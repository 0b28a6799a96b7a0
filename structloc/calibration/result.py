"""The result of a bead calibration, and the figure that compares it with the beads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..checks import integer_in_range
from ..drift import CentreDrift
from ..psf import AstigmaticPSF
from .gaussians import gauss_model

__all__ = ["BeadCalibration", "model_montage"]


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
    integer_in_range("bead", bead, 0, n_beads - 1)
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
    model, _ = gauss_model(params, roi_px, pixel, jacobian=False)
    return z, calibration.roi_photons[idx, bead], model
