"""Calibration of the astigmatic PSF from a bead z-stack: the shipped stack and the whole fit.

:func:`fit_bead_stack` runs the three steps (see :mod:`structloc.calibration`) on a stack of
camera frames and returns a :class:`~structloc.calibration.BeadCalibration`;
:func:`load_bead_stack` reads the shipped SMLM Challenge 2016 stack.
"""

from __future__ import annotations

import numpy as np
import tifffile
import torch

from .. import datasets
from ..camera import EMCCD, Camera
from ..checks import integer_at_least, one_of, positive_float
from ..drift import fit_centre_drift
from ..psf import AstigmaticPSF
from .gaussians import fit_gaussians
from .huang import huang_fit
from .result import BeadCalibration

__all__ = ["fit_bead_stack", "load_bead_stack", "DRIFT_KNOT_STEP_NM", "CENTRE_REFERENCES"]

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
    if integer_at_least("roi_px", roi_px, 5) % 2 == 0:
        raise ValueError(f"roi_px must be an odd integer >= 5, got {roi_px!r}")
    if roi_px > min(stack.shape[1:]):
        raise ValueError(f"roi_px={roi_px} does not fit in frames of {stack.shape[1:]} pixels")
    positive_float("pixel_nm", pixel_nm)
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
    one_of("centre_reference", centre_reference, CENTRE_REFERENCES)
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
