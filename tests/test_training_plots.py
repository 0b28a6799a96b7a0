"""Figure helpers of the CNN chapters: they draw what they promise and reject bad input."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402

from structloc import training_plots as tp  # noqa: E402
from structloc.crlb import crlb_for_snr  # noqa: E402
from structloc.emitters import Emitters  # noqa: E402
from structloc.evaluate import bootstrap_ci, match  # noqa: E402
from structloc.field import Field  # noqa: E402
from structloc.render import render_gaussian, subpixel_bias  # noqa: E402
from structloc.targets import TargetSpec, encode  # noqa: E402

FIELD = Field(width_px=16, height_px=16)
SPEC = TargetSpec(field=FIELD)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _truth() -> Emitters:
    return Emitters([0, 0, 0], [412.5, 800.0, 1210.0], [300.0, 900.0, 1312.5], [-600.0, 0.0, 500.0],
                    [5000.0, 8000.0, 3000.0])


def _images(fig) -> list[AxesImage]:
    return [im for ax in fig.axes for im in ax.images]


# -- pure helpers ----------------------------------------------------------------------------------
def test_z_colour_image_brightness_follows_amplitude_and_hue_follows_z():
    amp = np.array([[0.0, 0.5, 1.0], [1.0, 1.0, 1.0]])
    z = np.array([[0.0, 0.0, 0.0], [-750.0, 750.0, np.nan]])
    rgb = tp.z_colour_image(amp, z)
    assert rgb.shape == (2, 3, 3) and rgb.min() >= 0 and rgb.max() <= 1
    assert np.all(rgb[0, 0] == 0)  # no amplitude: black
    np.testing.assert_allclose(rgb[0, 1], 0.5 * rgb[0, 2])  # brightness linear in amplitude (gamma 1)
    cmap = matplotlib.colormaps[tp.Z_CMAP]
    np.testing.assert_allclose(rgb[1, 0], cmap(0.0)[:3])  # z_min -> first colour
    np.testing.assert_allclose(rgb[1, 1], cmap(1.0)[:3])  # z_max -> last colour
    assert np.all(rgb[1, 2] == 0)  # undefined z: black


def test_z_colour_image_rejects_bad_input():
    with pytest.raises(ValueError, match="same shape|one shape"):
        tp.z_colour_image(np.ones((2, 2)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="NaN"):
        tp.z_colour_image(np.full((2, 2), np.nan), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="z_range_nm"):
        tp.z_colour_image(np.ones((2, 2)), np.zeros((2, 2)), z_range_nm=(1.0, -1.0))
    with pytest.raises(ValueError, match="gamma"):
        tp.z_colour_image(np.ones((2, 2)), np.zeros((2, 2)), gamma=0.0)


@settings(max_examples=25, deadline=None)
@given(z=st.floats(-740.0, 740.0), x=st.floats(200.0, 1400.0), y=st.floats(200.0, 1400.0))
def test_grid_z_recovers_the_encoded_depth_at_the_blob_peak(z, x, y):
    grid = encode(Emitters([0], [x], [y], [z], [1000.0]), 1, SPEC)[0].numpy()
    amplitude, z_map = tp.grid_z_nm(grid, FIELD)
    peak = np.unravel_index(np.argmax(amplitude), amplitude.shape)
    assert 0.6 < amplitude[peak] <= 1.0 + 1e-6  # a unit blob sampled within half a bin of its centre
    assert abs(z_map[peak] - z) < 1e-2  # phase -> z is exact for one blob (float32 grid)


def test_grid_z_rejects_grids_without_both_phase_channels():
    with pytest.raises(ValueError, match="channels"):
        tp.grid_z_nm(np.zeros((1, 4, 4)))
    with pytest.raises(ValueError, match="3-D"):
        tp.grid_z_nm(np.zeros((4, 4)))


def test_errors_by_z_gives_per_bin_rmse_bias_and_counts():
    truth = Emitters([0, 0, 0, 1], [100.0, 500.0, 900.0, 100.0], [100.0] * 4, [-500.0, -400.0, 300.0, 700.0],
                     [1.0] * 4)
    # errors: bin [-750, 0): dx = 3, 4 -> rmse_x 3.54, dz = +10, -10 -> rmse 10, bias 0;
    #         bin [0, 750]: dx = 0, dz = 20, 20 -> rmse 20, bias 20.
    pred = Emitters([0, 0, 0, 1], [103.0, 504.0, 900.0, 100.0], [100.0] * 4, [-490.0, -410.0, 320.0, 720.0],
                    [1.0] * 4)
    binned = tp.errors_by_z(truth, pred, match(truth, pred), [-750.0, 0.0, 750.0])
    np.testing.assert_allclose(binned["z_nm"], [-375.0, 375.0])
    np.testing.assert_allclose(binned["count"], [2, 2])
    np.testing.assert_allclose(binned["x_nm"], [np.sqrt((9 + 16) / 2), 0.0])
    np.testing.assert_allclose(binned["z_err_nm"], [10.0, 20.0])
    np.testing.assert_allclose(binned["bias_z_nm"], [0.0, 20.0])
    empty = tp.errors_by_z(truth, pred, match(truth, pred), [1000.0, 2000.0])
    assert empty["count"][0] == 0 and np.isnan(empty["x_nm"][0])


def test_errors_by_z_rejects_bad_edges_and_tables():
    truth = _truth()
    m = match(truth, truth)
    with pytest.raises(ValueError, match="increasing"):
        tp.errors_by_z(truth, truth, m, [0.0, 0.0])
    with pytest.raises(TypeError, match="Emitters"):
        tp.errors_by_z(truth.xyz_nm(), truth, m, [0.0, 1.0])
    with pytest.raises(TypeError, match="Matching"):
        tp.errors_by_z(truth, truth, None, [0.0, 1.0])


# -- chapter 4 figures -----------------------------------------------------------------------------
def test_target_channels_draws_frame_and_three_grid_panels_in_the_window():
    truth = _truth()
    grid = encode(truth, 1, SPEC)[0]
    fig = tp.target_channels(np.random.default_rng(0).random((16, 16)), grid, field=FIELD, truth=truth,
                             window_nm=(200, 1000, 200, 1000))
    images = _images(fig)
    assert len(images) == 4
    assert images[1].get_array().shape == (64, 64)  # the 4x grid
    assert fig.axes[0].get_xlim() == (200.0, 1000.0) and fig.axes[0].get_ylim() == (1000.0, 200.0)
    with pytest.raises(ValueError, match="3 channels"):
        tp.target_channels(np.zeros((16, 16)), np.zeros((2, 64, 64)), field=FIELD)
    with pytest.raises(ValueError, match="window_nm"):
        tp.target_channels(np.zeros((16, 16)), grid, field=FIELD, window_nm=(5, 1, 0, 1))


def test_prediction_vs_truth_marks_truth_and_predictions():
    truth = _truth()
    grid = encode(truth, 1, SPEC)[0].numpy()
    fig = tp.prediction_vs_truth(np.zeros((16, 16)), grid, grid, field=FIELD, truth=truth, pred=truth.take([0, 1]))
    offsets = [len(c.get_offsets()) for c in fig.axes[0].collections]
    assert offsets == [3, 2]
    with pytest.raises(ValueError, match="aspect"):
        tp.prediction_vs_truth(np.zeros((16, 16)), grid, grid[:, :32], field=FIELD)
    # a mixture head's picture on its coarser grid goes beside the 4x grid targets
    from structloc.mixture import MixtureSpec, ideal_output, phase_image

    mix = MixtureSpec(field=FIELD)
    picture = phase_image(ideal_output(truth, 1, mix), mix)[0].numpy()
    fig = tp.prediction_vs_truth(np.zeros((16, 16)), grid, picture, field=FIELD, truth=truth)
    assert fig.axes[2].images[0].get_array().shape[:2] == mix.shape


def _history(n: int, scale: float = 1.0) -> list[dict]:
    return [{"step": 10 * (k + 1), "frames_seen": 80 * (k + 1), "wall_s": 5.0 * (k + 1),
             "train_loss": scale / (k + 1), "val_loss": scale / (k + 2), "jaccard": 0.1 * k,
             "rmse_vol_nm": 100.0 / (k + 1)} for k in range(n)]


def test_training_curves_draw_training_and_validation_lines_per_run():
    fig = tp.training_curves({"quick (helix)": _history(5), "shipped helix": _history(3, 2.0)}, x="step")
    loss_ax, ji_ax, rmse_ax = fig.axes[:3]
    assert len(loss_ax.lines) == 4 and len(ji_ax.lines) == 2 and len(rmse_ax.lines) == 2
    np.testing.assert_allclose(ji_ax.lines[0].get_ydata(), [0.0, 0.1, 0.2, 0.3, 0.4])
    assert loss_ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="empty"):
        tp.training_curves({"run": []})
    with pytest.raises(ValueError, match="lack"):
        tp.training_curves({"run": [{"step": 1}]})
    with pytest.raises(TypeError, match="mapping"):
        tp.training_curves(_history(2))


# -- chapter 5 figures -----------------------------------------------------------------------------
def test_localizations_on_frame_one_panel_per_model():
    truth = _truth()
    fig = tp.localizations_on_frame(np.zeros((16, 16)), truth, {"helix": truth, "csr": truth.take([0])},
                                    field=FIELD)
    assert len(fig.axes) == 2
    assert [len(c.get_offsets()) for c in fig.axes[1].collections] == [3, 1]
    with pytest.raises(ValueError, match="empty"):
        tp.localizations_on_frame(np.zeros((16, 16)), truth, {}, field=FIELD)


def test_metric_bars_show_estimates_with_intervals():
    truth = _truth()
    shifted = Emitters(truth.frame, truth.x_nm + 10.0, truth.y_nm, truth.z_nm, truth.photons)
    ci = {"helix": bootstrap_ci(truth, truth, n_boot=20), "csr": bootstrap_ci(truth, shifted, n_boot=20)}
    fig = tp.metric_bars(ci, metrics=("jaccard", "rmse_lat_nm"))
    ji_ax, rmse_ax = fig.axes
    assert [p.get_height() for p in ji_ax.patches] == [1.0, 1.0]
    np.testing.assert_allclose([p.get_height() for p in rmse_ax.patches], [0.0, 10.0])
    with pytest.raises(ValueError, match="no row"):
        tp.metric_bars(ci, metrics=("speed",))


def test_rmse_vs_crlb_draws_bound_and_each_model():
    truth = _truth()
    binned = tp.errors_by_z(truth, truth, match(truth, truth), np.linspace(-750, 750, 4))
    z = np.linspace(-750, 750, 31)
    fig = tp.rmse_vs_crlb({"helix": binned, "csr": binned}, z, crlb_for_snr("high", z))
    assert len(fig.axes) == 3 and all(len(ax.lines) == 3 for ax in fig.axes)
    with pytest.raises(ValueError, match="lacks"):
        tp.rmse_vs_crlb({"helix": {"z_nm": z}}, z, crlb_for_snr("high", z))


def test_reconstructions_z_one_rgb_panel_per_label_and_a_z_colorbar():
    truth = _truth()
    rec = render_gaussian(truth, field=FIELD, pixel_nm=20.0)
    fig = tp.reconstructions_z({"truth": rec, "helix": rec}, window_nm=(0, 800, 0, 800))
    rgbs = _images(fig)
    assert len(rgbs) == 2 and rgbs[0].get_array().shape == (80, 80, 3)
    assert fig.axes[1].get_xlim() == (0.0, 800.0)
    assert any(ax.get_ylabel() == "z (nm)" for ax in fig.axes)
    with pytest.raises(ValueError, match="saturate_quantile"):
        tp.reconstructions_z({"truth": rec}, saturate_quantile=0.0)


def test_checkerboard_histograms_normalise_to_uniform_and_report_the_index():
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 6400, (2, 4000))
    uniform = Emitters(np.zeros(4000, int), xy[0], xy[1], np.zeros(4000), np.ones(4000))
    snapped = Emitters(uniform.frame, np.round(xy[0] / 25) * 25 + 12.5, xy[1], uniform.z_nm, uniform.photons)
    biases = {label: [subpixel_bias(t, period_nm=p) for p in (100.0, 25.0)]
              for label, t in (("truth", uniform), ("csr", snapped))}
    fig = tp.checkerboard_histograms(biases)
    assert len(fig.axes) == 2
    heights = fig.axes[0].patches[0].get_data()[0]  # truth, 100 nm: mean frequency is exactly 1
    assert heights.mean() == pytest.approx(1.0)
    legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert legend[0].startswith("truth: index") and legend[1].startswith("csr: index")
    with pytest.raises(ValueError, match="periods"):
        tp.checkerboard_histograms({"a": [subpixel_bias(uniform, period_nm=100.0)],
                                    "b": [subpixel_bias(uniform, period_nm=25.0)]})
