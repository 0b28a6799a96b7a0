"""Tests of structloc.calibration (beads, huang, result): the shipped bead stack gives the PSF defaults;
synthetic round trips; the Huang fit; the model montage. The Gaussian fits: test_calibration_gaussians.py."""

import dataclasses

import numpy as np
import pytest
import torch

from structloc import datasets
from structloc.calibration import (
    fit_bead_stack,
    huang_fit,
    load_bead_stack,
    model_montage,
)
from structloc.camera import EMCCD
from structloc.emitters import Emitters
from structloc.field import Field
from structloc.psf import AstigmaticPSF, render

Z_GRID = np.linspace(-750, 750, 301)
BEADS_NM = np.array([[2530.0, 2460.0], [7040.0, 2610.0], [2580.0, 7170.0], [7250.0, 6980.0]])
KNOWN = AstigmaticPSF(sigma0_x_nm=150.0, sigma0_y_nm=140.0, c_x_nm=-200.0, c_y_nm=250.0,
                      d_x_nm=350.0, d_y_nm=300.0, a_x=-0.1, b_x=0.1, a_y=0.1, b_y=0.05,
                      drift_z_nm=(-750.0, -250.0, 250.0, 750.0), drift_x_nm=(-20.0, 10.0, 30.0, 0.0),
                      drift_y_nm=(-70.0, -40.0, -45.0, -90.0))


def _synthetic_stack(psf: AstigmaticPSF, *, noise: bool, background: float = 10.0):
    """Bead z-stack in ADU (challenge EMCCD) rendered with ``psf``: 31 frames, 4 beads, 96 x 96 px."""
    z = np.linspace(-750, 750, 31)
    frames = np.repeat(np.arange(len(z)), len(BEADS_NM))
    em = Emitters(frames, np.tile(BEADS_NM[:, 0], len(z)), np.tile(BEADS_NM[:, 1], len(z)),
                  np.repeat(z, len(BEADS_NM)), np.full(frames.size, datasets.BEAD_PHOTONS))
    photons = render(em, len(z), psf=psf, field=Field(width_px=96, height_px=96), dtype=torch.float64)
    photons = photons + background
    camera = EMCCD()
    adu = camera.expose(photons, torch.Generator().manual_seed(7)) if noise else camera.mean_adu(photons)
    return adu.numpy(), z


def _max_curve_error_nm(a: AstigmaticPSF, b: AstigmaticPSF) -> float:
    return float(np.abs(np.array(a.sigma_nm(Z_GRID)) - np.array(b.sigma_nm(Z_GRID))).max())


def test_psf_defaults_are_the_fit_to_the_shipped_bead_stack(shipped):
    default = AstigmaticPSF()
    # defaults are the fit rounded to 0.1 nm and 4 decimals: the curves agree to < 1 nm over the
    # z range, far inside the fit's own precision (bead-to-bead width scatter of 2-10 nm)
    assert _max_curve_error_nm(shipped.psf, default) < 1.0
    for field in dataclasses.fields(AstigmaticPSF):
        fitted, value = np.atleast_1d(getattr(shipped.psf, field.name)), np.atleast_1d(getattr(default, field.name))
        tol = 0.06 if field.name.endswith("_nm") else 6e-5
        assert fitted.shape == value.shape and np.all(np.abs(fitted - value) <= tol), field.name


def test_centre_drift_of_the_shipped_stack_leaves_no_systematic_offset(shipped):
    # the fitted image centres sit (+17, -62) nm from the listed bead positions, varying with z by
    # tens of nm (chapter 2); after the drift curve, the offsets left in each z slice (median over
    # the six beads) are a few nm, inside the beads' scatter about the curve
    z = shipped.z_nm
    dx, dy = shipped.psf.centre_offset_nm(z)
    raw = np.median(np.abs(np.median(shipped.offset_y_nm, axis=1)))
    left_x = np.median(shipped.offset_x_nm - dx[:, None], axis=1)
    left_y = np.median(shipped.offset_y_nm - dy[:, None], axis=1)
    assert all(np.array_equal(a, b) for a, b in zip(shipped.drift_residuals_nm(), (left_x, left_y)))
    assert raw > 40 and np.ptp(np.median(shipped.offset_x_nm, axis=1)) > 30  # a drift the test can see
    assert np.median(np.abs(left_x)) < 2.0 and np.median(np.abs(left_y)) < 2.0
    assert np.mean(np.abs(left_x) <= 5.0) > 0.95 and np.mean(np.abs(left_y) <= 5.0) > 0.95
    assert shipped.drift.scatter_x_nm < 6.0 and shipped.drift.scatter_y_nm < 6.0
    assert np.all(shipped.drift.x_err_nm < 3.0) and np.all(shipped.drift.y_err_nm < 3.0)
    assert shipped.centre_reference == "listed"


