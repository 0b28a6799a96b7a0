"""Camera models: noise moments against closed forms, exact samplers, inversion, saturation, errors."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from structloc.camera import (
    EMCCD, SCMOS, Camera, IdealCamera, camera_from_name, sample_gamma, sample_poisson,
)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _assert_moments(samples: torch.Tensor, mean: float, var: float, n_se: float = 5.0) -> None:
    """Sample mean and variance within n_se standard errors of the theory."""
    x = samples.double().reshape(-1)
    n = x.numel()
    kurt_excess = float(stats.kurtosis(x.numpy()))
    se_mean = math.sqrt(var / n)
    se_var = var * math.sqrt((2.0 + kurt_excess) / (n - 1))
    assert abs(float(x.mean()) - mean) < n_se * se_mean, (float(x.mean()), mean)
    assert abs(float(x.var()) - var) < n_se * se_var, (float(x.var()), var)


# -- exact samplers (torch path, used on CUDA; checked here on the CPU) ---------------------------
@pytest.mark.parametrize("lam", [0.7, 4.0, 10.0, 31.5, 400.0])
def test_sample_poisson_matches_the_poisson_distribution(lam):
    n = 200_000
    k = sample_poisson(torch.full((n,), lam), _gen(1)).numpy()
    assert np.all(k == np.round(k)) and k.min() >= 0
    lo, hi = stats.poisson(lam).ppf([1e-4, 1 - 1e-4]).astype(int)
    edges = np.arange(lo, hi + 2)
    observed = np.histogram(np.clip(k, lo, hi), bins=edges)[0]
    probs = stats.poisson(lam).pmf(edges[:-1])
    probs[0] = stats.poisson(lam).cdf(lo)
    probs[-1] = stats.poisson(lam).sf(hi - 1)
    keep = probs * n > 5
    chi2 = np.sum((observed[keep] - n * probs[keep]) ** 2 / (n * probs[keep]))
    assert stats.chi2(keep.sum() - 1).sf(chi2) > 1e-4


@pytest.mark.parametrize("shape", [1.0, 3.0, 40.0, 900.0])
def test_sample_gamma_matches_the_gamma_distribution(shape):
    x = sample_gamma(torch.full((100_000,), shape), _gen(2)).numpy()
    assert stats.kstest(x, stats.gamma(shape).cdf).pvalue > 1e-4


def test_sample_gamma_of_zero_shape_is_zero_and_reproducible():
    shape = torch.tensor([0.0, 5.0, 0.0, 12.0])
    a, b = sample_gamma(shape, _gen(3)), sample_gamma(shape, _gen(3))
    assert torch.equal(a, b)
    assert a[0] == 0 and a[2] == 0 and a[1] > 0 and a[3] > 0


def test_torch_path_camera_moments_match_theory():
    """The device (torch) pipeline, run on CPU tensors, has the EMCCD moments."""
    from structloc.camera import _TorchSource

    cam = EMCCD()
    photons = torch.full((200_000,), 40.0, dtype=torch.float64)
    adu = cam._pipeline(photons, _TorchSource(_gen(4)))
    _assert_moments(adu, cam.mean_adu(40.0), cam.variance_adu(40.0))


# -- EMCCD ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("photons", [0.0, 5.0, 200.0, 2000.0])
def test_emccd_mean_and_variance_match_closed_forms(photons):
    cam = EMCCD()
    adu = cam.expose(torch.full((50, 64, 64), photons), _gen(5))
    _assert_moments(adu, cam.mean_adu(photons), cam.variance_adu(photons))


def test_emccd_mean_slope_is_qe_gain_over_e_per_adu():
    cam = EMCCD()
    assert cam.mean_adu(1000.0) - cam.mean_adu(0.0) == pytest.approx(0.9 * 300 / 45 * 1000)


def test_emccd_excess_noise_factor_is_two_at_high_signal():
    cam = EMCCD()
    photons = 1000.0
    adu = cam.expose(torch.full((40, 64, 64), photons), _gen(6)).double()
    electron_var = (float(adu.var()) - 1 / 12) * cam.e_per_adu**2 - cam.read_noise_e**2
    enf2 = electron_var / (cam.em_gain**2 * (cam.qe * photons + cam.spurious_e))
    assert enf2 == pytest.approx(2.0, abs=0.05)  # standard error ~0.014 for 163840 pixels


def test_to_photons_inverts_the_mean():
    cam = EMCCD()
    mu = torch.full((40, 64, 64), 37.0)
    est = cam.to_photons(cam.expose(mu, _gen(7)))
    se = math.sqrt(cam.variance_adu(37.0) / mu.numel()) / cam.adu_per_photon()
    assert abs(float(est.double().mean()) - 37.0) < 5 * se


def test_saturation_clips_at_full_scale():
    cam = EMCCD()
    adu = cam.expose(torch.full((4, 8, 8), 1e6), _gen(8))
    assert torch.all(adu == 65535)
    small = EMCCD(bit_depth=8).expose(torch.full((4, 8, 8), 1e4), _gen(8))
    assert torch.all(small == 255)


def test_expose_returns_whole_numbers_on_the_input_device_and_dtype():
    cam = EMCCD()
    for dtype in (torch.float32, torch.float64):
        adu = cam.expose(torch.full((3, 16, 16), 50.0, dtype=dtype), _gen(9))
        assert adu.dtype == dtype and adu.device.type == "cpu" and adu.shape == (3, 16, 16)
        assert torch.equal(adu, adu.round()) and adu.min() >= 0
    assert cam.expose(torch.full((5,), 3, dtype=torch.int64), _gen(9)).dtype == torch.float32


def test_same_generator_seed_same_noise_different_seed_different_noise():
    cam = EMCCD()
    mu = torch.full((20, 32, 32), 80.0)
    assert torch.equal(cam.expose(mu, _gen(10)), cam.expose(mu, _gen(10)))
    assert not torch.equal(cam.expose(mu, _gen(10)), cam.expose(mu, _gen(11)))


def test_expose_of_empty_input_is_empty():
    out = EMCCD().expose(torch.zeros(0, 64, 64), _gen(0))
    assert out.shape == (0, 64, 64)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0])
def test_expose_rejects_nan_inf_and_negative_photons(bad):
    photons = torch.full((2, 4, 4), 10.0)
    photons[1, 2, 3] = bad
    with pytest.raises(ValueError, match="photons"):
        EMCCD().expose(photons)


def test_expose_rejects_non_numeric_input():
    with pytest.raises(TypeError):
        EMCCD().expose("many photons")
    with pytest.raises(TypeError):
        EMCCD().expose(torch.zeros(3, dtype=torch.bool))


@pytest.mark.parametrize(
    "cls, kwargs, word",
    [
        (EMCCD, {"qe": 0.0}, "qe"),
        (EMCCD, {"qe": 1.5}, "qe"),
        (EMCCD, {"em_gain": -1.0}, "em_gain"),
        (EMCCD, {"read_noise_e": float("nan")}, "read_noise_e"),
        (EMCCD, {"e_per_adu": 0.0}, "e_per_adu"),
        (EMCCD, {"bit_depth": 0}, "bit_depth"),
        (EMCCD, {"bit_depth": 12.0}, "bit_depth"),
        (SCMOS, {"gain_adu_per_e": 0.0}, "gain_adu_per_e"),
        (SCMOS, {"read_noise_e": np.full((4, 4), -1.0)}, "read_noise_e"),
        (SCMOS, {"offset_adu": np.ones(5)}, "offset_adu"),
        (IdealCamera, {"qe": -0.1}, "qe"),
    ],
)
def test_invalid_parameters_raise_naming_the_parameter(cls, kwargs, word):
    with pytest.raises(ValueError, match=word):
        cls(**kwargs)


# -- sCMOS ---------------------------------------------------------------------------------------
def test_scmos_per_pixel_mean_and_variance_follow_the_maps():
    cam = SCMOS.with_random_maps((8, 8), seed=3, read_noise_sigma_log=0.8)
    photons = 30.0
    adu = cam.expose(torch.full((6000, 8, 8), photons), _gen(12)).double()
    mean_theory = torch.as_tensor(cam.mean_adu(np.float64(photons)) * np.ones((8, 8)))
    var_theory = torch.as_tensor(cam.variance_adu(np.float64(photons)) * np.ones((8, 8)))
    n = adu.shape[0]
    z_mean = (adu.mean(0) - mean_theory) / (var_theory / n).sqrt()
    z_var = (adu.var(0) - var_theory) / (var_theory * math.sqrt(2 / (n - 1)))
    assert float(z_mean.abs().max()) < 5 and float(z_var.abs().max()) < 5
    # the per-pixel read noise really varies: the noisiest pixel is much noisier than the quietest
    assert float(adu.var(0).max() / adu.var(0).min()) > 1.5


def test_scmos_to_photons_inverts_the_mean_per_pixel():
    cam = SCMOS.with_random_maps((8, 8), seed=4)
    est = cam.to_photons(cam.expose(torch.full((4000, 8, 8), 20.0), _gen(13)))
    assert float(est.double().mean()) == pytest.approx(20.0, abs=0.1)  # se ~0.01


def test_scmos_maps_must_match_the_frames_and_each_other():
    cam = SCMOS.with_random_maps((8, 8), seed=0)
    with pytest.raises(ValueError, match="shape"):
        cam.expose(torch.ones(2, 8, 9))
    with pytest.raises(ValueError, match="shape"):
        SCMOS(offset_adu=np.zeros((4, 4)), gain_adu_per_e=np.ones((5, 5)))


def test_scalar_scmos_accepts_any_frame_shape():
    out = SCMOS().expose(torch.full((2, 5, 7), 10.0), _gen(14))
    assert out.shape == (2, 5, 7)


# -- ideal ---------------------------------------------------------------------------------------
def test_ideal_camera_is_poisson_in_photons():
    cam = IdealCamera()
    adu = cam.expose(torch.full((20, 64, 64), 12.5), _gen(15))
    _assert_moments(adu, 12.5, 12.5)
    assert torch.equal(cam.to_photons(adu), adu)


def test_camera_from_name():
    assert isinstance(camera_from_name("emccd"), EMCCD)
    assert isinstance(camera_from_name("sCMOS"), SCMOS)
    assert camera_from_name("ideal", qe=0.5).qe == 0.5
    with pytest.raises(ValueError, match="unknown camera"):
        camera_from_name("ccd")
    with pytest.raises(ValueError, match="the ideal camera has no parameter 'em_gain'; its parameters are qe, bit_depth"):
        camera_from_name("ideal", em_gain=3.0)


def test_camera_dicts_and_descriptions():
    from structloc.camera import CAMERA_PARAMETERS, camera_from_dict, camera_name, camera_parameters, \
        camera_to_dict, describe_camera

    for name in ("emccd", "scmos", "ideal"):
        assert set(camera_parameters(name)) <= set(CAMERA_PARAMETERS)  # every parameter has its help text
        camera = camera_from_name(name)
        assert camera_name(camera) == name and camera_to_dict(camera)["camera"] == name
        assert camera_from_dict(camera_to_dict(camera)) == camera or name == "scmos"  # SCMOS compares by identity
    assert describe_camera(SCMOS()) == "scmos (qe=0.8, offset_adu=100, gain_adu_per_e=0.5, read_noise_e=1.6, bit_depth=16)"
    assert "offset_adu=map 2x3 (mean" in describe_camera(SCMOS.with_random_maps((2, 3)))
    with pytest.raises(TypeError, match="structloc camera"):
        camera_name(object())


@settings(max_examples=25, deadline=None)
@given(
    name=st.sampled_from(["emccd", "scmos", "ideal"]),
    photons=st.lists(st.floats(0, 1e5, allow_nan=False), min_size=1, max_size=30),
    seed=st.integers(0, 2**31),
)
def test_expose_output_is_whole_and_in_range(name, photons, seed):
    cam: Camera = camera_from_name(name)
    out = cam.expose(torch.tensor(photons, dtype=torch.float64), _gen(seed))
    assert out.shape == (len(photons),)
    assert torch.all((out >= 0) & (out <= cam.max_adu)) and torch.equal(out, out.round())
