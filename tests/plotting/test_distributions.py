"""Histogram figures: distances and positions modulo a pixel or grid period."""

import numpy as np
import pytest

from structloc import Emitters, plotting
from structloc.render import subpixel_bias

RNG = np.random.default_rng(7)


def test_distributions_marks_the_means():
    a, b = RNG.exponential(300, 400), RNG.exponential(100, 400)
    fig = plotting.distributions({"csr": a, "structure": b})
    ax = fig.axes[0]
    means = sorted(line.get_xdata()[0] for line in ax.get_lines())
    np.testing.assert_allclose(means, sorted([b.mean(), a.mean()]))
    assert "mean" in ax.get_legend().get_texts()[0].get_text()


def test_checkerboard_histograms_normalise_to_uniform_and_report_the_index():
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 6400, (2, 4000))
    uniform = Emitters(np.zeros(4000, int), xy[0], xy[1], np.zeros(4000), np.ones(4000))
    snapped = Emitters(uniform.frame, np.round(xy[0] / 25) * 25 + 12.5, xy[1], uniform.z_nm, uniform.photons)
    biases = {label: [subpixel_bias(t, period_nm=p) for p in (100.0, 25.0)]
              for label, t in (("truth", uniform), ("csr", snapped))}
    fig = plotting.checkerboard_histograms(biases)
    assert len(fig.axes) == 2
    heights = fig.axes[0].patches[0].get_data()[0]  # truth, 100 nm: mean frequency is exactly 1
    assert heights.mean() == pytest.approx(1.0)
    legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert legend[0].startswith("truth: index") and legend[1].startswith("csr: index")
    with pytest.raises(ValueError, match="periods"):
        plotting.checkerboard_histograms({"a": [subpixel_bias(uniform, period_nm=100.0)],
                                    "b": [subpixel_bias(uniform, period_nm=25.0)]})


def test_subpixel_histograms_show_the_bias(random_locs):
    fig = plotting.subpixel_histograms({"csr": random_locs(snap=True), "helix": random_locs()})
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert any(label.startswith("csr") for label in labels)
    snapped = fig.axes[0].get_lines()[0].get_ydata()
    assert snapped.max() > 5  # everything in one bin out of 20
    with pytest.raises(ValueError, match="locs is empty"):
        plotting.subpixel_histograms({})
