"""Tests of structloc.calibration.gaussians: the batched pixel-integrated Gaussian fits."""

import numpy as np
import pytest
import scipy.optimize
import torch

from structloc.calibration import fit_gaussians
from structloc.psf import pixel_profile


def test_batched_gaussian_fits_match_scipy_least_squares(shipped):
    rois = shipped.roi_photons[[10, 75, 140], 2]
    fits = fit_gaussians(rois)
    r = rois.shape[-1]
    def model(p):
        t = torch.as_tensor(p, dtype=torch.float64)
        px = pixel_profile(t[0:1], t[2:3], r, 100.0)[0]
        py = pixel_profile(t[1:2], t[3:4], r, 100.0)[0]
        return (t[4] * torch.outer(py, px) + t[5]).numpy()

    for k, roi in enumerate(rois):
        p0 = [fits.x_nm[k] + 30, fits.y_nm[k] - 30, fits.sigma_x_nm[k] * 1.2, fits.sigma_y_nm[k] * 0.8,
              fits.photons[k] * 0.9, fits.background[k] + 1]
        ref = scipy.optimize.least_squares(lambda p: (model(p) - roi).ravel(), p0, x_scale="jac",
                                           xtol=1e-12, ftol=1e-12, gtol=1e-12).x
        ours = [fits.x_nm[k], fits.y_nm[k], fits.sigma_x_nm[k], fits.sigma_y_nm[k], fits.photons[k],
                fits.background[k]]
        assert np.allclose(ours[:4], ref[:4], atol=0.05)
        assert ours[4] == pytest.approx(ref[4], rel=1e-4)
        assert ours[5] == pytest.approx(ref[5], abs=1e-2)



def test_fit_gaussians_validates_and_handles_empty_input():
    empty = fit_gaussians(np.zeros((0, 9, 9)))
    assert empty.x_nm.shape == (0,) and empty.rms_residual.shape == (0,)
    with pytest.raises(ValueError, match="shape"):
        fit_gaussians(np.zeros((3, 9, 8)))
    with pytest.raises(ValueError, match="finite"):
        fit_gaussians(np.full((1, 9, 9), np.inf))
