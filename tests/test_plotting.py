"""Smoke tests: every book figure helper builds with Agg and draws what it promises."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402

from structloc import plotting  # noqa: E402

RNG = np.random.default_rng(7)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_point_clouds_one_panel_per_group_with_every_point():
    clouds = {"csr": RNG.uniform(0, 6400, (120, 3)), "structure": RNG.uniform(0, 6400, (40, 3))}
    fig = plotting.point_clouds_3d(clouds, panels=[["csr"], ["structure"]], ncols=2)
    axes = [ax for ax in fig.axes if ax.name == "3d"]
    assert len(axes) == 2
    counts = [sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection)) for ax in axes]
    assert counts == [120, 40]
    assert axes[1].get_legend().get_texts()[0].get_text() == "structure (40)"


def test_point_clouds_equal_aspect_follows_the_data_spans():
    helix = np.stack([np.linspace(0, 4000, 200), np.zeros(200), np.linspace(-200, 200, 200)], axis=1)
    fig = plotting.point_clouds_3d({"structure": helix}, equal_aspect=True, legend=False)
    ax = fig.axes[0]
    aspect = np.asarray(ax.get_box_aspect(), dtype=float)
    assert aspect[0] / aspect[2] == pytest.approx(4000 / 400, rel=1e-6)
    assert ax.get_legend() is None


def test_point_clouds_rejects_bad_shapes_and_labels():
    with pytest.raises(ValueError, match="shape"):
        plotting.point_clouds_3d({"a": np.zeros((5, 2))})
    with pytest.raises(ValueError, match="NaN"):
        plotting.point_clouds_3d({"a": np.full((2, 3), np.nan)})
    with pytest.raises(ValueError, match="not one of"):
        plotting.point_clouds_3d({"a": np.zeros((5, 3))}, panels=[["b"]])
    with pytest.raises(ValueError, match="empty"):
        plotting.point_clouds_3d({})


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
    torch = pytest.importorskip("torch")
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


def test_sigma_curves_and_crlb_curves_draw_one_line_per_series():
    z = np.linspace(-750, 750, 31)
    fig = plotting.sigma_z_curves(z, z * 0 + 150, z * 0 + 160, measured_z_nm=z, measured_x_nm=z * 0 + 150,
                                  measured_y_nm=z * 0 + 160)
    assert len(fig.axes[0].get_lines()) == 4
    bounds = {"high": (z * 0 + 3, z * 0 + 3, z * 0 + 8), "low": (z * 0 + 20, z * 0 + 20, z * 0 + 50)}
    fig = plotting.crlb_curves(z, bounds)
    panels = [ax for ax in fig.axes if ax.get_lines()]
    assert len(panels) == 3
    assert all(len(ax.get_lines()) == 2 for ax in panels)
    np.testing.assert_allclose(panels[2].get_lines()[1].get_ydata(), 50)
    with pytest.raises(ValueError, match="curves"):
        plotting.crlb_curves(z, {"high": (z, z)})


def test_centre_drift_draws_every_bead_offset_and_the_curve_per_axis():
    z = np.linspace(-750, 750, 31)
    ox, oy = RNG.normal(15, 3, (31, 6)), RNG.normal(-60, 3, (31, 6))
    knots = np.array([-750.0, 0.0, 750.0])
    fig = plotting.centre_drift(z, ox, oy, knots, [10.0, 20.0, 15.0], [-50.0, -70.0, -60.0],
                                curve_err_x_nm=[1.0, 1.0, 1.0], curve_err_y_nm=[2.0, 2.0, 2.0])
    assert len(fig.axes) == 2
    for ax, offsets, curve in zip(fig.axes, (ox, oy), ([10.0, 20.0, 15.0], [-50.0, -70.0, -60.0])):
        dots, line = ax.get_lines()
        np.testing.assert_allclose(dots.get_ydata(), offsets.ravel())
        np.testing.assert_allclose(line.get_ydata(), curve)
        assert len(ax.collections) == 1  # the error band


def test_distributions_marks_the_means():
    a, b = RNG.exponential(300, 400), RNG.exponential(100, 400)
    fig = plotting.distributions({"csr": a, "structure": b})
    ax = fig.axes[0]
    means = sorted(line.get_xdata()[0] for line in ax.get_lines())
    np.testing.assert_allclose(means, sorted([b.mean(), a.mean()]))
    assert "mean" in ax.get_legend().get_texts()[0].get_text()


def test_curves_with_reference_and_markers():
    x = np.linspace(0.1, 10, 20)
    fig = plotting.curves(x, {"csr": x ** -0.5}, xlabel="d", ylabel="nn", reference=(x, x, "ref"),
                          markers={"LD": (1.0, 2.0)}, logx=True)
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 3
    assert ax.get_xscale() == "log"
    fig = plotting.curves(x, {"emccd": 2 * x}, xlabel="x", ylabel="y", points={"emccd": (x[::4], 2 * x[::4])})
    curve, dots = fig.axes[0].get_lines()
    assert dots.get_color() == curve.get_color() and dots.get_linestyle() == "None"
    np.testing.assert_allclose(dots.get_xdata(), x[::4])
    with pytest.raises(ValueError, match="shape"):
        plotting.curves(x, {"bad": x[:3]}, xlabel="x", ylabel="y")
    with pytest.raises(TypeError, match="mapping"):
        plotting.curves(x, [x], xlabel="x", ylabel="y")
