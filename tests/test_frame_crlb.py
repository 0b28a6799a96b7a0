"""The CRLB of emitters in their frame: the isolated bound as a special case, neighbours, edges."""

import numpy as np
import pytest
import torch

from structloc.crlb import CRLBSetup, crlb
from structloc.emitters import Emitters
from structloc.field import Field
from structloc.frame_crlb import frame_crlb
from structloc.psf import AstigmaticPSF, pixel_profile

PSF = AstigmaticPSF()
SETUP = CRLBSetup(psf=PSF, noise="emccd")


def _emitters(rows, frames=None):
    rows = np.asarray(rows, float).reshape(-1, 4)
    frame = np.zeros(len(rows), np.int64) if frames is None else np.asarray(frames, np.int64)
    return Emitters(frame=frame, x_nm=rows[:, 0], y_nm=rows[:, 1], z_nm=rows[:, 2], photons=rows[:, 3])


@pytest.mark.parametrize("z_nm", [-700.0, -200.0, 0.0, 450.0])
@pytest.mark.parametrize("noise", ["poisson", "emccd"])
def test_one_emitter_in_the_middle_of_a_roi_sized_frame_has_the_isolated_bound(z_nm, noise):
    setup = CRLBSetup(psf=PSF, noise=noise)
    field = Field(width_px=41, height_px=41)
    # the isolated bound puts the emitter at the centre of pixel 20 (offset 0.5 px)
    got = frame_crlb(_emitters([2050.0, 2050.0, z_nm, 5000.0]), field=field, background_photons=50.0, setup=setup)
    want = crlb(z_nm, photons=5000.0, background=50.0, setup=setup)
    for name in ("x_nm", "y_nm", "z_nm", "photons", "background"):
        assert getattr(got, name)[0] == pytest.approx(float(getattr(want, name)), rel=1e-9)


def _model(x, y, z, n, field, background):
    """Expected photons of a frame, written out again (float64) for finite differences."""
    sx, sy = PSF.sigma_nm(np.array(z))
    dx, dy = PSF.centre_offset_nm(np.array(z))
    px = pixel_profile(torch.tensor(np.array(x) + dx), torch.tensor(sx), field.width_px, field.pixel_nm).numpy()
    py = pixel_profile(torch.tensor(np.array(y) + dy), torch.tensor(sy), field.height_px, field.pixel_nm).numpy()
    return background + np.einsum("k,kh,kw->hw", np.array(n), py, px)


def test_joint_bound_matches_the_fisher_matrix_of_finite_differences():
    field = Field(width_px=20, height_px=16)
    truth = np.array([[700.0, 800.0, -300.0, 4000.0], [950.0, 650.0, 200.0, 6000.0], [1850.0, 120.0, -600.0, 3000.0]])
    background = 30.0
    theta = np.r_[truth.ravel(), background]

    def mu(t):
        rows = t[:-1].reshape(-1, 4)
        return _model(rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3], field, t[-1]).ravel()

    steps = np.r_[np.tile([1e-3, 1e-3, 1e-3, 1e-3], len(truth)), 1e-4]
    jac = np.stack([(mu(theta + h * e) - mu(theta - h * e)) / (2 * h) for h, e in zip(steps, np.eye(len(theta)))])
    fisher = (jac / (2.0 * mu(theta))) @ jac.T  # EMCCD: variance 2 mu
    want = np.sqrt(np.diag(np.linalg.inv(fisher)))
    got = frame_crlb(_emitters(truth), field=field, background_photons=background, setup=SETUP)
    assert np.allclose(np.c_[got.x_nm, got.y_nm, got.z_nm, got.photons].ravel(), want[:-1], rtol=1e-4)
    assert np.allclose(got.background, want[-1], rtol=1e-4)


def test_far_apart_emitters_keep_their_own_bound_and_a_close_neighbour_costs_precision():
    field = Field(width_px=80, height_px=40)
    alone = frame_crlb(_emitters([2000.0, 2000.0, 0.0, 5000.0]), field=field, background_photons=50.0, setup=SETUP)
    lateral = []
    for separation in (4000.0, 600.0, 300.0, 150.0, 75.0):
        pair = _emitters([[2000.0, 2000.0, 0.0, 5000.0], [2000.0 + separation, 2000.0, 0.0, 5000.0]])
        lateral.append(frame_crlb(pair, field=field, background_photons=50.0, setup=SETUP).x_nm[0])
    # 4 um apart (25 sigma): a second emitter only helps to pin the shared background (< 1 %)
    assert lateral[0] == pytest.approx(alone.x_nm[0], rel=0.01)
    assert np.all(np.diff(lateral) > 0)  # the closer the neighbour, the worse
    assert lateral[-1] > 3 * alone.x_nm[0]


