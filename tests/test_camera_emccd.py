"""Tests of structloc.camera.emccd: EMCCD moments, gain and excess noise."""

import pytest
import torch

from structloc.camera import EMCCD

def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)



@pytest.mark.parametrize("photons", [0.0, 5.0, 200.0, 2000.0])
def test_emccd_mean_and_variance_match_closed_forms(photons, assert_moments):
    cam = EMCCD()
    adu = cam.expose(torch.full((50, 64, 64), photons), _gen(5))
    assert_moments(adu, cam.mean_adu(photons), cam.variance_adu(photons))


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
