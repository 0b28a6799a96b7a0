"""The study's claims: comparisons from a results table, the verdict table, the depth split of recall."""

import numpy as np
import pandas as pd
import pytest

from structloc import Emitters
from structloc.evaluate import evaluate
from structloc.study import (claims_agreeing, describe_claims, pooled_checkerboard, recall_gap_by_depth,
                             summarize_claims, verdict_table)


def test_summarize_claims_known_answers(synthetic_results):
    claims = summarize_claims(synthetic_results).set_index(["claim", "snr"])
    # mean JI over densities: csr 0.45, helix 0.6 -> +33.3 %
    assert claims.loc[("jaccard_gain_percent", "high"), "measured"] == pytest.approx(100 * 0.15 / 0.45)
    assert claims.loc[("jaccard_gain_percent", "high"), "paper"] == 20.0
    assert claims.loc[("rmse_vol_decrease_nm", "low"), "measured"] == pytest.approx(22.0)
    assert claims.loc[("rmse_vol_decrease_nm", "low"), "paper"] == 31.0
    assert claims.loc[("rmse_vol_decrease_percent", "high"), "measured"] == pytest.approx(100 * 22 / 72)
    assert claims.loc[("rmse_ax_decrease_nm", "high"), "measured"] == pytest.approx(20.0)
    assert claims.loc[("efficiency_3d_gain_percent", "low"), "measured"] == pytest.approx(20.0)
    assert claims.loc[("efficiency_3d_gain_points", "low"), "measured"] == pytest.approx(10.0)
    assert claims.loc[("jaccard_gain_points", "high"), "measured"] == pytest.approx(15.0)
    assert claims.loc[("jaccard_gain_trend_per_decade", "high"), "measured"] == pytest.approx(0.05)
    assert claims.loc[("isolated_jaccard_gain_percent", "high"), "measured"] == pytest.approx(20.0)
    # pooled checkerboard: LD row of helix counts too (chi2 19 per 19 dof) -> helix 1, csr 10
    assert claims.loc[("checkerboard_pixel", "high"), "csr"] == pytest.approx(10.0)
    assert claims.loc[("checkerboard_pixel", "high"), "helix"] == pytest.approx(1.0)
    assert claims["agrees"].loc[["jaccard_gain_percent", "rmse_vol_decrease_nm"]].all()
    assert not claims.loc[("checkerboard_25nm", "high"), "agrees"]  # no difference

def test_describe_claims_quotes_the_computed_numbers(synthetic_results):
    lines = describe_claims(summarize_claims(synthetic_results))
    assert any("high SNR | Jaccard index" in line and "+33.3 %" in line and "paper +20.0 %" in line for line in lines)
    assert any("checkerboard chi2/dof mod 100 nm: csr 10.00, helix 1.00" in line for line in lines)

def test_summarize_counts_significant_points(synthetic_results):
    df = synthetic_results.assign(jaccard_diff_ci_low=[0.01, 0.01, -0.1, -0.1, -0.2, -0.2, np.nan] * 2,
                             jaccard_diff_ci_high=[0.1, 0.1, 0.1, 0.1, -0.1, -0.1, np.nan] * 2)
    claims = summarize_claims(df).set_index(["claim", "snr"])
    row = claims.loc[("jaccard_points_helix_better", "high")]
    assert (row["helix"], row["csr"], row["measured"]) == (1, 1, 0)

def test_summarize_claims_sign_follows_the_data(synthetic_results):
    df = synthetic_results
    worse = df.assign(jaccard=np.where(df.approach == "helix", 0.3, 0.5))
    claims = summarize_claims(worse).set_index(["claim", "snr"])
    assert claims.loc[("jaccard_gain_percent", "low"), "measured"] == pytest.approx(-40.0)
    assert claims.loc[("jaccard_gain_percent", "low"), "agrees"] == False  # noqa: E712 - numpy bool

def test_summarize_claims_needs_both_approaches_and_columns(synthetic_results):
    df = synthetic_results
    with pytest.raises(ValueError, match="both approaches"):
        summarize_claims(df[df.approach == "csr"])
    with pytest.raises(ValueError, match="jaccard"):
        summarize_claims(df.drop(columns="jaccard"))

