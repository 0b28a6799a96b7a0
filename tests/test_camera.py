"""Tests of structloc.camera.base: the camera pipeline (expose, to_photons, checks) and the ideal camera."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from structloc.camera import EMCCD, SCMOS, Camera, IdealCamera, camera_from_name

def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)



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



# -- ideal ---------------------------------------------------------------------------------------
def test_ideal_camera_is_poisson_in_photons(assert_moments):
    cam = IdealCamera()
    adu = cam.expose(torch.full((20, 64, 64), 12.5), _gen(15))
    assert_moments(adu, 12.5, 12.5)
    assert torch.equal(cam.to_photons(adu), adu)



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
