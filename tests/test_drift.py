"""PSF centre drift: the curve, its slope, its fit to bead offsets, and the PSF that carries it."""

import json

import numpy as np
import pytest
import torch

from structloc.calibration import fit_gaussians
from structloc.drift import drift_cross_validation, drift_curve, drift_slope, fit_centre_drift
from structloc.emitters import Emitters
from structloc.field import Field
from structloc.psf import AstigmaticPSF, render

KNOTS_Z = (-600.0, -100.0, 250.0, 700.0)
KNOTS_X = (12.0, -30.0, 45.0, 0.0)


def test_curve_interpolates_the_knots_is_constant_beyond_them_and_agrees_on_numpy_and_torch():
    z = np.array([-900.0, -600.0, -350.0, -100.0, 0.0, 250.0, 700.0, 1000.0])
    expected = np.array([12.0, 12.0, -9.0, -30.0, -30.0 + 75.0 * 100.0 / 350.0, 45.0, 0.0, 0.0])
    assert np.allclose(drift_curve(z, KNOTS_Z, KNOTS_X), expected)
    on_torch = drift_curve(torch.tensor(z, dtype=torch.float64), KNOTS_Z, KNOTS_X)
    assert on_torch.dtype == torch.float64 and np.allclose(on_torch.numpy(), expected, rtol=0, atol=1e-12)
    assert np.all(drift_curve(z, (), ()) == 0) and np.all(drift_curve(z, (5.0,), (-3.0,)) == -3.0)
    assert torch.all(drift_curve(torch.tensor(z), (5.0,), (-3.0,)) == -3.0)


def test_slope_matches_finite_differences_away_from_the_knots_and_is_zero_beyond_them():
    z, h = np.array([-800.0, -400.0, 0.0, 400.0, 800.0]), 1e-3
    numeric = (drift_curve(z + h, KNOTS_Z, KNOTS_X) - drift_curve(z - h, KNOTS_Z, KNOTS_X)) / (2 * h)
    assert np.allclose(drift_slope(z, KNOTS_Z, KNOTS_X), numeric, atol=1e-8)
    assert drift_slope(-800.0, KNOTS_Z, KNOTS_X) == 0.0 and drift_slope(800.0, KNOTS_Z, KNOTS_X) == 0.0


def test_fit_recovers_a_known_drift_from_noisy_beads_within_its_standard_errors():
    rng = np.random.default_rng(4)
    z = np.arange(-750.0, 751.0, 10.0)
    knots_z = tuple(np.linspace(-750.0, 750.0, 16))
    true_x = tuple(20.0 * np.sin(np.asarray(knots_z) / 200.0))
    true_y = tuple(-50.0 + 0.02 * np.asarray(knots_z))
    noise = 4.0
    ox = drift_curve(z, knots_z, true_x)[:, None] + rng.normal(0, noise, (z.size, 6))
    oy = drift_curve(z, knots_z, true_y)[:, None] + rng.normal(0, noise, (z.size, 6))
    fit = fit_centre_drift(z, ox, oy, knot_step_nm=100.0)
    assert np.allclose(fit.z_nm, knots_z)
    for est, err, true in ((fit.x_nm, fit.x_err_nm, true_x), (fit.y_nm, fit.y_err_nm, true_y)):
        pulls = (est - np.asarray(true)) / err
        assert 0.5 < np.std(pulls) < 1.6 and np.all(np.abs(pulls) < 4.5)
    assert fit.scatter_x_nm == pytest.approx(noise, rel=0.1) and fit.scatter_y_nm == pytest.approx(noise, rel=0.1)
    # held-out beads prefer the true knot spacing over one that cannot follow the sine
    scores = drift_cross_validation(z, ox, oy, [100.0, 750.0])
    assert scores[100.0] < scores[750.0] and scores[100.0] == pytest.approx(noise, rel=0.15)


def test_fit_rejects_bad_shapes_and_steps():
    z = np.arange(5.0)
    with pytest.raises(ValueError, match="shape"):
        fit_centre_drift(z, np.zeros((4, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="knot_step_nm"):
        fit_centre_drift(z, np.zeros(5), np.zeros(5), knot_step_nm=0.0)
    with pytest.raises(ValueError, match="two beads"):
        drift_cross_validation(z, np.zeros(5), np.zeros(5), [1.0])


def test_noise_free_images_are_centred_at_the_emitter_plus_the_drift():
    psf = AstigmaticPSF()  # the bead-stack drift
    field = Field(width_px=31, height_px=31)
    z = np.array([-600.0, -200.0, 0.0, 150.0, 350.0, 600.0])
    x = np.full(z.size, 1530.0)
    y = np.full(z.size, 1570.0)
    truth = Emitters(frame=np.arange(z.size), x_nm=x, y_nm=y, z_nm=z, photons=np.full(z.size, 1e6))
    images = render(truth, psf=psf, field=field, dtype=torch.float64).numpy()
    fits = fit_gaussians(images + 1.0, pixel_nm=field.pixel_nm)  # a flat background of 1 photon
    dx, dy = psf.centre_offset_nm(z)
    assert np.max(np.abs(dx)) > 20 and np.max(np.abs(dy)) > 40  # a test that sees the drift
    assert np.allclose(fits.x_nm, x + dx, atol=0.5) and np.allclose(fits.y_nm, y + dy, atol=0.5)
    plain = fit_gaussians(render(truth, psf=psf.without_drift(), field=field, dtype=torch.float64).numpy() + 1.0)
    assert np.allclose(plain.x_nm, x, atol=0.5) and np.allclose(plain.y_nm, y, atol=0.5)


def test_without_drift_is_the_model_centred_on_the_emitter_and_configs_round_trip_through_json():
    psf = AstigmaticPSF()
    plain = psf.without_drift()
    assert psf.has_drift and not plain.has_drift and plain.sigma_nm(100.0) == psf.sigma_nm(100.0)
    again = AstigmaticPSF(**json.loads(json.dumps(vars(psf))))  # lists from JSON become tuples
    assert again == psf and hash(again) == hash(psf)
    with pytest.raises(ValueError, match="same length"):
        AstigmaticPSF(drift_z_nm=(0.0, 1.0), drift_x_nm=(0.0,), drift_y_nm=(0.0,))
    with pytest.raises(ValueError, match="strictly increasing"):
        AstigmaticPSF(drift_z_nm=(1.0, 0.0), drift_x_nm=(0.0, 0.0), drift_y_nm=(0.0, 0.0))
    with pytest.raises(ValueError, match="finite"):
        AstigmaticPSF(drift_z_nm=(0.0,), drift_x_nm=(float("nan"),), drift_y_nm=(0.0,))
    with pytest.raises(ValueError, match="sequence of numbers"):
        AstigmaticPSF(drift_z_nm=5.0)
