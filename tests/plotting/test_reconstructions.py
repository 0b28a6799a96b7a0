"""Reconstruction figures: 3D point clouds and z-coloured super-resolution images."""

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.image import AxesImage

from structloc import plotting
from structloc.field import Field
from structloc.render import render_gaussian

RNG = np.random.default_rng(7)
FIELD = Field(width_px=16, height_px=16)


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


def _images(fig) -> list[AxesImage]:
    return [im for ax in fig.axes for im in ax.images]


def test_reconstructions_z_one_rgb_panel_per_label_and_a_z_colorbar(three_emitters):
    truth = three_emitters
    rec = render_gaussian(truth, field=FIELD, pixel_nm=20.0)
    fig = plotting.reconstructions_z({"truth": rec, "helix": rec}, window_nm=(0, 800, 0, 800))
    rgbs = _images(fig)
    assert len(rgbs) == 2 and rgbs[0].get_array().shape == (80, 80, 3)
    assert fig.axes[1].get_xlim() == (0.0, 800.0)
    assert any(ax.get_ylabel() == "z (nm)" for ax in fig.axes)
    with pytest.raises(ValueError, match="saturate_quantile"):
        plotting.reconstructions_z({"truth": rec}, saturate_quantile=0.0)


def test_reconstruction_grid_rows_and_columns(random_locs):
    locs = {(row, snr): random_locs(seed=k) for k, (row, snr) in
            enumerate([(r, s) for r in ("truth", "csr", "helix") for s in ("high", "low")])}
    fig = plotting.reconstruction_grid(locs)
    images = [ax for ax in fig.axes if ax.get_images()]
    assert len(images) == 6
    rgb = images[0].get_images()[0].get_array()
    assert rgb.shape == (640, 640, 3) and np.nanmax(rgb) <= 1.0 and np.nanmax(rgb) > 0
    assert images[0].get_ylabel() == "ground truth" and images[0].get_title() == "high SNR"
    with pytest.raises(ValueError, match="no localizations"):
        plotting.reconstruction_grid(locs, snrs=["medium"])
    with pytest.raises(ValueError, match="locs is empty"):
        plotting.reconstruction_grid({})
