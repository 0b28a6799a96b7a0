"""The verdict in words: every number in the headline and paragraphs comes from the claims."""

import numpy as np
import pandas as pd
import pytest

from structloc.study import headline, significant_points, summarize_claims, verdict_paragraphs


@pytest.fixture()
def with_intervals(synthetic_results):
    """The synthetic table with recall and paired JI intervals: at high SNR the helix interval is
    above zero at two densities; at low SNR below zero at one."""
    df = synthetic_results.copy()
    helix = df["approach"] == "helix"
    df["recall"] = np.where(helix, 0.8, 0.6)
    df["jaccard_diff_ci_low"] = np.nan
    df["jaccard_diff_ci_high"] = np.nan
    intervals = {("high", "0.5"): (0.01, 0.2), ("high", "5"): (0.02, 0.3), ("high", "50"): (-0.1, 0.1),
                 ("low", "0.5"): (-0.3, -0.01), ("low", "5"): (-0.1, 0.1), ("low", "50"): (-0.2, 0.2)}
    for (snr, test_set), (lo, hi) in intervals.items():
        row = helix & (df["snr"] == snr) & (df["test_set"] == test_set)
        df.loc[row, ["jaccard_diff_ci_low", "jaccard_diff_ci_high"]] = lo, hi
    return df


def test_significant_points_counts_each_way_and_skips_challenge_sets(with_intervals):
    with_intervals.loc[with_intervals["test_set"] == "LD", ["jaccard_diff_ci_low", "jaccard_diff_ci_high"]] = 1, 2
    counts = significant_points(with_intervals)
    assert counts.loc["high"].tolist() == [2, 0, 3] and counts.loc["low"].tolist() == [0, 1, 3]


def test_headline_quotes_gain_and_claims_won(synthetic_results):
    text = headline(summarize_claims(synthetic_results))
    # JI 0.45 -> 0.6 averaged over densities: +33.3 %; helix is better on all 8 verdict claims
    # (JI, RMSE_vol in % and nm, efficiency, axial RMSE, lowest density, trend, checkerboard)
    assert text == ("high SNR: JI +33.3 %, helix better on 8 of 8 claims; "
                    "low SNR: JI +33.3 %, helix better on 8 of 8 claims")


def test_paragraphs_quote_the_measured_values(with_intervals):
    claims = summarize_claims(with_intervals)
    lines = verdict_paragraphs(claims, with_intervals)
    assert len(lines) == 4  # no depth split given: no deep-emitter paragraph
    first = lines[0]
    assert "by +33.3 %, +33.3 % (high, low SNR; the paper: +20, +2.2 %)" in first
    assert "the volumetric RMSE by +22.0 nm, +22.0 nm" in first
    assert "helix's favour at 2, 0 and in csr's favour at 0, 1 of the 3 densities" in first
    assert "Mean recall: helix 0.80, 0.80, csr 0.60, 0.60." in first
    assert "changes by +0.050, +0.050 per decade" in lines[1]
    assert "csr 10.00, 10.00 and helix 1.00, 1.00" in lines[3]


def test_deep_emitter_paragraph_takes_the_deepest_bin(with_intervals):
    gap = pd.DataFrame({"snr": ["high", "high", "low"], "recall_helix": [0.25, 0.9, 0.5],
                        "recall_csr": [0.75, 0.95, 0.6]})
    lines = verdict_paragraphs(summarize_claims(with_intervals), with_intervals, gap)
    assert lines[-1].startswith("**Deep emitters**") and "find 25%, 50% of the emitters and CSR models 75%, 60%" in lines[-1]
