"""Interpolated PSF: photon conservation, the bead round trip, sub-pixel shifts, z interpolation,
errors, seeded simulation, and the per-z residuals of both PSF models on the bead stack."""

import numpy as np
import pytest
import torch

from structloc.calibration import fit_bead_stack, fit_gaussians
from structloc.emitters import Emitters
from structloc.field import Field
from structloc.interpolated_psf import InterpolatedPSF, psf_residuals
from structloc.psf import AstigmaticPSF, render, render_padded
from structloc.sampling import CSRSampler
from structloc.simulate import simulate, simulate_expected, simulate_frames

FIELD = Field(width_px=48, height_px=40)


@pytest.fixture(scope="module")
def calibration():
    return fit_bead_stack()


@pytest.fixture(scope="module")
def psf(calibration):
    return InterpolatedPSF.from_beads(calibration)


@pytest.fixture(scope="module")
def residuals(calibration):
    return psf_residuals(calibration)


def _render(psf, x, y, z, photons=1.0, field=FIELD, dtype=torch.float64):
    x, y, z, photons = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, float)) for v in (x, y, z, photons)))
    emitters = Emitters(np.arange(x.size), x, y, z, photons)
    return render(emitters, x.size, psf=psf, field=field, dtype=dtype).numpy()


def test_templates_are_normalised_non_negative_and_on_the_stack_grid(psf, calibration):
    assert psf.templates.shape == (151, 31, 31) and psf.size_px == 31
    assert np.allclose(psf.templates.sum(axis=(1, 2)), 1.0) and psf.templates.min() >= 0
    assert np.array_equal(psf.z_nm, calibration.z_nm) and psf.pixel_nm == 100.0
    assert repr(psf) == "InterpolatedPSF(151 slices, z -750 to 750 nm, 31 x 31 px of 100 nm)"
    with pytest.raises(ValueError, match="read-only"):
        psf.templates[0, 0, 0] = 1.0


def test_an_emitter_well_inside_the_frame_renders_to_its_photons(psf):
    rng = np.random.default_rng(3)
    x, y = rng.uniform(3000, 3400, 20), rng.uniform(3000, 3400, 20)  # > 25 px from every edge
    z = rng.uniform(-900, 900, 20)  # beyond the stack too: the end slices
    photons = rng.uniform(100, 20000, 20)
    images = _render(psf, x, y, z, photons, field=Field())
    assert images.min() >= 0
    assert np.allclose(images.sum(axis=(1, 2)), photons, rtol=1e-10)


def test_photons_outside_the_frame_are_lost_exactly_as_a_crop(psf):
    big = Field(width_px=60, height_px=60)
    small = Field(width_px=20, height_px=30)
    x, y, z = [250.0, 1900.0, 1000.0], [2800.0, 400.0, 1500.0], [-600.0, 0.0, 420.0]
    on_big = _render(psf, np.add(x, 2000.0), np.add(y, 1000.0), z, field=big)
    on_small = _render(psf, x, y, z, field=small)
    assert np.allclose(on_small, on_big[:, 10:40, 20:40], atol=1e-12)
    assert np.all(on_small.sum(axis=(1, 2)) < 0.999)  # each loses part of its spot at an edge


def test_an_emitter_at_a_pixel_centre_renders_the_template_itself(psf):
    k = 40
    image = _render(psf, 2450.0, 2050.0, psf.z_nm[k])[0]  # centre of pixel (row 20, column 24)
    assert np.allclose(image[5:36, 9:40], psf.templates[k], atol=1e-6 * psf.templates[k].max())


def test_shifting_the_emitter_by_one_pixel_shifts_the_image_by_one_pixel(psf):
    x, y, z = 2013.7, 1766.2, -237.0
    base, right, down = _render(psf, [x, x + 100.0, x], [y, y, y + 100.0], z)
    assert np.allclose(np.roll(base, 1, axis=1)[:, 1:], right[:, 1:], atol=1e-12)
    assert np.allclose(np.roll(base, 1, axis=0)[1:], down[1:], atol=1e-12)


def test_sub_pixel_positions_move_the_image_smoothly_and_in_the_right_direction(psf):
    xs = 2400.0 + np.array([49.0, 49.999, 50.0, 50.001, 80.0])  # across a pixel boundary at 2450
    images = _render(psf, xs, 2000.0, 0.0)
    assert np.abs(images[2] - images[1]).max() < 1e-4 * images.max()
    assert np.abs(images[3] - images[2]).max() < 1e-4 * images.max()
    columns = np.arange(FIELD.width_px) + 0.5
    centroid = (images.sum(axis=1) * columns).sum(axis=1) * 100.0
    assert np.all(np.diff(centroid[[0, 2, 4]]) > 0)
    assert centroid[4] - centroid[0] == pytest.approx(31.0, abs=1.0)  # a rigid 31 nm shift


