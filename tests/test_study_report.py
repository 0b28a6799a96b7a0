"""The verdict table and headline: computed from summarize_claims, relative claims vs relative paper values."""

from __future__ import annotations

import pandas as pd

from structloc.study_report import headline, verdict_table


def _claims(ji_gain: float, trend: float) -> pd.DataFrame:
    rows = []
    for snr, paper in (("high", 20.0), ("low", 2.2)):
        rows += [
            {"claim": "jaccard_gain_percent", "snr": snr, "csr": 0.6, "helix": 0.5, "difference": -0.1,
             "measured": ji_gain, "paper": paper, "agrees": ji_gain > 0},
            {"claim": "jaccard_gain_points", "snr": snr, "csr": 0.6, "helix": 0.5, "difference": -0.1,
             "measured": -10.0, "paper": paper, "agrees": False},
            {"claim": "rmse_vol_decrease_nm", "snr": snr, "csr": 100.0, "helix": 110.0, "difference": -10.0,
             "measured": -10.0, "paper": float("nan"), "agrees": False},
            {"claim": "jaccard_gain_trend_per_decade", "snr": snr, "csr": float("nan"), "helix": float("nan"),
             "difference": trend, "measured": trend, "paper": float("nan"), "agrees": trend > 0},
        ]
    return pd.DataFrame(rows)


def test_relative_gain_is_compared_with_the_relative_paper_value_only():
    table = verdict_table(_claims(-16.2, 0.04))
    assert list(table.columns) == ["high SNR", "low SNR"]
    assert table.loc["Jaccard index, helix vs csr", "high SNR"] == "-16.2 % (paper +20.0 %): fails"
    assert not any("points" in label for label in table.index)  # +20 % is not +20 points


def test_a_rising_trend_under_a_deficit_is_not_called_helix_better():
    table = verdict_table(_claims(-16.2, 0.04))
    assert table.loc["JI difference, change per decade of density", "low SNR"] == "+0.040: deficit narrows"
    assert verdict_table(_claims(5.0, 0.04)).loc["JI difference, change per decade of density",
                                                 "high SNR"] == "+0.040: advantage grows"


def test_headline_follows_the_numbers():
    assert headline(_claims(-16.2, 0.04)).startswith("Helix training does **not** beat CSR training here")
    assert "-16.2 / -16.2 %" in headline(_claims(-16.2, 0.04))
    assert headline(_claims(3.0, 0.04)).startswith("Helix training beats CSR training here")