def test_pooled_checkerboard_standard_error(synthetic_results):
    pooled = pooled_checkerboard(synthetic_results, "pixel").set_index(["approach", "snr"])
    assert pooled.loc[("csr", "high"), "dof"] == 3 * 19
    assert pooled.loc[("helix", "high"), "dof"] == 4 * 19
    assert pooled.loc[("helix", "high"), "se_no_bias"] == pytest.approx(np.sqrt(2 / 76))
    with pytest.raises(ValueError, match="period"):
        pooled_checkerboard(synthetic_results, "10nm")

def test_recall_gap_by_depth_adds_up_to_the_overall_recall_difference(synthetic_results):
    rng = np.random.default_rng(2)
    n = 500
    truth = Emitters(rng.integers(0, 40, n), rng.uniform(0, 6400, n), rng.uniform(0, 6400, n),
                     rng.uniform(-750, 750, n), np.full(n, 5000.0))
    kept = rng.random(n) < 0.9
    csr = truth.take(np.flatnonzero(kept))  # misses 10 % at every depth
    helix = truth.take(np.flatnonzero(kept & (truth.z_nm > -500)))  # the same, and blind below -500 nm
    gap = recall_gap_by_depth({("truth", "low"): truth, ("csr", "low"): csr, ("helix", "low"): helix,
                               ("csr", "high"): csr})  # high lacks truth and helix: skipped
    assert gap.snr.unique().tolist() == ["low"] and len(gap) == 6
    overall = evaluate(truth, csr).recall - evaluate(truth, helix).recall
    assert gap.gap_contribution.sum() == pytest.approx(overall)
    assert gap.share.sum() == pytest.approx(1.0)
    deepest = gap.iloc[0]
    assert deepest.recall_helix == 0.0 and deepest.gap_contribution == pytest.approx(deepest.share * deepest.recall_csr)
    assert np.allclose(gap.gap_contribution.iloc[1:], 0.0)
    with pytest.raises(ValueError, match="no SNR"):
        recall_gap_by_depth({("csr", "high"): csr})

def test_verdict_table_reads_each_claim_per_snr(synthetic_results):
    claims = pd.DataFrame([
        {"claim": "jaccard_gain_percent", "snr": "high", "csr": 0.5, "helix": 0.6, "difference": 0.1,
         "measured": 20.0, "paper": 20.0, "agrees": True},
        {"claim": "jaccard_gain_percent", "snr": "low", "csr": 0.5, "helix": 0.45, "difference": -0.05,
         "measured": -10.0, "paper": 2.2, "agrees": False},
        {"claim": "rmse_vol_decrease_nm", "snr": "high", "csr": 50.0, "helix": 55.0, "difference": -5.0,
         "measured": -5.0, "paper": np.nan, "agrees": False},
    ])
    table = verdict_table(claims)
    assert list(table.columns) == ["high", "low"]
    assert table.loc["Jaccard index, relative gain (%)", "high"] == "+20.0 % (paper +20.0 %): yes"
    assert table.loc["Jaccard index, relative gain (%)", "low"] == "-10.0 % (paper +2.2 %): no"
    assert table.loc["RMSE_vol decrease (nm)", "high"] == "-5.0 nm: no"
    assert table.loc["RMSE_vol decrease (nm)", "low"] == ""
    assert claims_agreeing(claims).to_dict() == {"high": 1, "low": 0}

def test_verdict_a_shrinking_deficit_is_no_growing_advantage(synthetic_results):
    rows = [{"claim": "jaccard_gain_trend_per_decade", "snr": "high", "csr": np.nan, "helix": np.nan,
             "difference": 0.04, "measured": 0.04, "paper": np.nan, "agrees": True},
            {"claim": "jaccard_gain_points", "snr": "high", "csr": 0.6, "helix": 0.5, "difference": -0.1,
             "measured": -10.0, "paper": 20.0, "agrees": False}]
    label = "helix advantage grows with density (JI slope per decade)"
    assert verdict_table(pd.DataFrame(rows)).loc[label, "high"] == "+0.040: no (a deficit that shrinks)"
    rows[1].update(measured=5.0, agrees=True)
    assert verdict_table(pd.DataFrame(rows)).loc[label, "high"] == "+0.040: yes"