def test_z_is_linear_between_slices_continuous_at_them_and_clamped_beyond_the_stack(psf):
    z = psf.z_nm
    a, b, mid, near_a, below, above = _render(
        psf, 2400.0, 2000.0, [z[60], z[61], (z[60] + z[61]) / 2, z[60] + 1e-3, z[0] - 300.0, z[-1] + 50.0])
    # linear up to the clipped spline ringing (< 1e-3 of the peak)
    assert np.allclose(mid, (a + b) / 2, atol=1e-3 * a.max())
    assert np.abs(near_a - a).max() < 1e-5 * a.max()  # 1e-3 nm away: continuous
    first, last = _render(psf, 2400.0, 2000.0, [z[0], z[-1]])
    assert np.array_equal(below, first) and np.array_equal(above, last)


def test_rendering_at_a_listed_bead_position_reproduces_that_bead(psf, calibration):
    """Round trip: the PSF at a bead's listed position and a slice's z against that bead's ROI
    (photons and background by least squares), and the Gaussian + drift for comparison."""
    rois = calibration.roi_photons
    n_z, n_beads, size, _ = rois.shape
    field = Field(width_px=size, height_px=size)
    listed_x = calibration.bead_x_nm - calibration.offset_x_nm - calibration.roi_origin_px[:, 1] * 100.0
    listed_y = calibration.bead_y_nm - calibration.offset_y_nm - calibration.roi_origin_px[:, 0] * 100.0
    z = np.repeat(calibration.z_nm, n_beads)
    fraction = {}
    for name, model in (("interpolated", psf), ("gaussian", calibration.psf)):
        shapes = _render(model, listed_x.ravel(), listed_y.ravel(), z, field=field).reshape(n_z, n_beads, -1)
        data = rois.reshape(n_z, n_beads, -1)
        design = np.stack([shapes, np.ones_like(shapes)], axis=-1)
        coef = np.linalg.solve(np.einsum("kbpi,kbpj->kbij", design, design),
                               np.einsum("kbpi,kbp->kbi", design, data)[..., None])
        residual = data - (design @ coef)[..., 0]
        signal = data - calibration.bead_background[:, :, None]
        fraction[name] = np.median(np.sum(residual**2, axis=-1) / np.sum(signal**2, axis=-1), axis=1)
    noise = np.median(2 * rois.sum(axis=(2, 3)) / np.sum(
        (rois - calibration.bead_background[:, :, None, None]) ** 2, axis=(2, 3)), axis=1)
    assert np.all(fraction["interpolated"] < 1.5 * noise + 0.002)  # close to the camera noise
    # what is left beyond the camera noise: under a third of the Gaussian's away from focus
    far = np.abs(calibration.z_nm) >= 500
    excess = (fraction["interpolated"] - noise) / (fraction["gaussian"] - noise)
    assert np.all(excess[far] < 0.3)


def test_the_templates_carry_the_centre_drift_of_the_beads(psf, calibration):
    z = calibration.z_nm[::10]
    field = Field(width_px=31, height_px=31)
    images = _render(psf, 1550.0, 1550.0, z, photons=30000.0, field=field) + 10.0
    fits = fit_gaussians(images)
    # the Gaussian-fitted centre of the template sits where the beads' images sit (mean offset)
    dx = fits.x_nm - 1550.0 - calibration.offset_x_nm[::10].mean(axis=1)
    dy = fits.y_nm - 1550.0 - calibration.offset_y_nm[::10].mean(axis=1)
    # (the fit of the average image is not the average of the fits where the spot is skewed)
    near = np.abs(z) <= 500
    assert np.max(np.abs(dx[near])) < 6.0 and np.max(np.abs(dy[near])) < 6.0
    assert np.median(np.abs(dx)) < 2.0 and np.median(np.abs(dy)) < 3.0


def test_a_batch_renders_as_the_sum_of_its_emitters_and_float32_agrees(psf):
    rng = np.random.default_rng(5)
    b, e = 3, 6
    x = torch.as_tensor(rng.uniform(-500, 5300, (b, e)))
    y = torch.as_tensor(rng.uniform(-500, 4500, (b, e)))
    z = torch.as_tensor(rng.uniform(-750, 750, (b, e)))
    n = torch.as_tensor(rng.uniform(100, 5000, (b, e)))
    n[1, 4:] = 0.0  # padding slots
    full = render_padded(x, y, z, n, psf=psf, field=FIELD)
    parts = sum(render_padded(x[:, [i]], y[:, [i]], z[:, [i]], n[:, [i]], psf=psf, field=FIELD) for i in range(e))
    assert torch.allclose(full, parts, atol=1e-9)
    single = render_padded(*(t.float() for t in (x, y, z, n)), psf=psf, field=FIELD)
    assert single.dtype == torch.float32 and torch.allclose(single.double(), full, rtol=1e-4, atol=1e-3)


