"""The study loop with tiny trained models: one point, the whole study, the command of each row."""

import hashlib
import json
import shlex

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from untrained import hesitant

from structloc.checkpoint import Checkpoint
from structloc.cli import build_parser, main
from structloc.localize import Localizer
from structloc.study import (RESULT_COLUMNS, StudyConfig, locs_path_for, model_path, point_command, read_locs,
                             run, run_point, simulate_test_set)
from structloc.train import TrainConfig, train


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
    localizer.threshold = 0.0  # every cluster of bins above the decoder's probability floor
    hesitant(localizer.model)
    return localizer

def test_run_point_gives_a_complete_finite_row(models):
    localizer = _eager(model_path(models, "helix", "high"))
    row = run_point("helix", "high", 2.2, n_frames=6, models_dir=models, localizer=localizer, n_boot=50)
    assert list(row) == list(RESULT_COLUMNS)
    assert row["approach"] == "helix" and row["snr"] == "high" and row["n_frames"] == 6 and row["training_seed"] == 3
    numeric = {k: v for k, v in row.items() if isinstance(v, (float, int)) and not isinstance(v, bool)
               and "_diff" not in k}  # paired differences need both approaches (structloc.study.run)
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

def test_unwritable_output_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    import structloc.cli.study as study_cli

    def no_work(*args, **kwargs):
        raise AssertionError("the study ran before its output path was checked")

    monkeypatch.setattr(study_cli, "run_study_points", no_work)
    out = tmp_path / "missing" / "study.csv"
    assert main(["study", "--snr", "low", "--frames", "2", "--no-progress", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "does not exist" in err and len(err.splitlines()) == 1
    assert not out.parent.exists()

def test_run_shares_frames_and_the_command_reproduces_each_row(models, tmp_path, capsys):
    localizers = {(a, "high", None): _eager(model_path(models, a, "high")) for a in ("csr", "helix")}
    config = StudyConfig(snrs=("high",), nominal_densities=(0.38,), challenge_sets=("LD",), n_frames=4,
                         n_boot=30, models_dir=str(models))
    done = run(config, progress=False, localizers=localizers, keep_locs_at=0.38)
    df = done.results
    assert len(df) == 4 and list(df.columns) == list(RESULT_COLUMNS)
    # both approaches see the same frames: same truth, same measured nominal density
    for _, pair in df.groupby("test_set"):
        assert pair["n_truth"].nunique() == 1 and pair["nominal_density"].nunique() == 1
    assert set(done.locs) == {("csr", "high"), ("helix", "high"), ("truth", "high")} and not df.attrs
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
    # and each model's training budget, read from its checkpoint
    for a in ("csr", "helix"):
        ckpt = Checkpoint.load(models / f"{a}_high.pt")
        assert record["model_budgets"][f"{a}_high.pt"] == {
            "training_seed": ckpt.config.seed, "steps": ckpt.step, "frames_seen": ckpt.frames_seen,
            "wall_time_s": round(ckpt.elapsed_s, 1), "device": ckpt.device, "bf16_on_cpu": False}
    assert record["model_budgets"]["csr_high.pt"]["steps"] > 0
    kept = read_locs(locs_path_for(out))
    assert set(kept) == set(done.locs)
    np.testing.assert_allclose(kept[("truth", "high")].x_nm, done.locs[("truth", "high")].x_nm, atol=0.05)

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
