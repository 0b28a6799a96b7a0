"""What every figure shares: colours by label and by z, and the input checks."""

import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from structloc import plotting


def test_z_colour_image_brightness_follows_amplitude_and_hue_follows_z():
    amp = np.array([[0.0, 0.5, 1.0], [1.0, 1.0, 1.0]])
    z = np.array([[0.0, 0.0, 0.0], [-750.0, 750.0, np.nan]])
    rgb = plotting.z_colour_image(amp, z)
    assert rgb.shape == (2, 3, 3) and rgb.min() >= 0 and rgb.max() <= 1
    assert np.all(rgb[0, 0] == 0)  # no amplitude: black
    np.testing.assert_allclose(rgb[0, 1], 0.5 * rgb[0, 2])  # brightness linear in amplitude (gamma 1)
    cmap = matplotlib.colormaps[plotting.Z_CMAP]
    np.testing.assert_allclose(rgb[1, 0], cmap(0.0)[:3])  # z_min -> first colour
    np.testing.assert_allclose(rgb[1, 1], cmap(1.0)[:3])  # z_max -> last colour
    assert np.all(rgb[1, 2] == 0)  # undefined z: black


def test_z_colour_image_rejects_bad_input():
    with pytest.raises(ValueError, match="same shape|one shape"):
        plotting.z_colour_image(np.ones((2, 2)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="NaN"):
        plotting.z_colour_image(np.full((2, 2), np.nan), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="z_range_nm"):
        plotting.z_colour_image(np.ones((2, 2)), np.zeros((2, 2)), z_range_nm=(1.0, -1.0))
    with pytest.raises(ValueError, match="gamma"):
        plotting.z_colour_image(np.ones((2, 2)), np.zeros((2, 2)), gamma=0.0)


def test_label_colour_takes_the_palette_entry_else_the_cycle_in_turn():
    assert plotting.label_colour("CSR", 5) == plotting.PALETTE["csr"]
    assert plotting.label_colour("helix", 0) == plotting.PALETTE["structure"]
    assert plotting.label_colour("low", 0) == plotting.PALETTE["low"]
    assert [plotting.label_colour(f"helix {k}", k) for k in range(3)] == list(plotting.COLOURS[:3])
    assert plotting.label_colour("other", len(plotting.COLOURS)) == plotting.COLOURS[0]


def test_training_regime_reads_the_regime_out_of_a_model_label():
    assert plotting.training_regime("shipped helix_high") == "helix"
    assert plotting.training_regime("structure-trained") == "structure"
    assert plotting.training_regime("csr model") == "csr"
    assert plotting.training_regime("ground truth") == "truth"
    assert plotting.training_regime("this run") == "this run"
    assert plotting.label_colour(plotting.training_regime("truth (high SNR)"), 0) == "#333333"


def test_figures_check_their_labelled_inputs_one_way():
    with pytest.raises(TypeError, match="mapping"):
        plotting.curves(np.arange(3.0), [np.arange(3.0)], xlabel="x", ylabel="y")
    with pytest.raises(ValueError, match="ys is empty"):
        plotting.curves(np.arange(3.0), {}, xlabel="x", ylabel="y")
    with pytest.raises(TypeError, match="mapping"):
        plotting.recall_by_depth([])


def test_figures_import_no_study_or_training_code():
    code = "import sys, structloc.plotting; print(sorted(m for m in sys.modules if m.startswith('structloc.')))"
    here = str(Path(plotting.__file__).parents[2])  # the checkout under test, not an installed copy
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=here).stdout
    assert "structloc.study" not in loaded and "structloc.train" not in loaded and "structloc.plotting.curves" in loaded