def test_seeded_simulation_with_the_interpolated_psf_is_deterministic(psf):
    field = Field(width_px=32, height_px=32)
    kw = dict(density_per_um2=1.0, batch_size=4, psf=psf, snr="medium")
    a = simulate(CSRSampler(field), 6, seed=11, **kw)
    b = simulate(CSRSampler(field), 6, seed=11, **kw)
    gaussian = simulate(CSRSampler(field), 6, seed=11, **{**kw, "psf": AstigmaticPSF()})
    assert a.psf is psf and np.array_equal(a.frames, b.frames)
    assert np.array_equal(a.emitters.xyz_nm(), gaussian.emitters.xyz_nm())  # same truth
    assert not np.array_equal(a.frames, gaussian.frames)  # another PSF
    emitters = Emitters([0, 1], [1600.0, 1620.0], [1600.0, 1590.0], [-300.0, 500.0], [5000.0, 2000.0])
    expected = simulate_expected(emitters, 2, field=field, psf=psf, background_photons=50.0)
    assert torch.allclose(expected.sum(dim=(1, 2)), torch.tensor([5000.0, 2000.0]) + 50.0 * 32 * 32, rtol=1e-4)
    g = torch.Generator().manual_seed(0)
    frames = simulate_frames(emitters, 2, field=field, psf=psf, generator=g)
    assert frames.shape == (2, 32, 32)


@pytest.mark.parametrize("kwargs, word", [
    (dict(templates=np.ones((3, 4, 4)), z_nm=[0, 1, 2]), "R odd"),
    (dict(templates=np.ones((3, 5)), z_nm=[0, 1, 2]), "shape"),
    (dict(templates=-np.ones((2, 5, 5)), z_nm=[0, 1]), "non-negative"),
    (dict(templates=np.full((2, 5, 5), np.nan), z_nm=[0, 1]), "finite"),
    (dict(templates=np.zeros((2, 5, 5)), z_nm=[0, 1]), "empty slices"),
    (dict(templates=np.ones((2, 5, 5)), z_nm=[0, 1, 2]), "one per slice"),
    (dict(templates=np.ones((2, 5, 5)), z_nm=[1, 0]), "strictly increasing"),
    (dict(templates=np.ones((2, 5, 5)), z_nm=[0, 1], pixel_nm=0.0), "pixel_nm"),
])
def test_bad_templates_give_one_line_errors(kwargs, word):
    with pytest.raises(ValueError, match=word) as info:
        InterpolatedPSF(**kwargs)
    assert "\n" not in str(info.value)


def test_bad_use_gives_one_line_errors(psf, calibration):
    with pytest.raises(ValueError, match="100 nm pixels but the field has 110 nm"):
        _render(psf, 1000.0, 1000.0, 0.0, field=Field(pixel_nm=110.0))
    with pytest.raises(TypeError, match="BeadCalibration"):
        InterpolatedPSF.from_beads("beads.tif")
    with pytest.raises(ValueError, match="distinct bead indices"):
        InterpolatedPSF.from_beads(calibration, beads=[0, 0])
    with pytest.raises(ValueError, match="odd positive"):
        InterpolatedPSF.from_beads(calibration, z_window_slices=4)
    with pytest.raises(TypeError, match="PSF model"):
        render(Emitters([0], [1.0], [1.0], [0.0], [1.0]), psf="gaussian")
    with pytest.raises(TypeError, match="PSF model"):
        simulate(CSRSampler(FIELD), 2, density_per_um2=1.0, psf=psf.templates)
    with pytest.raises(ValueError, match="two beads"):
        from dataclasses import replace
        psf_residuals(replace(calibration, roi_photons=calibration.roi_photons[:, :1]))


def test_a_single_slice_psf_renders_the_same_image_at_every_z():
    template = np.zeros((1, 7, 7))
    template[0, 2:5, 3] = [1.0, 2.0, 1.0]
    psf = InterpolatedPSF(template, [0.0])
    a, b = _render(psf, [1050.0, 1050.0], [1050.0, 1050.0], [-500.0, 300.0], field=Field(width_px=20, height_px=20))
    assert np.array_equal(a, b) and a.sum() == pytest.approx(1.0, rel=1e-6)
    assert np.allclose(a[9:12, 10], [0.25, 0.5, 0.25], atol=1e-3)  # column x = 1050 nm, rows 9-11


def test_the_interpolated_psf_fits_the_beads_better_than_the_gaussian_at_most_depths(residuals):
    gaussian, interpolated = np.median(residuals.gaussian, axis=1), np.median(residuals.interpolated, axis=1)
    assert residuals.gaussian.shape == residuals.interpolated.shape == (151, 6)
    assert np.mean(interpolated < gaussian) >= 0.9
    assert np.median(interpolated) < 0.6 * np.median(gaussian)
    # neither beats the camera noise by much (a perfect model leaves the noise)
    assert np.median(interpolated) > 0.8 * np.median(residuals.noise_floor)
    assert residuals.interpolated_images.shape == (151, 6, 31, 31)
