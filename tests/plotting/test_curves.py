"""Curve figures: PSF widths, drift, precision limits, training curves and errors vs the bound."""

import numpy as np
import pytest

from structloc import plotting
from structloc.crlb import crlb_for_snr
from structloc.emitters import Emitters
from structloc.evaluate import match

RNG = np.random.default_rng(7)


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


def _history(n: int, scale: float = 1.0) -> list[dict]:
    return [{"step": 10 * (k + 1), "frames_seen": 80 * (k + 1), "wall_s": 5.0 * (k + 1),
             "train_loss": scale / (k + 1), "val_loss": scale / (k + 2), "jaccard": 0.1 * k,
             "rmse_vol_nm": 100.0 / (k + 1)} for k in range(n)]


def test_training_curves_draw_training_and_validation_lines_per_run():
    fig = plotting.training_curves({"quick (helix)": _history(5), "shipped helix": _history(3, 2.0)}, x="step")
    loss_ax, ji_ax, rmse_ax = fig.axes[:3]
    assert len(loss_ax.lines) == 4 and len(ji_ax.lines) == 2 and len(rmse_ax.lines) == 2
    np.testing.assert_allclose(ji_ax.lines[0].get_ydata(), [0.0, 0.1, 0.2, 0.3, 0.4])
    assert loss_ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="empty"):
        plotting.training_curves({"run": []})
    with pytest.raises(ValueError, match="lack"):
        plotting.training_curves({"run": [{"step": 1}]})
    with pytest.raises(TypeError, match="mapping"):
        plotting.training_curves(_history(2))


def test_errors_by_z_gives_per_bin_rmse_bias_and_counts():
    truth = Emitters([0, 0, 0, 1], [100.0, 500.0, 900.0, 100.0], [100.0] * 4, [-500.0, -400.0, 300.0, 700.0],
                     [1.0] * 4)
    # errors: bin [-750, 0): dx = 3, 4 -> rmse_x 3.54, dz = +10, -10 -> rmse 10, bias 0;
    #         bin [0, 750]: dx = 0, dz = 20, 20 -> rmse 20, bias 20.
    pred = Emitters([0, 0, 0, 1], [103.0, 504.0, 900.0, 100.0], [100.0] * 4, [-490.0, -410.0, 320.0, 720.0],
                    [1.0] * 4)
    binned = plotting.errors_by_z(truth, pred, match(truth, pred), [-750.0, 0.0, 750.0])
    np.testing.assert_allclose(binned["z_nm"], [-375.0, 375.0])
    np.testing.assert_allclose(binned["count"], [2, 2])
    np.testing.assert_allclose(binned["x_nm"], [np.sqrt((9 + 16) / 2), 0.0])
    np.testing.assert_allclose(binned["z_err_nm"], [10.0, 20.0])
    np.testing.assert_allclose(binned["bias_z_nm"], [0.0, 20.0])
    empty = plotting.errors_by_z(truth, pred, match(truth, pred), [1000.0, 2000.0])
    assert empty["count"][0] == 0 and np.isnan(empty["x_nm"][0])


def test_errors_by_z_rejects_bad_edges_and_tables(three_emitters):
    truth = three_emitters
    m = match(truth, truth)
    with pytest.raises(ValueError, match="increasing"):
        plotting.errors_by_z(truth, truth, m, [0.0, 0.0])
    with pytest.raises(TypeError, match="Emitters"):
        plotting.errors_by_z(truth.xyz_nm(), truth, m, [0.0, 1.0])
    with pytest.raises(TypeError, match="Matching"):
        plotting.errors_by_z(truth, truth, None, [0.0, 1.0])


def test_rmse_vs_crlb_draws_bound_and_each_model(three_emitters):
    truth = three_emitters
    binned = plotting.errors_by_z(truth, truth, match(truth, truth), np.linspace(-750, 750, 4))
    z = np.linspace(-750, 750, 31)
    fig = plotting.rmse_vs_crlb({"helix": binned, "csr": binned}, z, crlb_for_snr("high", z))
    assert len(fig.axes) == 3 and all(len(ax.lines) == 3 for ax in fig.axes)
    with pytest.raises(ValueError, match="lacks"):
        plotting.rmse_vs_crlb({"helix": {"z_nm": z}}, z, crlb_for_snr("high", z))


def test_error_vs_bound_draws_one_bar_per_model_and_group_and_refuses_mismatched_groups():
    x = np.arange(6) * 3000.0
    truth = Emitters(frame=np.zeros(6, np.int64), x_nm=x, y_nm=x * 0, z_nm=x * 0, photons=x * 0 + 1000)
    pred = Emitters(frame=np.zeros(6, np.int64), x_nm=x + 20.0, y_nm=x * 0, z_nm=x * 0, photons=x * 0 + 1000)
    bound = np.array([10.0, 10.0, 15.0, 30.0, 80.0, np.inf])
    from structloc.evaluate import bound_profile

    table = bound_profile(truth, pred, bound, np.full(6, 10.0))
    fig = plotting.error_vs_bound({"helix": table, "csr": table})
    left, right = fig.axes[:2]
    assert len(left.patches) == len(right.patches) == 2 * len(table)
    assert [p.get_height() for p in left.patches[:len(table)]] == pytest.approx([20.0] * len(table))
    np.testing.assert_allclose(right.patches[0].get_height(), 2.0)  # 20 nm error, 10 nm bound
    other = bound_profile(truth, pred, bound, np.full(6, 10.0), edges=(1.0, 2.0, np.inf))
    with pytest.raises(ValueError, match="same crowding groups"):
        plotting.error_vs_bound({"helix": table, "csr": other})
    with pytest.raises(ValueError, match="lacks"):
        plotting.error_vs_bound({"helix": table.drop(columns="share")})
