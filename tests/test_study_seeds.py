"""Training-seed spread of the helix - csr difference: known answers and refusals."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from structloc.study import SPREAD_COLUMNS, seed_paragraph, seed_spread


def _table(ji: dict[tuple[str, int], float], test_sets=("0.38", "13")) -> pd.DataFrame:
    """A study table at high SNR: JI per (approach, training seed), the same at every test set; the
    paired difference (helix - csr) and a bootstrap interval of +-0.03 sit on both rows."""
    rows = []
    for test_set in test_sets:
        for (approach, seed), value in ji.items():
            diff = ji[("helix", seed)] - ji[("csr", seed)]
            rmse = 40.0 if approach == "helix" else 50.0 + seed
            rows.append({"approach": approach, "snr": "high", "test_set": test_set,
                         "nominal_target": float(test_set) if test_set[0].isdigit() else np.nan, "training_seed": seed, "jaccard": value,
                         "jaccard_diff": diff, "jaccard_diff_ci_low": diff - 0.03,
                         "jaccard_diff_ci_high": diff + 0.03, "rmse_vol_nm": rmse,
                         "rmse_vol_diff_nm": -10.0 - seed, "rmse_vol_diff_ci_low": -12.0 - seed,
                         "rmse_vol_diff_ci_high": -8.0 - seed})
    return pd.DataFrame(rows)


JI = {("csr", 0): 0.60, ("helix", 0): 0.70, ("csr", 1): 0.62, ("helix", 1): 0.64,
      ("csr", 2): 0.64, ("helix", 2): 0.63}  # differences +0.10, +0.02, -0.01


def test_seed_spread_known_answers():
    spread = seed_spread(_table(JI))
    assert list(spread.columns) == list(SPREAD_COLUMNS)
    assert spread["test_set"].tolist() == ["0.38", "13"]
    row = spread.iloc[0]
    diffs = np.array([0.10, 0.02, -0.01])
    assert row["n_seeds"] == 3
    assert row["mean_diff"] == pytest.approx(diffs.mean())
    assert row["sd_diff"] == pytest.approx(diffs.std(ddof=1))
    assert (row["min_diff"], row["max_diff"]) == pytest.approx((-0.01, 0.10))
    half = stats.t.ppf(0.975, 2) * diffs.std(ddof=1) / np.sqrt(3)
    assert (row["seed_ci_low"], row["seed_ci_high"]) == pytest.approx((diffs.mean() - half, diffs.mean() + half))
    # helix higher in seeds 0 and 1; interval +-0.03 excludes zero only for +0.10
    assert (row["helix_better"], row["helix_significant"], row["csr_significant"]) == (2, 1, 0)
    assert row["test_half_width"] == pytest.approx(0.03)
    assert row["sd_csr"] == pytest.approx(0.02) and row["sd_helix"] == pytest.approx(np.std([0.70, 0.64, 0.63], ddof=1))


def test_seed_spread_rmse_counts_lower_as_better():
    spread = seed_spread(_table(JI), metric="rmse_vol_nm").iloc[0]
    assert spread["mean_diff"] == pytest.approx(-11.0) and spread["sd_diff"] == pytest.approx(1.0)
    assert (spread["helix_better"], spread["helix_significant"], spread["csr_significant"]) == (3, 3, 0)
    assert spread["sd_helix"] == 0.0 and spread["sd_csr"] == pytest.approx(1.0)


def test_identical_seeds_have_no_spread():
    same = {(a, s): (0.7 if a == "helix" else 0.6) for a in ("csr", "helix") for s in (0, 1)}
    row = seed_spread(_table(same)).iloc[0]
    assert row["sd_diff"] == 0.0 and row["seed_ci_low"] == pytest.approx(0.1) == row["seed_ci_high"]


def test_empty_table_gives_no_rows():
    assert seed_spread(_table(JI).iloc[:0]).empty


def test_one_seed_is_refused():
    one = {k: v for k, v in JI.items() if k[1] == 0}
    with pytest.raises(ValueError, match="at least two training seeds"):
        seed_spread(_table(one))


def test_unpaired_seed_is_refused():
    table = _table(JI)
    table = table[~((table["approach"] == "csr") & (table["training_seed"] == 2))]
    with pytest.raises(ValueError, match="no csr row"):
        seed_spread(table)


def test_unknown_metric_is_refused():
    with pytest.raises(ValueError, match="metric must be one of"):
        seed_spread(_table(JI), metric="recall")


def test_seed_paragraph_quotes_the_spread():
    table = _table(JI, test_sets=("0.38", "13", "LD"))
    text = seed_paragraph(seed_spread(table))
    assert text.startswith("At high SNR, with 3 training seeds per sampler, helix training gives the higher "
                           "JI in every seed at 0 of 2 nominal densities. ")
    assert "runs from +0.037 to +0.037" in text
    assert f"standard deviation of {np.std([0.10, 0.02, -0.01], ddof=1):.3f} (median" in text
    assert "test-frame 95 % half-width of 0.030" in text
    assert "excludes zero at 0 of 2 densities in helix's favour and at 0 in csr's" in text


def test_seed_paragraph_counts_densities_won_in_every_seed():
    better = {k: v + (0.05 if k[0] == "helix" and k[1] == 2 else 0.0) for k, v in JI.items()}
    text = seed_paragraph(seed_spread(_table(better)))
    assert "in every seed at 2 of 2 nominal densities" in text
