"""The study runner: density calibration, one point, the results table, the claims, the CLI."""

import hashlib
import json
import shlex
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from structloc import Field
from structloc.cli import build_parser, main
from structloc.density import nominal_density
from structloc.io import load_mt0_ground_truth
from structloc.localize import Localizer
from structloc.sampling import MT0Sampler, sample_frames
from structloc.study import (
    RESULT_COLUMNS, StudyConfig, describe_claims, mt0_count_density_for_nominal, mt0_nominal_curve, model_path, point_command,
    locs_path_for, paired_difference, pooled_checkerboard, read_locs, read_results, recall_gap_by_depth, run_point, run_study, simulate_test_set, summarize_claims, write_locs, write_results,
)
from structloc.train import TrainConfig, train

FIELD = Field()


# -- count density <-> nominal density ---------------------------------------------------------
def test_nominal_curve_is_monotone_and_structured_frames_look_denser():
    counts, nominal = mt0_nominal_curve()
    assert np.all(np.diff(counts) > 0) and np.all(np.diff(nominal) >= 0)
    # microtubule positions crowd together: above ~0.3 /um^2 they look denser than their count
    assert np.all(nominal[counts > 0.3] > counts[counts > 0.3])


@pytest.mark.parametrize("target", [0.38, 2.2, 13.0])
def test_count_density_inversion_hits_the_target_nominal_density(target):
    count = mt0_count_density_for_nominal(target)[0]
    emitters = sample_frames(MT0Sampler(FIELD), 300, density_per_um2=count, seed=4242)  # not the calibration seed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        measured = nominal_density(emitters, FIELD, n_frames=300)
    # measured scatter at 200 frames is <= 4 % (sd); the calibration grid adds a few %
    assert measured == pytest.approx(target, rel=0.12)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -1.0, 0.0])
def test_inversion_rejects_bad_targets(bad):
    with pytest.raises(ValueError, match="finite and > 0"):
        mt0_count_density_for_nominal(bad)


def test_inversion_rejects_targets_outside_the_calibration():
    with pytest.raises(ValueError, match="outside the calibrated range"):
        mt0_count_density_for_nominal([1.0, 1e4])


# -- configuration -----------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, match", [
    ({"snrs": ("ultra",)}, "unknown SNR"), ({"approaches": ("random",)}, "unknown approach"),
    ({"n_frames": 0}, "n_frames"), ({"confidence": 1.5}, "confidence"), ({"nominal_densities": (np.nan,)}, "finite"),
    ({"challenge_sets": ("XD",)}, "unknown set"), ({"snrs": "high"}, "tuple"),
    ({"nominal_densities": (), "challenge_sets": ()}, "at least one"),
])
def test_study_config_names_the_problem(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        StudyConfig(**kwargs)


def test_quick_config_is_reduced():
    quick = StudyConfig.quick()
    assert len(quick.test_sets) < len(StudyConfig().test_sets) and quick.n_frames < StudyConfig().n_frames
    assert len(StudyConfig().nominal_densities) >= 9
    assert min(StudyConfig().nominal_densities) == 0.38 and max(StudyConfig().nominal_densities) == 13


# -- test sets -----------------------------------------------------------------------------------
def test_challenge_test_set_keeps_positions_and_uses_preset_photons():
    test = simulate_test_set("medium", "HD", n_frames=6, seed=1)
    assert test.frames.shape == (6, 64, 64) and test.frames.dtype == np.uint16
    table = load_mt0_ground_truth("HD")
    known = {tuple(p) for p in np.round(table.xyz_nm(), 3)}
    assert all(tuple(p) in known for p in np.round(test.truth.xyz_nm(), 3))
    assert np.all((test.truth.photons >= 2500) & (test.truth.photons <= 7500))  # medium: 5000 +- 50 %
    again = simulate_test_set("medium", "HD", n_frames=6, seed=1)
    np.testing.assert_array_equal(again.frames, test.frames)
    other = simulate_test_set("medium", "HD", n_frames=6, seed=2)
    assert not np.array_equal(other.frames, test.frames)


# -- one point with a tiny model ---------------------------------------------------------------
@pytest.fixture(scope="module")
def models(tmp_path_factory):
    directory = tmp_path_factory.mktemp("models")
    for approach in ("csr", "helix"):
        config = TrainConfig(sampler=approach, snr="high", preset="tiny", batch_size=2, max_steps=2, minutes=None,
                             steps_per_epoch=2, warmup_steps=1, n_val_frames=4, seed=3)
        train(config, model_path(directory, approach, "high"), progress=False)
    return directory


def _eager(path):
    """A loaded model whose threshold is low enough that a barely trained net finds something."""
    localizer = Localizer.from_checkpoint(path, device="cpu")
    localizer.threshold = 0.0  # every local maximum of the detection probability
    return localizer


def test_run_point_gives_a_complete_finite_row(models):
    localizer = _eager(model_path(models, "helix", "high"))
    row = run_point("helix", "high", 2.2, n_frames=6, models_dir=models, localizer=localizer, n_boot=50)
    assert list(row) == list(RESULT_COLUMNS)
    assert row["approach"] == "helix" and row["snr"] == "high" and row["n_frames"] == 6 and row["training_seed"] == 3
    numeric = {k: v for k, v in row.items() if isinstance(v, (float, int)) and not isinstance(v, bool)
               and "_diff" not in k}  # paired differences need both approaches (run_study)
    assert all(np.isfinite(v) for v in numeric.values()), {k: v for k, v in numeric.items() if not np.isfinite(v)}
    assert row["tp"] > 0 and row["tp"] + row["fn"] == row["n_truth"] and row["tp"] + row["fp"] == row["n_pred"]
    for metric in ("jaccard", "rmse_vol_nm", "efficiency_3d"):
        assert row[f"{metric}_ci_low"] <= row[metric] <= row[f"{metric}_ci_high"]
    assert row["nominal_density"] == pytest.approx(2.2, rel=0.5)  # 6 frames: a rough check only
    # the ground truth of MT0 frames has no sub-pixel bias: chi2/dof ~ 1 (sd sqrt(2/19) ~ 0.32)
    assert row["checkerboard_truth"] < 1 + 5 * np.sqrt(2 / 19)
    assert "--nominal-density 2.2 --frames 6 --seed 7" in row["command"]


def test_run_point_rejects_a_mismatched_test_set(models):
    test = simulate_test_set("high", 0.38, n_frames=3)
    with pytest.raises(ValueError, match="is not the point"):
        run_point("csr", "high", 2.2, n_frames=3, models_dir=models, test=test)


def test_missing_model_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="csr_low.pt"):
        run_point("csr", "low", 1.0, n_frames=2, models_dir=tmp_path)
    assert main(["study", "--snr", "low", "--models", str(tmp_path), "--frames", "2", "--no-progress"]) == 2