def test_shipped_fit_is_physical(shipped):
    z = shipped.z_nm
    assert z.shape == (151,) and z[0] == -750 and z[-1] == 750
    assert shipped.bead_sigma_x_nm.shape == (151, 6)
    # the Huang model describes the measured widths to ~10 nm rms (the challenge PSF is not Gaussian)
    assert shipped.rms_residual_nm < 12.0
    assert np.allclose(shipped.residual_x_nm, shipped.sigma_x_nm - shipped.psf.sigma_nm(z)[0])
    # astigmatism: x is in focus below y; widths are narrowest near each focus
    assert shipped.psf.c_x_nm < shipped.psf.c_y_nm
    assert abs(z[np.argmin(shipped.sigma_x_nm)] - shipped.psf.c_x_nm) < 150
    assert abs(z[np.argmin(shipped.sigma_y_nm)] - shipped.psf.c_y_nm) < 150
    # near focus the Gaussian captures the bead: 30,000 photons per frame (EMCCD inverse)
    near_focus = np.abs(z) <= 50
    assert np.median(shipped.photons[near_focus]) == pytest.approx(datasets.BEAD_PHOTONS, rel=0.05)
    assert np.all(shipped.background[near_focus] > 0)
    # fitted bead centres sit within 1 px of the challenge's positions
    _, truth, _ = load_bead_stack()
    assert np.all(np.abs(np.median(shipped.bead_x_nm, axis=0) - truth[:, 0]) < 100)
    assert np.all(np.abs(np.median(shipped.bead_y_nm, axis=0) - truth[:, 1]) < 100)


def test_noise_free_round_trip_recovers_the_known_psf():
    stack, z = _synthetic_stack(KNOWN, noise=False)
    cal = fit_bead_stack(stack, BEADS_NM, z_nm=z)
    assert _max_curve_error_nm(cal.psf, KNOWN) < 0.5
    assert np.allclose(cal.bead_photons, datasets.BEAD_PHOTONS, rtol=2e-3)
    assert np.allclose(cal.bead_background, 10.0, atol=0.05)
    dx, dy = KNOWN.centre_offset_nm(z)  # the images are centred at the bead plus the drift
    assert np.allclose(cal.bead_x_nm, BEADS_NM[:, 0] + dx[:, None], atol=0.5)
    assert np.allclose(cal.bead_y_nm, BEADS_NM[:, 1] + dy[:, None], atol=0.5)
    assert cal.centre_reference == "bead mean"  # approximate positions: only the z-dependence
    assert np.allclose(cal.psf.centre_offset_nm(z)[0], dx - dx.mean(), atol=0.5)
    listed = fit_bead_stack(stack, BEADS_NM, z_nm=z, centre_reference="listed", drift_knot_step_nm=500.0)
    assert np.allclose(listed.psf.drift_z_nm, KNOWN.drift_z_nm)
    assert np.allclose(listed.psf.drift_x_nm, KNOWN.drift_x_nm, atol=0.5)
    assert np.allclose(listed.psf.drift_y_nm, KNOWN.drift_y_nm, atol=0.5)