def test_emitters_at_the_same_place_cannot_be_told_apart():
    field = Field(width_px=32, height_px=32)
    same = _emitters([[1600.0, 1600.0, 100.0, 5000.0], [1600.0, 1600.0, 100.0, 3000.0], [300.0, 2900.0, 0.0, 4000.0]])
    got = frame_crlb(same, field=field, background_photons=50.0, setup=SETUP)
    assert np.all(np.isinf(got.x_nm[:2])) and np.all(np.isinf(got.z_nm[:2]))
    assert np.isfinite(got.x_nm[2])  # the third is still bounded


def test_the_frame_edge_cuts_a_defocused_spot_and_raises_its_bound():
    field = Field(width_px=64, height_px=64)
    z = -650.0  # long along y: sigma_y about 0.8 um
    inside = frame_crlb(_emitters([3200.0, 3200.0, z, 5000.0]), field=field, background_photons=50.0, setup=SETUP)
    at_top = frame_crlb(_emitters([3200.0, 150.0, z, 5000.0]), field=field, background_photons=50.0, setup=SETUP)
    assert at_top.y_nm[0] > 1.5 * inside.y_nm[0]
    assert at_top.y_nm[0] / inside.y_nm[0] > at_top.x_nm[0] / inside.x_nm[0]  # the cut axis loses most


def test_frames_are_independent_and_the_order_is_kept():
    field = Field(width_px=32, height_px=32)
    rows = np.array([[800.0, 900.0, 0.0, 5000.0], [1000.0, 950.0, 300.0, 4000.0], [2400.0, 2500.0, -400.0, 6000.0]])
    together = frame_crlb(_emitters(rows, frames=[3, 0, 3]), field=field, background_photons=40.0, setup=SETUP)
    first = frame_crlb(_emitters(rows[[0, 2]]), field=field, background_photons=40.0, setup=SETUP)
    second = frame_crlb(_emitters(rows[[1]]), field=field, background_photons=40.0, setup=SETUP)
    assert np.allclose(together.x_nm, [first.x_nm[0], second.x_nm[0], first.x_nm[1]], rtol=1e-12)


def test_bounds_scale_as_one_over_root_photons_without_background():
    field = Field(width_px=41, height_px=41)
    one = frame_crlb(_emitters([2050.0, 2050.0, 100.0, 1000.0]), field=field, background_photons=0.0,
                     setup=CRLBSetup(psf=PSF, noise="poisson"))
    four = frame_crlb(_emitters([2050.0, 2050.0, 100.0, 4000.0]), field=field, background_photons=0.0,
                      setup=CRLBSetup(psf=PSF, noise="poisson"))
    assert four.x_nm[0] == pytest.approx(one.x_nm[0] / 2, rel=1e-6)
    assert four.z_nm[0] == pytest.approx(one.z_nm[0] / 2, rel=1e-6)


def test_empty_input_gives_empty_bounds():
    got = frame_crlb(Emitters.empty(), field=Field(), background_photons=50.0)
    assert got.x_nm.shape == (0,) and got.background.shape == (0,)


@pytest.mark.parametrize("kwargs, message", [
    (dict(background_photons=-1.0), "background_photons"),
    (dict(background_photons=float("nan")), "background_photons"),
    (dict(background_photons="fifty"), "background_photons must be finite and >= 0"),
    (dict(background_photons=50.0, setup="emccd"), "CRLBSetup"),
    (dict(background_photons=50.0, field=(64, 64)), "Field"),
])
def test_bad_arguments_are_refused_with_a_message(kwargs, message):
    args = {"field": Field(), **kwargs}
    with pytest.raises((ValueError, TypeError), match=message):
        frame_crlb(_emitters([100.0, 100.0, 0.0, 5000.0]), **args)


def test_non_positive_photons_are_refused():
    with pytest.raises(ValueError, match="photon"):
        frame_crlb(_emitters([100.0, 100.0, 0.0, 0.0]), field=Field(), background_photons=50.0)


def test_crowding_factor_is_one_alone_grows_with_a_neighbour_and_is_inf_when_coincident():
    from structloc.frame_crlb import crowding_factor

    field = Field()
    rows = [[3200.0, 3200.0, 0.0, 20000.0],  # alone in the middle of frame 0
            [1600.0, 1600.0, 0.0, 20000.0], [1800.0, 1600.0, 0.0, 20000.0],  # a pair 200 nm apart, frame 1
            [3000.0, 3000.0, 100.0, 20000.0], [3000.0, 3000.0, 100.0, 20000.0]]  # coincident, frame 2
    factor = crowding_factor(_emitters(rows, frames=[0, 1, 1, 2, 2]), field=field, background_photons=200.0,
                             setup=SETUP)
    assert 0.9 < factor[0] < 1.02  # the frame's larger area pins the background a little better
    assert factor[1] > 1.5 and factor[1] == pytest.approx(factor[2], rel=0.05)  # nearly mirror images
    assert np.isinf(factor[3:]).all()
    assert crowding_factor(Emitters.empty(), field=field, background_photons=200.0).shape == (0,)
