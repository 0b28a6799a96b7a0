"""Tests of structloc.camera.noise: the exact Poisson and Gamma samplers and the torch path."""

import numpy as np
import pytest
import torch
from scipy import stats

from structloc.camera import EMCCD, sample_gamma, sample_poisson
from structloc.camera.noise import TorchSource

def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)



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


def test_torch_path_camera_moments_match_theory(assert_moments):
    """The device (torch) pipeline, run on CPU tensors, has the EMCCD moments."""
    cam = EMCCD()
    photons = torch.full((200_000,), 40.0, dtype=torch.float64)
    adu = cam._pipeline(photons, TorchSource(_gen(4)))
    assert_moments(adu, cam.mean_adu(40.0), cam.variance_adu(40.0))