def test_noisy_round_trip_recovers_the_known_psf():
    # EMCCD noise, 30,000 photons per bead: the width of one bead in one frame is known to
    # ~ sigma / sqrt(N / 2) ~ 2-6 nm; medians over 4 beads and a 10-parameter fit to 31 frames
    # bring the curve error to a few nm.
    stack, z = _synthetic_stack(KNOWN, noise=True)
    cal = fit_bead_stack(stack, BEADS_NM, z_nm=z)
    assert _max_curve_error_nm(cal.psf, KNOWN) < 8.0
    assert abs(cal.psf.c_x_nm - KNOWN.c_x_nm) < 20 and abs(cal.psf.c_y_nm - KNOWN.c_y_nm) < 20
    assert np.median(cal.photons) == pytest.approx(datasets.BEAD_PHOTONS, rel=0.02)
    assert cal.rms_residual_nm < 5.0


def test_huang_fit_recovers_exact_curves_and_ignores_nan():
    z = np.linspace(-750, 750, 61)
    sx, sy = KNOWN.sigma_nm(z)
    sx = sx.copy()
    sx[[3, 40]] = np.nan
    fitted = huang_fit(z, sx, sy)
    assert _max_curve_error_nm(fitted, KNOWN) < 1e-3


def _centroid(image: np.ndarray) -> tuple[float, float]:
    signal = (image - np.median(image)).clip(0)
    rows, cols = np.indices(image.shape)
    return float((signal * rows).sum() / signal.sum()), float((signal * cols).sum() / signal.sum())


def test_model_montage_pairs_beads_with_the_model(shipped):
    z, measured, model = model_montage(shipped, [-500, -1.0, 4.0, 500], bead=3)
    assert np.array_equal(z, [-500.0, 0.0, 0.0, 500.0])
    assert measured.shape == model.shape == (4, 31, 31)
    assert np.array_equal(measured[1], shipped.roi_photons[75, 3])
    # the calibrated model explains the bead image (the measured beads give correlations of
    # 0.99 near focus, ~0.97 at +-500 nm and ~0.91 at -750 nm, where the real PSF is a ring)
    for m, p in zip(measured, model):
        assert np.corrcoef(m.ravel(), p.ravel())[0, 1] > 0.95
        assert _centroid(m) == pytest.approx(_centroid(p), abs=1.0)
    with pytest.raises(ValueError, match="bead"):
        model_montage(shipped, [0.0], bead=6)
    with pytest.raises(ValueError, match="z_values_nm"):
        model_montage(shipped, [np.nan])


def test_load_bead_stack_shapes():
    stack, xy, z = load_bead_stack()
    assert stack.shape == (151, 150, 150) and stack.dtype == np.uint16
    assert xy.shape == (6, 2) and z.shape == (151,)
    assert np.allclose(np.diff(z), 10.0)


@pytest.mark.parametrize(
    "stack, kwargs, error, match",
    [
        (np.zeros((10, 40)), {}, ValueError, "3-D"),
        (np.full((10, 40, 40), np.nan), {}, ValueError, "finite"),
        (np.zeros((10, 40, 40), dtype=complex), {}, TypeError, "real"),
        (np.zeros((10, 40, 40)), dict(bead_xy_nm=None), ValueError, "bead_xy_nm"),
        (np.zeros((10, 40, 40)), dict(centre_reference="focus"), ValueError, "centre_reference"),
        (np.zeros((10, 40, 40)), dict(bead_xy_nm=np.zeros((0, 2))), ValueError, "bead_xy_nm"),
        (np.zeros((10, 40, 40)), dict(bead_xy_nm=[[5000.0, 100.0]]), ValueError, "outside"),
        (np.zeros((10, 40, 40)), dict(roi_px=30), ValueError, "roi_px"),
        (np.zeros((10, 40, 40)), dict(roi_px=41), ValueError, "roi_px"),
        (np.zeros((10, 40, 40)), dict(z_nm=np.arange(9.0)), ValueError, "z_nm"),
        (np.zeros((10, 40, 40)), dict(camera="emccd"), TypeError, "camera"),
    ],
)
def test_bad_input_is_rejected(stack, kwargs, error, match):
    args = dict(bead_xy_nm=[[2000.0, 2000.0]], z_nm=np.linspace(-750, 750, 10)) | kwargs
    with pytest.raises(error, match=match):
        fit_bead_stack(stack, **args)


def test_huang_fit_needs_five_widths():
    with pytest.raises(ValueError, match="at least 5"):
        huang_fit([0.0, 1.0], [100.0, 100.0], [100.0, 100.0])
