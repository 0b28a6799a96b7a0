"""Tests of structloc.camera.scmos: per-pixel maps of the sCMOS camera."""

import math

import numpy as np
import pytest
import torch

from structloc.camera import SCMOS

def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)



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
