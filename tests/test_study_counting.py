"""count_calibration: the network's expected count and the localizations on the study's own frames."""

import numpy as np
import pytest
import torch

from structloc.localize import Localizer
from structloc.pretrained import checkpoint_path
from structloc.study import count_calibration, simulate_test_set


@pytest.fixture(scope="module")
def table():
    torch.set_num_threads(1)
    return count_calibration(("high",), (0.38, "LD"), n_frames=4, seed=3)


def test_rows_cover_every_model_and_test_set(table):
    assert len(table) == 4 and set(table.approach) == {"csr", "helix"} and set(table.test_set) == {"0.38", "LD"}
    np.testing.assert_allclose(table.pred_per_truth, table.n_pred / table.n_truth)
    np.testing.assert_allclose(table.expected_per_truth, table.expected / table.n_truth)


def test_counts_come_from_the_studys_frames_and_the_models(table):
    loc = Localizer.from_checkpoint(checkpoint_path("helix_high"), device="cpu")
    test = simulate_test_set("high", 0.38, n_frames=4, seed=3, field=loc.spec.field, psf=loc.config.psf,
                             camera=loc.camera)
    row = table[(table.approach == "helix") & (table.test_set == "0.38")].iloc[0]
    assert row.n_truth == len(test.truth) > 0
    assert row.expected == pytest.approx(loc.expected_counts(test.frames).sum())
    assert row.n_pred == len(loc(test.frames))
    # both samplers' models were trained on the same PSF and camera: the same frames
    assert table.groupby("test_set").n_truth.nunique().eq(1).all()


def test_count_paragraph_quotes_the_table():
    import pandas as pd

    from structloc.study import count_paragraph

    counts = pd.DataFrame({"snr": ["high", "high", "low", "low"], "test_set": ["13"] * 4,
                           "approach": ["csr", "helix"] * 2, "expected_per_truth": [1.24, 0.82, 0.95, 0.70]})
    text = count_paragraph(counts, "13")
    assert "CSR models expect 1.24 / 0.95" in text and "helix models 0.82 / 0.70 (high / low SNR)" in text
    assert "At high SNR the CSR network counts more" in text
    assert "The helix model at low SNR expects only 0.70" in text and "csr model" not in text
    counts["expected_per_truth"] = [0.9, 0.9, 0.9, 0.9]
    assert "No CSR model over-counts there." in count_paragraph(counts, "13")
