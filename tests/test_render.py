import numpy as np
import pytest

from structloc.emitters import Emitters
from structloc.field import Field
from structloc.render import render_gaussian, render_histogram, subpixel_bias


def _locs(x, y, z=None):
    n = len(x)
    return Emitters(np.zeros(n, int), x, y, np.zeros(n) if z is None else z, np.ones(n))


def test_histogram_counts_every_localization_and_mean_z():
    locs = _locs([5.0, 6.0, 3000.0], [5.0, 7.0, 1000.0], [100.0, 300.0, -50.0])
    rec = render_histogram(locs, field=Field(), pixel_nm=10.0)
    assert rec.image.shape == (640, 640)
    assert rec.image.sum() == 3
    assert rec.image[0, 0] == 2 and rec.z_nm[0, 0] == pytest.approx(200.0)
    assert rec.z_nm[100, 300] == pytest.approx(-50.0)
    assert np.isnan(rec.z_nm[10, 10])


def test_gaussian_render_conserves_counts():
    rng = np.random.default_rng(0)
    locs = _locs(rng.uniform(1000, 5000, 500), rng.uniform(1000, 5000, 500), rng.uniform(-500, 500, 500))
    rec = render_gaussian(locs, pixel_nm=20.0, sigma_nm=15.0)
    assert rec.image.sum() == pytest.approx(500, rel=1e-6)


def test_uniform_positions_show_no_bias():
    rng = np.random.default_rng(1)
    locs = _locs(rng.uniform(0, 6400, 20000), rng.uniform(0, 6400, 20000))
    bias = subpixel_bias(locs, period_nm=100.0, bins=20)
    # chi2 / dof has mean 1 and sd sqrt(2/dof) ~ 0.32 under no bias
    assert bias.checkerboard < 2.5
    assert bias.p_value > 1e-3
    assert bias.n == 40000


def test_positions_snapped_to_bins_show_strong_bias():
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 6400, 5000)
    y = rng.uniform(0, 6400, 5000)
    snapped = _locs(np.floor(x / 25) * 25 + 12.5, np.floor(y / 25) * 25 + 12.5)
    bias = subpixel_bias(snapped, period_nm=25.0, bins=20)
    assert bias.checkerboard > 100
    assert bias.p_value < 1e-12
    assert bias.kl_divergence == pytest.approx(np.log(20), rel=1e-6)


def test_empty_localizations_give_nan_measure_and_empty_image():
    bias = subpixel_bias(Emitters.empty())
    assert bias.n == 0 and np.isnan(bias.checkerboard)
    assert render_histogram(Emitters.empty()).image.sum() == 0


@pytest.mark.parametrize("kwargs", [dict(period_nm=0.0), dict(period_nm=np.nan), dict(bins=1)])
def test_bad_arguments_are_named(kwargs):
    with pytest.raises(ValueError, match="period_nm|bins"):
        subpixel_bias(_locs([1.0], [1.0]), **kwargs)
