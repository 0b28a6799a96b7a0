"""Frame figures: galleries, bead montages, target and output grids draw what they promise."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.image import AxesImage

from structloc import plotting
from structloc.emitters import Emitters
from structloc.field import Field
from structloc.targets import TargetSpec, encode

RNG = np.random.default_rng(7)
FIELD = Field(width_px=16, height_px=16)
SPEC = TargetSpec(field=FIELD)


def _images(fig) -> list[AxesImage]:
    return [im for ax in fig.axes for im in ax.images]


def test_frame_gallery_draws_each_frame_and_marks_emitters():
    frames = RNG.random((5, 16, 20))
    marks = [RNG.uniform(0, 16, (k, 2)) for k in range(5)]
    fig = plotting.frame_gallery(frames, titles=[f"f{k}" for k in range(5)], emitters_px=marks, ncols=3)
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 5
    np.testing.assert_array_equal(images[2].get_array(), frames[2])
    visible = [ax for ax in fig.axes if ax.get_visible() and ax.get_images()]
    assert [ax.get_title() for ax in visible] == [f"f{k}" for k in range(5)]
    assert [len(ax.collections[0].get_offsets()) for ax in visible] == [0, 1, 2, 3, 4]


def test_frame_gallery_accepts_a_single_frame_and_a_torch_tensor():
    import torch

    fig = plotting.frame_gallery(torch.ones(8, 8), shared_scale=True)
    assert sum(len(ax.get_images()) for ax in fig.axes) == 1


@pytest.mark.parametrize("bad, match", [(np.zeros((0, 4, 4)), "shape"), (np.full((1, 4, 4), np.inf), "NaN")])
def test_frame_gallery_rejects_bad_frames(bad, match):
    with pytest.raises(ValueError, match=match):
        plotting.frame_gallery(bad)


def test_z_montage_has_bead_model_and_residual_rows():
    measured, model = RNG.random((4, 9, 9)), RNG.random((4, 9, 9))
    fig = plotting.z_montage(measured, model, [-500, -100, 100, 500])
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 12
    residuals = [im for im in images if im.get_cmap().name == "RdBu_r"]
    assert len(residuals) == 4
    np.testing.assert_allclose(residuals[0].get_array(), measured[0] - model[0])
    assert fig.axes[0].get_title() == "z = -500 nm"
    with pytest.raises(ValueError, match="shape"):
        plotting.z_montage(measured, model[:2], [0, 1, 2, 3])


def test_z_montage_of_two_models_has_a_row_and_a_residual_row_for_each():
    measured = RNG.random((3, 9, 9))
    models = {"Gaussian": RNG.random((3, 9, 9)), "interpolated": RNG.random((3, 9, 9))}
    fig = plotting.z_montage(measured, models, [-500, 0, 500])
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 15
    residuals = [im for im in images if im.get_cmap().name == "RdBu_r"]
    np.testing.assert_allclose(residuals[3].get_array(), measured[0] - models["interpolated"][0])
    assert residuals[0].get_clim() == residuals[-1].get_clim()  # one residual scale
    assert [ax.get_ylabel() for ax in fig.axes[:15:3]] == [
        "bead", "Gaussian", "interpolated", "Gaussian residual", "interpolated residual"]
    with pytest.raises(ValueError, match="interpolated"):
        plotting.z_montage(measured, {"interpolated": models["interpolated"][:2]}, [0, 1, 2])


@settings(max_examples=25, deadline=None)
@given(z=st.floats(-740.0, 740.0), x=st.floats(200.0, 1400.0), y=st.floats(200.0, 1400.0))
def test_grid_z_recovers_the_encoded_depth_at_the_blob_peak(z, x, y):
    grid = encode(Emitters([0], [x], [y], [z], [1000.0]), 1, SPEC)[0].numpy()
    amplitude, z_map = plotting.grid_z_nm(grid, FIELD)
    peak = np.unravel_index(np.argmax(amplitude), amplitude.shape)
    assert 0.6 < amplitude[peak] <= 1.0 + 1e-6  # a unit blob sampled within half a bin of its centre
    assert abs(z_map[peak] - z) < 1e-2  # phase -> z is exact for one blob (float32 grid)


def test_grid_z_rejects_grids_without_both_phase_channels():
    with pytest.raises(ValueError, match="channels"):
        plotting.grid_z_nm(np.zeros((1, 4, 4)))
    with pytest.raises(ValueError, match="3-D"):
        plotting.grid_z_nm(np.zeros((4, 4)))


def test_target_channels_draws_frame_and_three_grid_panels_in_the_window(three_emitters):
    truth = three_emitters
    grid = encode(truth, 1, SPEC)[0]
    fig = plotting.target_channels(np.random.default_rng(0).random((16, 16)), grid, field=FIELD, truth=truth,
                             window_nm=(200, 1000, 200, 1000))
    images = _images(fig)
    assert len(images) == 4
    assert images[1].get_array().shape == (64, 64)  # the 4x grid
    assert fig.axes[0].get_xlim() == (200.0, 1000.0) and fig.axes[0].get_ylim() == (1000.0, 200.0)
    with pytest.raises(ValueError, match="3 channels"):
        plotting.target_channels(np.zeros((16, 16)), np.zeros((2, 64, 64)), field=FIELD)
    with pytest.raises(ValueError, match="window_nm"):
        plotting.target_channels(np.zeros((16, 16)), grid, field=FIELD, window_nm=(5, 1, 0, 1))


def test_prediction_vs_truth_marks_truth_and_predictions(three_emitters):
    truth = three_emitters
    grid = encode(truth, 1, SPEC)[0].numpy()
    fig = plotting.prediction_vs_truth(np.zeros((16, 16)), grid, grid, field=FIELD, truth=truth, pred=truth.take([0, 1]))
    offsets = [len(c.get_offsets()) for c in fig.axes[0].collections]
    assert offsets == [3, 2]
    with pytest.raises(ValueError, match="aspect"):
        plotting.prediction_vs_truth(np.zeros((16, 16)), grid, grid[:, :32], field=FIELD)
    # a mixture head's picture on its coarser grid goes beside the 4x grid targets
    from structloc.mixture import MixtureSpec, ideal_output, phase_image

    mix = MixtureSpec(field=FIELD)
    picture = phase_image(ideal_output(truth, 1, mix), mix)[0].numpy()
    fig = plotting.prediction_vs_truth(np.zeros((16, 16)), grid, picture, field=FIELD, truth=truth)
    assert fig.axes[2].images[0].get_array().shape[:2] == mix.shape


def test_localizations_on_frame_one_panel_per_model(three_emitters):
    truth = three_emitters
    fig = plotting.localizations_on_frame(np.zeros((16, 16)), truth, {"helix": truth, "csr": truth.take([0])},
                                    field=FIELD)
    assert len(fig.axes) == 2
    assert [len(c.get_offsets()) for c in fig.axes[1].collections] == [3, 1]
    with pytest.raises(ValueError, match="empty"):
        plotting.localizations_on_frame(np.zeros((16, 16)), truth, {}, field=FIELD)
