"""Tests of structloc.sampling.counts: emitter counts per frame and photons."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from structloc.field import Field
from structloc.sampling import MAX_EMITTERS_PER_FRAME, draw_photons, fixed_counts, poisson_counts, validate_counts
from structloc.snr import SNR_PRESETS, SignalLevel


def test_poisson_counts_mean_and_variance():
    field = Field()
    counts = poisson_counts(4000, 0.5, field, np.random.default_rng(1))
    mean = 0.5 * field.area_um2  # 20.48
    assert counts.dtype == np.int64 and counts.shape == (4000,)
    assert abs(counts.mean() - mean) < 4 * np.sqrt(mean / 4000)
    # Var of the sample variance of a Poisson(mu) ~ (mu + 2 mu^2) / n
    assert abs(counts.var(ddof=1) - mean) < 4 * np.sqrt((mean + 2 * mean**2) / 4000)


def test_fixed_counts_and_validation():
    assert np.array_equal(fixed_counts(3, 7), [7, 7, 7])
    assert fixed_counts(0, 5).shape == (0,)
    assert np.array_equal(validate_counts(np.array([1.0, 2.0])), [1, 2])
    with pytest.raises(ValueError, match=">= 0"):
        validate_counts([1, -1])
    with pytest.raises(ValueError, match="whole"):
        validate_counts([1.5])
    with pytest.raises(ValueError, match="NaN"):
        validate_counts([np.nan])
    with pytest.raises(ValueError, match="1-D"):
        validate_counts(np.ones((2, 2), int))
    with pytest.raises(TypeError, match="integers"):
        validate_counts(np.array(["a"]))
    with pytest.raises(ValueError, match="n_frames"):
        fixed_counts(-1, 3)
    with pytest.raises(ValueError, match="density_per_um2"):
        poisson_counts(3, np.inf, Field(), np.random.default_rng(0))
    with pytest.raises(ValueError, match="density_per_um2"):
        poisson_counts(3, -1.0, Field(), np.random.default_rng(0))


def test_draw_photons_uniform_in_the_documented_interval():
    level = SNR_PRESETS["medium"]  # 5000 photons, spread 0.5
    photons = draw_photons(20000, "medium", np.random.default_rng(2))
    lo, hi = level.photons * (1 - level.photons_spread), level.photons * (1 + level.photons_spread)
    assert photons.min() >= lo and photons.max() <= hi
    assert stats.kstest(photons, stats.uniform(lo, hi - lo).cdf).pvalue > 1e-3
    exact = draw_photons(5, SignalLevel("x", photons=100.0, background=1.0, photons_spread=0.0),
                         np.random.default_rng(0))
    assert np.all(exact == 100.0)
    with pytest.raises(ValueError, match="unknown SNR"):
        draw_photons(3, "loud", np.random.default_rng(0))



@pytest.mark.parametrize("density", [1e6, 1e9])
def test_densities_beyond_the_per_frame_limit_are_refused_before_drawing(density):
    with pytest.raises(ValueError, match=r"density .* emitters/um\^2 means [\d,]+ emitters per frame on "
                                         r"average \(a 6.4 x 6.4 um field\); at most 100,000 per frame"):
        poisson_counts(10, density, Field(), np.random.default_rng(0))
    assert poisson_counts(2, MAX_EMITTERS_PER_FRAME / Field().area_um2 / 2, Field(),
                          np.random.default_rng(0)).max() < MAX_EMITTERS_PER_FRAME
