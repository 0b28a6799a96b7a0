"""CRLB: analytic derivatives, closed forms, noise models, scaling laws, validation."""

import math
import tracemalloc

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

from structloc.crlb import (
    CRLB,
    CRLBSetup,
    crlb,
    crlb_for_snr,
    fisher_information,
    profile_derivatives,
    sigma_derivative,
)
from structloc.psf import AstigmaticPSF, pixel_profile
from structloc.snr import SNR_PRESETS

#: Rotationally symmetric PSF (no astigmatism) with its focus at z = 0, centred on the emitter.
ROUND = AstigmaticPSF(sigma0_x_nm=130.0, sigma0_y_nm=130.0, c_x_nm=0.0, c_y_nm=0.0,
                      d_x_nm=400.0, d_y_nm=400.0, a_x=0.0, b_x=0.0, a_y=0.0, b_y=0.0).without_drift()
#: Asymmetric widths and a centre drift whose knots avoid the z values tested below.
SKEWED = AstigmaticPSF(sigma0_x_nm=120.0, sigma0_y_nm=140.0, c_x_nm=-200.0, c_y_nm=300.0,
                       d_x_nm=380.0, d_y_nm=420.0, a_x=0.1, b_x=0.05, a_y=-0.08, b_y=0.03,
                       drift_z_nm=(-750.0, -100.0, 400.0, 750.0), drift_x_nm=(10.0, -20.0, 35.0, 5.0),
                       drift_y_nm=(-40.0, 0.0, -60.0, -10.0))