def test_run_study_shares_frames_and_the_command_reproduces_each_row(models, tmp_path, capsys):
    localizers = {(a, "high", None): _eager(model_path(models, a, "high")) for a in ("csr", "helix")}
    config = StudyConfig(snrs=("high",), nominal_densities=(0.38,), challenge_sets=("LD",), n_frames=4,
                         n_boot=30, models_dir=str(models))
    df = run_study(config, progress=False, localizers=localizers, keep_locs_at=0.38)
    assert len(df) == 4 and list(df.columns) == list(RESULT_COLUMNS)
    # both approaches see the same frames: same truth, same measured nominal density
    for _, pair in df.groupby("test_set"):
        assert pair["n_truth"].nunique() == 1 and pair["nominal_density"].nunique() == 1
    assert set(df.attrs["locs"]) == {("csr", "high"), ("helix", "high"), ("truth", "high")}
    # the paired difference (helix - csr, same frames) is in both rows of a point
    for _, pair in df.groupby("test_set"):
        assert pair["jaccard_diff"].nunique() == 1
        diff = pair.iloc[0]
        assert diff["jaccard_diff"] == pytest.approx(pair.set_index("approach").jaccard.diff().iloc[-1])
        assert diff["jaccard_diff_ci_low"] <= diff["jaccard_diff"] <= diff["jaccard_diff_ci_high"]
    # the command column reproduces a row (same seeds, same frames, same model)
    row = df[(df.approach == "helix") & (df.test_set == "0.38")].iloc[0]
    single = run_point("helix", "high", 0.38, n_frames=4, n_boot=30, models_dir=models,
                       localizer=localizers[("helix", "high", None)])
    for key in ("n_truth", "n_pred", "tp", "jaccard", "jaccard_ci_low", "rmse_vol_nm", "checkerboard", "command"):
        assert single[key] == row[key], key
    assert np.isnan(single["jaccard_diff"])  # a single approach has no paired difference
    args = build_parser().parse_args(shlex.split(row["command"])[1:])
    assert (args.approach, args.snr, args.nominal_density, args.frames, args.seed, args.boot) == \
        (["helix"], ["high"], [0.38], 4, 7, 30)
    # the CLI writes the same table
    out = tmp_path / "r.csv"
    assert main(["study", "--snr", "high", "--nominal-density", "0.38", "--frames", "4", "--boot", "30",
                 "--models", str(models), "--out", str(out), "--no-progress"]) == 0
    assert "wrote 2 rows" in capsys.readouterr().out
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["model_sha256"] == {
        f"{a}_high.pt": hashlib.sha256((models / f"{a}_high.pt").read_bytes()).hexdigest() for a in ("csr", "helix")}
    kept = read_locs(locs_path_for(out))
    assert set(kept) == set(df.attrs["locs"])
    np.testing.assert_allclose(kept[("truth", "high")].x_nm, df.attrs["locs"][("truth", "high")].x_nm, atol=0.05)


def test_write_locs_rejects_bad_tables(tmp_path):
    with pytest.raises(TypeError, match="Emitters"):
        write_locs({("csr", "high"): np.zeros(3)}, tmp_path / "l.csv")
    write_locs({}, tmp_path / "empty.csv")
    assert read_locs(tmp_path / "empty.csv") == {}
    # a model that found nothing keeps its (empty) table
    from structloc import Emitters

    truth = Emitters([0, 2], [10.0, 20.0], [30.0, 40.0], [0.0, 5.0], [1.0, 1.0])
    write_locs({("csr", "low"): Emitters.empty(), ("truth", "low"): truth}, tmp_path / "some.csv.gz")
    back = read_locs(tmp_path / "some.csv.gz")
    assert len(back[("csr", "low")]) == 0 and np.array_equal(back[("truth", "low")].frame, [0, 2])


def test_recall_gap_by_depth_adds_up_to_the_overall_recall_difference():
    from structloc import Emitters
    from structloc.evaluate import evaluate

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


# -- the results table -------------------------------------------------------------------------
def _synthetic():
    """Two SNRs, three densities: known gains (see the assertions)."""
    rows = []
    for snr in ("high", "low"):
        for density in (0.5, 5.0, 50.0):
            decade = np.log10(density / 0.5)  # 0, 1, 2
            for approach in ("csr", "helix"):
                helix = approach == "helix"
                rows.append({
                    "approach": approach, "snr": snr, "test_set": f"{density:g}", "nominal_density": density,
                    "jaccard": 0.5 + (0.1 + 0.05 * decade if helix else 0.0) - 0.05 * decade,
                    "rmse_lat_nm": 30.0 if helix else 40.0, "rmse_ax_nm": 40.0 if helix else 60.0,
                    "rmse_vol_nm": 50.0 if helix else 72.0, "efficiency_3d": 0.6 if helix else 0.5,
                    "checkerboard_chi2": 19.0 if helix else 190.0, "checkerboard_dof": 19,
                    "checkerboard_25nm_chi2": 38.0, "checkerboard_25nm_dof": 19, "command": "x",
                })
        rows.append({**rows[-1], "test_set": "LD", "jaccard": 0.0, "rmse_vol_nm": 1e4})  # excluded from means
    return pd.DataFrame(rows)


def test_summarize_claims_known_answers():
    claims = summarize_claims(_synthetic()).set_index(["claim", "snr"])
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


def test_describe_claims_quotes_the_computed_numbers():
    lines = describe_claims(summarize_claims(_synthetic()))
    assert any("high SNR | Jaccard index" in line and "+33.3 %" in line and "paper +20.0 %" in line for line in lines)
    assert any("checkerboard chi2/dof mod 100 nm: csr 10.00, helix 1.00" in line for line in lines)


def test_paired_difference_of_identical_tables_is_exactly_zero_and_detects_a_loss():
    truth = sample_frames(MT0Sampler(FIELD), 20, density_per_um2=0.5, seed=3)
    same = paired_difference(truth, truth, truth, n_frames=20, n_boot=100)
    assert same["jaccard_diff"] == 0 and same["jaccard_diff_ci_low"] == 0 and same["jaccard_diff_ci_high"] == 0
    half = truth.take(np.arange(len(truth)) % 2 == 0)  # b misses every other emitter: JI about 0.5
    loss = paired_difference(truth, truth, half, n_frames=20, n_boot=200)
    assert loss["jaccard_diff"] == pytest.approx(len(half) / len(truth) - 1)
    assert loss["jaccard_diff_ci_high"] < 0 and loss["rmse_vol_diff_nm"] == 0
    with pytest.raises(ValueError, match="confidence"):
        paired_difference(truth, truth, truth, n_frames=20, confidence=2.0)