@settings(max_examples=25, deadline=None)
@given(center=st.floats(-300.0, 2300.0), sigma=st.floats(30.0, 900.0))
def test_profile_derivatives_match_finite_differences(center, sigma):
    h = 1e-3
    prof, d_c, d_s = profile_derivatives(np.array(center), np.array(sigma), 20, 100.0)

    def p(c, s):
        return pixel_profile(torch.tensor(c, dtype=torch.float64), torch.tensor(s, dtype=torch.float64),
                             20, 100.0).numpy()

    assert np.allclose(prof, p(center, sigma), atol=0, rtol=0)
    fd_c = (p(center + h, sigma) - p(center - h, sigma)) / (2 * h)
    fd_s = (p(center, sigma + h) - p(center, sigma - h)) / (2 * h)
    # central differences: error ~ h^2 f''' plus rounding ~ 1e-16 / h
    assert np.allclose(d_c, fd_c, rtol=1e-6, atol=1e-10)
    assert np.allclose(d_s, fd_s, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("psf", [AstigmaticPSF(), SKEWED])
def test_sigma_derivative_matches_finite_differences(psf):
    z, h = np.linspace(-750, 750, 61), 1e-3
    dx, dy = sigma_derivative(psf, z)
    (xp, yp), (xm, ym) = psf.sigma_nm(z + h), psf.sigma_nm(z - h)
    assert np.allclose(dx, (xp - xm) / (2 * h), rtol=1e-6, atol=1e-9)
    assert np.allclose(dy, (yp - ym) / (2 * h), rtol=1e-6, atol=1e-9)


def _numeric_fisher(theta, psf, roi_px, pixel_nm, h=(1e-3, 1e-3, 1e-3, 1e-3, 1e-4)):
    """Brute-force Fisher information (Poisson) with central-difference derivatives of the model."""

    def mu(t):
        x, y, z, n, b = t
        sx, sy = psf.sigma_nm(z)
        dx, dy = psf.centre_offset_nm(z)  # the image is centred at the emitter plus the drift
        x, y = x + dx, y + dy
        f = lambda c, s: pixel_profile(torch.tensor(c, dtype=torch.float64),  # noqa: E731
                                       torch.tensor(float(s), dtype=torch.float64), roi_px, pixel_nm).numpy()
        return n * np.outer(f(y, sy), f(x, sx)) + b

    theta = np.asarray(theta, dtype=np.float64)
    grads = []
    for k in range(5):
        step = np.zeros(5)
        step[k] = h[k]
        grads.append((mu(theta + step) - mu(theta - step)) / (2 * h[k]))
    grads = np.stack(grads, axis=-1)
    return np.einsum("hwi,hwj->ij", grads / mu(theta)[..., None], grads)


@pytest.mark.parametrize("z", [-600.0, -120.0, 0.0, 330.0, 700.0])
def test_analytic_fisher_equals_brute_force_numeric_fisher(z):
    roi, pixel, n, b = 17, 100.0, 3000.0, 15.0
    offset = (0.3, 0.8)
    analytic = fisher_information(z, photons=n, background=b, psf=SKEWED, roi_px=roi, pixel_nm=pixel,
                                  x_offset_px=offset[0], y_offset_px=offset[1])
    theta = ((roi // 2 + offset[0]) * pixel, (roi // 2 + offset[1]) * pixel, z, n, b)
    numeric = _numeric_fisher(theta, SKEWED, roi, pixel)
    scale = np.sqrt(np.outer(np.diag(numeric), np.diag(numeric)))
    assert np.allclose(analytic / scale, numeric / scale, atol=1e-6)


def test_a_constant_centre_offset_relabels_the_position_and_leaves_the_crlb_unchanged():
    # a constant drift (dx, dy) puts the same image where an emitter dx, dy further would put it
    # without drift: the Fisher information is identical; a sloped drift adds a z-term and changes it
    dx, dy, z = 37.0, -58.0, np.array([-500.0, 0.0, 420.0])
    plain = SKEWED.without_drift()
    shifted = AstigmaticPSF(**{**vars(plain), "drift_z_nm": (0.0,), "drift_x_nm": (dx,), "drift_y_nm": (dy,)})
    a = fisher_information(z, photons=2000.0, background=20.0, psf=shifted, x_offset_px=0.3, y_offset_px=0.7)
    b = fisher_information(z, photons=2000.0, background=20.0, psf=plain, x_offset_px=0.3 + dx / 100.0,
                           y_offset_px=0.7 + dy / 100.0)
    assert np.allclose(a, b, rtol=1e-10, atol=0)
    # and the bound of the emitter's position barely depends on where in the pixel it sits
    bound = crlb(z, photons=2000.0, background=20.0, psf=shifted)
    reference = crlb(z, photons=2000.0, background=20.0, psf=plain)
    for name in ("x_nm", "y_nm", "z_nm"):
        assert np.allclose(getattr(bound, name), getattr(reference, name), rtol=0.02)
    # a sloped drift couples x and y to z: a reparametrisation x' = x + dx(z) that leaves the
    # bound of z as it is (with the image at the same place in its pixel) and widens those of x, y
    dx_z, dy_z = SKEWED.centre_offset_nm(z)
    sloped = crlb(z, photons=2000.0, background=20.0, psf=SKEWED)
    same_image = crlb(z, photons=2000.0, background=20.0, psf=plain, x_offset_px=0.5 + dx_z / 100.0,
                      y_offset_px=0.5 + dy_z / 100.0)
    assert np.allclose(sloped.z_nm, same_image.z_nm, rtol=1e-8)
    assert np.all(sloped.x_nm > same_image.x_nm * 1.005) and np.all(sloped.y_nm > same_image.y_nm * 1.005)


def test_crlb_is_sigma_over_sqrt_n_for_a_fine_pixelated_gaussian_without_background():
    # Small pixels, a ROI of +-8 sigma and (almost) no background: the ideal-camera limit
    # var(x) = sigma^2 / N and var(N) = N. Pixelation adds a relative a^2 / (12 sigma^2) ~ 5e-5.
    z, n = 300.0, 1e4
    sigma = float(ROUND.sigma_nm(z)[0])
    pixel = 5.0
    roi = 2 * int(8 * sigma / pixel) + 1
    bound = crlb(z, photons=n, background=1e-9, psf=ROUND, pixel_nm=pixel, roi_px=roi)
    assert float(bound.x_nm) == pytest.approx(sigma / math.sqrt(n), rel=2e-4)
    assert float(bound.y_nm) == pytest.approx(sigma / math.sqrt(n), rel=2e-4)
    assert float(bound.photons) == pytest.approx(math.sqrt(n), rel=2e-4)
    # widths grow with |z - c| along both axes: d sigma/dz = sigma0^2 (z - c) / (d^2 sigma)
    dsdz = 130.0**2 * z / (400.0**2 * sigma)
    # z enters only through the width; for a round Gaussian var(sigma) = sigma^2 / (2N) per axis,
    # and the two axes give twice the information: var(z) = sigma^2 / (4 N dsdz^2)
    assert float(bound.z_nm) == pytest.approx(sigma / (2 * math.sqrt(n) * dsdz), rel=2e-3)


@pytest.mark.parametrize("background", [1.0, 10.0, 100.0])
def test_crlb_matches_mortensen_with_background(background):
    # Mortensen et al. (Nat. Methods 2010) Eq. 5 for a Gaussian with background b per pixel of size a:
    # var = sigma_a^2 / N (1 + int_0^1 ln t / (1 + t / tau) dt)^-1, tau = 2 pi sigma_a^2 b / (N a^2),
    # sigma_a^2 = sigma^2 + a^2 / 12. It approximates the pixelated PSF; with a = 20 nm << sigma
    # the approximation is good to well below 1 %.
    n, pixel, sigma = 2000.0, 20.0, 130.0
    roi = 2 * int(10 * sigma / pixel) + 1
    sa2 = sigma**2 + pixel**2 / 12
    tau = 2 * math.pi * sa2 * background / (n * pixel**2)
    integral = integrate.quad(lambda t: math.log(t) / (1 + t / tau), 0, 1)[0]
    expected = math.sqrt(sa2 / n / (1 + integral))
    bound = crlb(0.0, photons=n, background=background, psf=ROUND, pixel_nm=pixel, roi_px=roi)
    assert float(bound.x_nm) == pytest.approx(expected, rel=5e-3)
    # in focus a round PSF carries no z information (d sigma / dz = 0): the z bound is infinite,
    # and the other parameters stay finite
    assert math.isinf(float(bound.z_nm))
    assert math.isfinite(float(bound.photons)) and math.isfinite(float(bound.background))


@settings(max_examples=15, deadline=None)
@given(photons=st.floats(100.0, 1e6), factor=st.floats(1.5, 100.0), z=st.floats(-700, 700))
def test_crlb_scales_as_one_over_sqrt_photons_without_background(photons, factor, z):
    one = crlb(z, photons=photons, background=0.0, roi_px=21)
    many = crlb(z, photons=photons * factor, background=0.0, roi_px=21)
    for name in ("x_nm", "y_nm", "z_nm"):
        assert float(getattr(one, name)) / float(getattr(many, name)) == pytest.approx(math.sqrt(factor), rel=1e-6)


def test_emccd_is_sqrt2_times_poisson_and_scmos_with_zero_read_noise_is_poisson():
    z = np.linspace(-750, 750, 31)
    poisson = crlb(z, photons=5000, background=50, noise="poisson")
    emccd = crlb(z, photons=5000, background=50, noise="emccd")
    scmos0 = crlb(z, photons=5000, background=50, noise="scmos", read_noise_photons=0.0)
    scmos = crlb(z, photons=5000, background=50, noise="scmos", read_noise_photons=np.full((41, 41), 3.0))
    for name in ("x_nm", "y_nm", "z_nm", "photons", "background"):
        assert np.allclose(getattr(emccd, name), math.sqrt(2) * getattr(poisson, name), rtol=1e-10)
        assert np.allclose(getattr(scmos0, name), getattr(poisson, name), rtol=1e-10)
    # read noise of 3 photons adds variance 9 per pixel: like background 50 -> 59 on a Poisson camera
    assert np.all(scmos.x_nm > poisson.x_nm)
    like = crlb(z, photons=5000, background=59, noise="poisson")
    assert np.allclose(scmos.x_nm, like.x_nm, rtol=0.05)


def test_scmos_per_pixel_map_matters_where_the_signal_is():
    quiet = np.zeros((21, 21))
    hot_centre = quiet.copy()
    hot_centre[8:13, 8:13] = 20.0
    hot_corner = quiet.copy()
    hot_corner[:5, :5] = 20.0
    kw = dict(photons=2000, background=5, roi_px=21, noise="scmos")
    base = crlb(0.0, read_noise_photons=quiet, **kw)
    centre = crlb(0.0, read_noise_photons=hot_centre, **kw)
    corner = crlb(0.0, read_noise_photons=hot_corner, **kw)
    assert float(centre.x_nm) > float(corner.x_nm) > float(base.x_nm)


def test_crlb_increases_with_background():
    bounds = crlb(100.0, photons=5000, background=np.array([0.0, 1.0, 10.0, 100.0, 1000.0]))
    for name in ("x_nm", "y_nm", "z_nm", "photons"):
        assert np.all(np.diff(getattr(bounds, name)) > 0)


def test_z_precision_is_best_between_the_foci_and_worst_far_out():
    z = np.linspace(-750, 750, 151)
    bound = crlb(z, photons=5000, background=50)
    psf = AstigmaticPSF()
    best = z[np.argmin(bound.z_nm)]
    assert psf.c_x_nm - 100 < best < psf.c_y_nm + 300
    assert bound.z_nm[0] > 3 * bound.z_nm.min() and bound.z_nm[-1] > 1.5 * bound.z_nm.min()
    # lateral precision is best near each axis' own focus
    assert abs(z[np.argmin(bound.x_nm)] - psf.c_x_nm) < 150
    assert abs(z[np.argmin(bound.y_nm)] - psf.c_y_nm) < 150


def test_broadcasting_and_derived_quantities():
    z = np.linspace(-500, 500, 5)
    photons = np.array([[1000.0], [5000.0], [20000.0]])
    bound = crlb(z, photons=photons, background=10.0)
    assert isinstance(bound, CRLB)
    assert bound.x_nm.shape == (3, 5) and bound.volumetric_nm.shape == (3, 5)
    assert np.allclose(bound.lateral_nm, np.hypot(bound.x_nm, bound.y_nm))
    assert np.allclose(bound.volumetric_nm**2, bound.x_nm**2 + bound.y_nm**2 + bound.z_nm**2)
    single = crlb(z[1], photons=5000.0, background=10.0)
    assert np.ndim(single.x_nm) == 0 and float(single.x_nm) == pytest.approx(bound.x_nm[1, 1])
    fisher = fisher_information(z, photons=5000.0, background=10.0)
    assert fisher.shape == (5, 5, 5) and np.allclose(fisher, np.swapaxes(fisher, -1, -2))
    assert np.all(np.linalg.eigvalsh(fisher) > 0)


def test_the_bounds_of_many_emitters_take_bounded_memory_and_equal_each_emitters_own():
    # a test set's worth of emitters (300 frames at 5 /um^2 hold ~60,000) is bounded in batches:
    # without them this call's derivative images alone would take ~5 GB
    rng = np.random.default_rng(3)
    z = rng.uniform(-750, 750, 8000)
    photons = rng.uniform(1000, 20000, 8000)
    tracemalloc.start()
    try:
        bound = crlb(z, photons=photons, background=50.0, noise="emccd")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 400 * 2**20
    for k in (0, 1, 417, 4000, 7999):  # batch edges included (a batch is a few hundred emitters)
        alone = crlb(z[k], photons=photons[k], background=50.0, noise="emccd")
        assert float(alone.volumetric_nm) == pytest.approx(bound.volumetric_nm[k], rel=1e-12)


def test_crlb_for_snr_uses_the_presets():
    for name, level in SNR_PRESETS.items():
        got = crlb_for_snr(name, 0.0)
        ref = crlb(0.0, photons=level.photons, background=level.background, noise="emccd")
        assert float(got.volumetric_nm) == pytest.approx(float(ref.volumetric_nm), rel=1e-12)
    order = [float(crlb_for_snr(k, 0.0).volumetric_nm) for k in ("high", "medium", "low")]
    assert order == sorted(order)
    with pytest.raises(ValueError, match="unknown SNR preset"):
        crlb_for_snr("ultra", 0.0)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(z_nm=np.nan), ValueError, "z_nm"),
        (dict(photons=-5.0), ValueError, "photons"),
        (dict(photons=0.0), ValueError, "photons"),
        (dict(background=-1.0), ValueError, "background"),
        (dict(background=np.inf), ValueError, "background"),
        (dict(noise="gaussian"), ValueError, "noise model"),
        (dict(noise="scmos"), ValueError, "read_noise_photons"),
        (dict(noise="poisson", read_noise_photons=2.0), ValueError, "only to noise='scmos'"),
        (dict(noise="scmos", read_noise_photons=np.ones((3, 3))), ValueError, "per-pixel map"),
        (dict(roi_px=0), ValueError, "roi_px"),
        (dict(roi_px=7.5), ValueError, "roi_px"),
        (dict(pixel_nm=-100.0), ValueError, "pixel_nm"),
        (dict(photons="many"), TypeError, "photons"),
        (dict(psf="astigmatic"), TypeError, "psf"),
        (dict(x_offset_px=np.nan), ValueError, "x_offset_px"),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(kwargs, error, match):
    args = dict(z_nm=0.0, photons=1000.0, background=10.0) | kwargs
    with pytest.raises(error, match=match):
        crlb(args.pop("z_nm"), **args)


def test_empty_z_gives_empty_bounds():
    bound = crlb(np.empty(0), photons=1000.0, background=10.0)
    assert bound.x_nm.shape == (0,) and bound.volumetric_nm.shape == (0,)


def test_a_setup_object_is_the_same_as_its_keywords():
    read = np.full((21, 21), 2.0)
    setup = CRLBSetup(psf=SKEWED, pixel_nm=110.0, roi_px=21, noise="scmos", read_noise_photons=read)
    z = np.array([-400.0, 0.0, 300.0])
    by_setup = crlb(z, photons=3000.0, background=30.0, setup=setup)
    by_keywords = crlb(z, photons=3000.0, background=30.0, psf=SKEWED, pixel_nm=110.0, roi_px=21, noise="scmos",
                       read_noise_photons=read)
    assert np.array_equal(by_setup.volumetric_nm, by_keywords.volumetric_nm)
    assert np.array_equal(setup.fisher_information(z, photons=3000.0, background=30.0),
                          fisher_information(z, photons=3000.0, background=30.0, setup=setup))
    # keywords replace the setup's fields
    emccd = crlb(z, photons=3000.0, background=30.0, setup=setup, noise="emccd", read_noise_photons=None)
    assert np.array_equal(emccd.x_nm, crlb(z, photons=3000.0, background=30.0, psf=SKEWED, pixel_nm=110.0,
                                           roi_px=21, noise="emccd").x_nm)
    assert not setup.read_noise_photons.flags.writeable
    with pytest.raises(TypeError, match="unknown option 'roi'"):
        crlb(0.0, photons=1.0, background=1.0, roi=3)
    with pytest.raises(TypeError, match="CRLBSetup"):
        crlb(0.0, photons=1.0, background=1.0, setup="emccd")


def test_crlb_for_snr_keeps_the_noise_of_a_setup():
    poisson = crlb_for_snr("medium", 0.0, setup=CRLBSetup(noise="poisson"))
    assert float(poisson.x_nm) == float(crlb(0.0, photons=5000.0, background=50.0).x_nm)
    assert float(crlb_for_snr("medium", 0.0).x_nm) > float(poisson.x_nm)  # EMCCD by default: less information