def test_summarize_counts_significant_points():
    df = _synthetic().assign(jaccard_diff_ci_low=[0.01, 0.01, -0.1, -0.1, -0.2, -0.2, np.nan] * 2,
                             jaccard_diff_ci_high=[0.1, 0.1, 0.1, 0.1, -0.1, -0.1, np.nan] * 2)
    claims = summarize_claims(df).set_index(["claim", "snr"])
    row = claims.loc[("jaccard_points_helix_better", "high")]
    assert (row["helix"], row["csr"], row["measured"]) == (1, 1, 0)


def test_summarize_claims_sign_follows_the_data():
    df = _synthetic()
    worse = df.assign(jaccard=np.where(df.approach == "helix", 0.3, 0.5))
    claims = summarize_claims(worse).set_index(["claim", "snr"])
    assert claims.loc[("jaccard_gain_percent", "low"), "measured"] == pytest.approx(-40.0)
    assert claims.loc[("jaccard_gain_percent", "low"), "agrees"] == False  # noqa: E712 - numpy bool


def test_summarize_claims_needs_both_approaches_and_columns():
    df = _synthetic()
    with pytest.raises(ValueError, match="both approaches"):
        summarize_claims(df[df.approach == "csr"])
    with pytest.raises(ValueError, match="jaccard"):
        summarize_claims(df.drop(columns="jaccard"))


def test_pooled_checkerboard_standard_error():
    pooled = pooled_checkerboard(_synthetic(), "pixel").set_index(["approach", "snr"])
    assert pooled.loc[("csr", "high"), "dof"] == 3 * 19
    assert pooled.loc[("helix", "high"), "dof"] == 4 * 19
    assert pooled.loc[("helix", "high"), "se_no_bias"] == pytest.approx(np.sqrt(2 / 76))
    with pytest.raises(ValueError, match="period"):
        pooled_checkerboard(_synthetic(), "10nm")


def test_results_csv_round_trips_and_writes_atomically(tmp_path):
    df = _synthetic()
    path = tmp_path / "results.csv"
    write_results(df, path)
    back = read_results(path)
    pd.testing.assert_frame_equal(back.drop(columns="test_set"), df.drop(columns="test_set"), check_dtype=False)
    assert list(back["test_set"].astype(str)) == list(df["test_set"])
    before = path.read_bytes()
    with pytest.raises(ValueError, match="command"):
        write_results(df.drop(columns="command"), path)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["results.csv"]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_results(df, tmp_path / "missing" / "r.csv")
    with pytest.raises(FileNotFoundError, match="no results"):
        read_results(tmp_path / "none.csv")


@settings(max_examples=25, deadline=None)
@given(approach=st.sampled_from(["csr", "helix"]), snr=st.sampled_from(["high", "medium", "low"]),
       target=st.one_of(st.sampled_from(["LD", "HD"]), st.floats(0.05, 40.0).map(lambda v: float(f"{v:.3g}"))),
       frames=st.integers(1, 5000), seed=st.integers(0, 2**31), boot=st.integers(1, 5000))
def test_point_command_parses_back_to_the_same_point(approach, snr, target, frames, seed, boot):
    command = point_command(approach, snr, target, n_frames=frames, seed=seed, n_boot=boot)
    args = build_parser().parse_args(shlex.split(command)[1:])
    assert args.approach == [approach] and args.snr == [snr] and args.frames == frames and args.seed == seed
    assert (args.boot or 1000) == boot
    if isinstance(target, str):
        assert args.challenge == [target] and args.nominal_density is None
    else:
        assert args.nominal_density == [target] and args.challenge is None


def test_verdict_table_reads_each_claim_per_snr():
    from structloc.study import claims_agreeing, verdict_table

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


def test_verdict_a_shrinking_deficit_is_no_growing_advantage():
    from structloc.study import verdict_table

    rows = [{"claim": "jaccard_gain_trend_per_decade", "snr": "high", "csr": np.nan, "helix": np.nan,
             "difference": 0.04, "measured": 0.04, "paper": np.nan, "agrees": True},
            {"claim": "jaccard_gain_points", "snr": "high", "csr": 0.6, "helix": 0.5, "difference": -0.1,
             "measured": -10.0, "paper": 20.0, "agrees": False}]
    label = "helix advantage grows with density (JI slope per decade)"
    assert verdict_table(pd.DataFrame(rows)).loc[label, "high"] == "+0.040: no (a deficit that shrinks)"
    rows[1].update(measured=5.0, agrees=True)
    assert verdict_table(pd.DataFrame(rows)).loc[label, "high"] == "+0.040: yes"
