"""Tests of the structloc command line (structloc.cli)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np
import pytest

from structloc import cli
from structloc.emitters import Emitters
from structloc.evaluate import Metrics, evaluate
from structloc.io import (
    read_localizations,
    read_tiff_stack,
    write_activations_csv,
    write_localizations_csv,
    write_thunderstorm_csv,
)

#: The JSON keys are the Metrics fields, whose names and order tests/test_evaluate_metrics.py pins down.
METRIC_KEYS = list(Metrics.__dataclass_fields__)


@pytest.fixture()
def truth_and_pred(tmp_path):
    rng = np.random.default_rng(4)
    n = 400
    truth = Emitters(rng.integers(0, 30, n), rng.uniform(0, 6400, n), rng.uniform(0, 6400, n),
                     rng.uniform(-700, 700, n), rng.uniform(500, 5000, n))
    keep = rng.random(n) < 0.9
    pred = Emitters(truth.frame[keep], truth.x_nm[keep] + rng.normal(0, 25, keep.sum()),
                    truth.y_nm[keep] + rng.normal(0, 25, keep.sum()),
                    truth.z_nm[keep] + rng.normal(0, 50, keep.sum()), truth.photons[keep])
    gt = write_activations_csv(tmp_path / "gt.csv", truth)
    loc = write_localizations_csv(tmp_path / "loc.csv", pred)
    return gt, loc


def run_main(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_evaluate_json_matches_library(truth_and_pred, capsys):
    gt, loc = truth_and_pred
    code, out, err = run_main(["evaluate", "--truth", str(gt), "--pred", str(loc), "--json"], capsys)
    assert code == 0 and err == ""
    result = json.loads(out)  # exactly one JSON object on stdout
    assert list(result) == METRIC_KEYS
    expected = evaluate(read_localizations(gt), read_localizations(loc)).to_dict()
    for key in METRIC_KEYS:
        assert result[key] == pytest.approx(expected[key])
    assert result["fn"] > 0 and result["fp"] == 0 and 0.85 < result["jaccard"] < 0.95


def test_evaluate_table_and_options(truth_and_pred, capsys):
    gt, loc = truth_and_pred
    code, out, _ = run_main(["evaluate", "--truth", str(gt), "--pred", str(loc)], capsys)
    assert code == 0
    for key in METRIC_KEYS:
        assert key in out
    assert "nm" in out and "greedy" in out
    code, out, _ = run_main(["evaluate", "--truth", str(gt), "--pred", str(loc), "--json",
                             "--method", "hungarian", "--lateral-tol-nm", "1", "--axial-tol-nm", "1"], capsys)
    tight = json.loads(out)
    assert code == 0 and tight["tp"] < 20  # 25 nm jitter: almost nothing within 1 nm


def test_evaluate_by_depth_agrees_with_the_library(truth_and_pred, capsys):
    from structloc.evaluate import axial_profile

    gt, loc = truth_and_pred
    code, out, _ = run_main(["evaluate", "--truth", str(gt), "--pred", str(loc), "--json", "--by-depth"], capsys)
    result = json.loads(out)
    assert code == 0 and list(result) == METRIC_KEYS + ["by_depth"]
    expected = axial_profile(read_localizations(gt), read_localizations(loc))
    assert [row["tp"] for row in result["by_depth"]] == expected.tp.tolist()
    assert sum(row["tp"] for row in result["by_depth"]) == result["tp"]
    code, out, _ = run_main(["evaluate", "--truth", str(gt), "--pred", str(loc), "--by-depth"], capsys)
    assert code == 0 and "by true depth" in out and "z_low_nm" in out and "recall" in out


def test_evaluate_any_format_and_nan_as_null(tmp_path, capsys):
    truth = Emitters([0, 1], [100.0, 200.0], [100.0, 200.0], [0.0, 0.0], [10.0, 10.0])
    gt = write_thunderstorm_csv(tmp_path / "gt_ts.csv", truth)
    far = Emitters([0], [5000.0], [5000.0], [0.0], [1.0])
    loc = write_activations_csv(tmp_path / "pred_act.csv", far)
    code, out, _ = run_main(["evaluate", "--truth", str(gt), "--pred", str(loc), "--json"], capsys)
    assert code == 0
    assert "NaN" not in out
    result = json.loads(out)
    assert result["tp"] == 0 and result["rmse_lat_nm"] is None and result["jaccard"] == 0.0


@pytest.mark.parametrize("argv, fragment", [
    (["evaluate", "--truth", "missing.csv", "--pred", "missing.csv"], "missing.csv"),
    (["evaluate", "--truth", "X"], "required"),
    (["evaluate", "--truth", "a", "--pred", "b", "--method", "nearest"], "invalid choice"),
    (["evaluate", "--truth", "a", "--pred", "b", "--lateral-tol-nm", "-3"], "finite number >= 0"),
    (["simulate", "--frames", "0", "--out", "d"], "positive integer"),
    (["simulate", "--frames", "3", "--snr", "ultra", "--out", "d"], "invalid choice"),
    (["simulate", "--frames", "3", "--density", "nan", "--out", "d"], "finite number"),
    (["simulate", "--frames", "3", "--device", "nodevice", "--out", "d"], "not a torch device"),
    (["simulate", "--frames", "3", "--density", "1e6", "--out", "d"],
     "density 1e+06 emitters/um^2 means 40,960,000 emitters per frame on average (a 6.4 x 6.4 um field); "
     "at most 100,000 per frame are supported"),
    (["simulate", "--frames", "3", "--density", "1e9", "--sampler", "helix", "--out", "d"],
     "means 40,960,000,000 emitters per frame"),
    (["simulate", "--frames", "100000000000", "--out", "d"], "needs about 819.2 TB of memory but"),
    (["frobnicate"], "invalid choice"),
    ([], "required"),
])
def test_errors_are_one_line_exit_2(argv, fragment, capsys):
    code, out, err = run_main(argv, capsys)
    assert code == 2 and out == ""
    assert err.startswith("structloc: error: ") and err.count("\n") == 1
    assert fragment in err


def test_malformed_csv_error_names_line(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("frame,x,y,z,photons\n1,2,3,4,5\n1,2,oops,4,5\n")
    code, _, err = run_main(["evaluate", "--truth", str(bad), "--pred", str(bad)], capsys)
    assert code == 2 and "bad.csv: line 3" in err and "oops" in err


def test_console_script_error_has_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "structloc.cli", "evaluate", "--truth",
                           str(tmp_path / "nope.csv"), "--pred", str(tmp_path / "nope.csv")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [f"structloc: error: no such file: {tmp_path / 'nope.csv'}"]


def test_help_explains_options_with_units(capsys):
    code, out, _ = run_main(["--help"], capsys)
    assert code == 0 and "simulate" in out and "evaluate" in out
    code, out, _ = run_main(["simulate", "--help"], capsys)
    assert code == 0
    for text in ("--frames", "--sampler", "--snr", "--density", "--seed", "--out", "um^2", "ADU",
                 "20000/200"):
        assert text in out
    code, out, _ = run_main(["evaluate", "--help"], capsys)
    assert code == 0
    for text in ("--truth", "--pred", "--json", "--method", "--lateral-tol-nm", "--axial-tol-nm", "in nm"):
        assert text in out


def test_verb_registry_accepts_new_verbs(capsys, monkeypatch):
    monkeypatch.setattr(cli, "VERBS", dict(cli.VERBS))

    def arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--steps", type=cli.positive_int, default=2, help="optimiser steps")

    @cli.register_verb("hello-test", "a verb added by a test", arguments)
    def run(args):
        print(f"trained {args.steps}")
        return 0

    code, out, _ = run_main(["hello-test", "--steps", "5"], capsys)
    assert (code, out) == (0, "trained 5\n")
    with pytest.raises(ValueError, match="already registered"):
        cli.register_verb("hello-test", "again", arguments)(run)


def test_a_type_error_from_a_bug_shows_its_traceback(capsys, monkeypatch):
    """Only input errors become one-line messages; a TypeError inside a verb is a bug and propagates."""
    monkeypatch.setattr(cli, "VERBS", dict(cli.VERBS))

    @cli.register_verb("buggy-test", "a verb with a bug", lambda parser: None)
    def run(args):
        return len(None)  # TypeError

    with pytest.raises(TypeError, match="NoneType"):
        cli.main(["buggy-test"])

    @cli.register_verb("input-test", "a verb refusing its input", lambda parser: None)
    def refuse(args):
        raise FileNotFoundError("no such file: x.tif")

    assert run_main(["input-test"], capsys)[::2] == (2, "structloc: error: no such file: x.tif\n")


def test_every_verb_is_a_module_with_the_same_two_functions():
    from structloc.cli import evaluate, localize, simulate, study, train

    modules = (simulate, evaluate, train, localize, study)
    assert list(cli.VERBS)[:5] == [m.NAME for m in modules]
    for module in modules:
        verb = cli.VERBS[module.NAME]
        assert (verb.add_arguments, verb.run, verb.summary) == (module.add_arguments, module.run, module.SUMMARY)


def test_choices_come_from_the_registries():
    from structloc.camera import CAMERA_NAMES
    from structloc.heads import HEADS
    from structloc.model import PRESETS
    from structloc.sampling import SAMPLERS
    from structloc.snr import SNR_PRESETS

    parser = cli.build_parser()
    verbs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices

    def choices(verb, flag):
        return next(a.choices for a in verbs[verb]._actions if flag in a.option_strings)

    assert list(choices("simulate", "--sampler")) == list(SAMPLERS)
    assert set(choices("simulate", "--snr")) == set(choices("train", "--snr")) == set(SNR_PRESETS)
    assert set(choices("train", "--preset")) == set(PRESETS) and tuple(choices("train", "--head")) == HEADS
    assert tuple(choices("localize", "--camera")) == CAMERA_NAMES


def test_simulate_writes_frames_and_ground_truth(tmp_path, capsys):
    out_dir = tmp_path / "sim"
    argv = ["simulate", "--frames", "4", "--sampler", "csr", "--snr", "medium", "--density", "2",
            "--seed", "3", "--out", str(out_dir), "--quiet"]
    code, out, err = run_main(argv, capsys)
    assert code == 0, err
    frames = read_tiff_stack(out_dir / "frames.tif")
    assert frames.shape == (4, 64, 64) and frames.dtype == np.uint16
    truth = read_localizations(out_dir / "ground_truth.csv")
    assert truth.frame.min(initial=0) >= 0 and truth.frame.max(initial=0) < 4
    header = (out_dir / "ground_truth.csv").read_text().splitlines()[0]
    assert header == "Ground-truth,frame,xnano,ynano,znano,intensity"
    # 2 per um^2 over 40.96 um^2 and 4 frames: Poisson mean 327.7, SD 18
    assert abs(len(truth) - 2 * 40.96 * 4) < 5 * np.sqrt(2 * 40.96 * 4)
    assert np.all((truth.x_nm >= 0) & (truth.x_nm <= 6400) & (truth.y_nm >= 0) & (truth.y_nm <= 6400))
    # same seed, same output
    again = tmp_path / "again"
    assert run_main(argv[:-3] + ["--out", str(again), "--quiet"], capsys)[0] == 0
    np.testing.assert_array_equal(read_tiff_stack(again / "frames.tif"), frames)
    # medium signal: 50 background photons/pixel, ~6 ADU per photon above a 100 ADU baseline
    assert frames.mean() > 100 + 0.5 * 50 * 6


def test_simulate_psf_models_share_the_truth_and_differ_in_the_frames(tmp_path, capsys):
    frames, truths = {}, {}
    for psf in ("gaussian", "centred", "interpolated"):
        out_dir = tmp_path / psf
        code, _, err = run_main(["simulate", "--frames", "2", "--sampler", "csr", "--density", "0.5", "--seed", "4",
                                 "--psf", psf, "--out", str(out_dir), "--quiet"], capsys)
        assert code == 0, err
        frames[psf] = read_tiff_stack(out_dir / "frames.tif").astype(float)
        truths[psf] = read_localizations(out_dir / "ground_truth.csv")
    for psf in ("centred", "interpolated"):
        np.testing.assert_array_equal(truths[psf].x_nm, truths["gaussian"].x_nm)
        assert np.abs(frames[psf] - frames["gaussian"]).mean() > 1.0  # another image of the same emitters
    code, _, err = run_main(["simulate", "--frames", "1", "--psf", "spline", "--out", str(tmp_path / "x")], capsys)
    assert code == 2 and "--psf" in err and "\n" not in err.strip()
    code, _, err = run_main(["train", "--sampler", "csr", "--snr", "high", "--psf", "interpolated", "--out",
                             str(tmp_path / "m.pt")], capsys)
    assert code == 2 and "--psf" in err  # the trainer renders the Gaussian only


def test_simulate_rejects_file_as_out(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    code, _, err = run_main(["simulate", "--frames", "1", "--out", str(f), "--quiet"], capsys)
    assert code == 2 and "not a directory" in err


def test_bad_requests_leave_nothing_behind(tmp_path, capsys):
    out = tmp_path / "sim"
    code, _, err = run_main(["simulate", "--frames", "2", "--density", "1e6", "--out", str(out), "--quiet"], capsys)
    assert code == 2 and "at most 100,000 per frame" in err and not out.exists()
    out.mkdir()
    (out / "ground_truth.csv").mkdir()  # the second output cannot be written: the first is not either
    code, _, err = run_main(["simulate", "--frames", "2", "--out", str(out), "--quiet"], capsys)
    assert code == 2 and err == f"structloc: error: output path {out / 'ground_truth.csv'} is a directory; give a file name\n"
    assert sorted(p.name for p in out.iterdir()) == ["ground_truth.csv"]


def test_output_paths_that_are_directories(tmp_path, capsys):
    from structloc.pretrained import checkpoint_path

    folder = tmp_path / "out"
    folder.mkdir()
    expected = f"structloc: error: output path {folder} is a directory; give a file name\n"
    for argv in (["localize", "--model", str(checkpoint_path("csr_high")), "--frames", "x.tif", "--out", str(folder)],
                 ["train", "--sampler", "csr", "--snr", "high", "--steps", "1", "--out", str(folder)]):
        code, out, err = run_main(argv, capsys)
        assert (code, out, err) == (2, "", expected)
    assert list(folder.iterdir()) == []


def test_empty_ground_truth_warns_and_gives_the_empty_result(tmp_path, capsys):
    truth = write_activations_csv(tmp_path / "gt.csv", Emitters.empty())
    pred = write_localizations_csv(tmp_path / "loc.csv", Emitters([0, 1], [100.0, 200.0], [100.0, 200.0],
                                                                  [0.0, 0.0], [1e3, 1e3]))
    code, out, err = run_main(["evaluate", "--truth", str(truth), "--pred", str(pred), "--json"], capsys)
    assert code == 0
    assert err == (f"structloc: warning: the ground truth {truth} is empty (a header and no rows); "
                   "every localization counts as a false positive\n")
    record = json.loads(out)
    assert (record["tp"], record["fp"], record["fn"], record["jaccard"], record["rmse_lat_nm"]) == (0, 2, 0, 0.0, None)
    code, _, err = run_main(["evaluate", "--truth", str(pred), "--pred", str(pred)], capsys)
    assert code == 0 and "warning" not in err


def test_tiff_passed_as_csv_is_named_binary(tmp_path, capsys):
    from structloc.io import write_tiff_stack

    tif = write_tiff_stack(tmp_path / "frames.tif", np.zeros((2, 8, 8), np.uint16))
    code, out, err = run_main(["evaluate", "--truth", str(tif), "--pred", str(tif)], capsys)
    assert (code, out, err) == (2, "", f"structloc: error: {tif} is a TIFF image, not a CSV text file\n")


def test_random_bytes_and_foreign_torch_files_are_not_checkpoints(tmp_path, capsys):
    import torch

    junk = tmp_path / "junk.pt"
    junk.write_bytes(np.random.default_rng(0).bytes(4096))
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {"w": torch.zeros(3)}}, foreign)
    for path, reason in ((junk, "not a readable torch file of tensors and plain values; corrupted or another "
                                "format"),
                         (foreign, "a torch file, but without structloc's format_version field")):
        code, out, err = run_main(["localize", "--model", str(path), "--frames", "x.tif",
                                   "--out", str(tmp_path / "o.csv")], capsys)
        assert (code, out, err) == (2, "", f"structloc: error: {path} is not a structloc checkpoint ({reason})\n")
    assert not (tmp_path / "o.csv").exists()


def test_train_cpu_bf16_on_a_cpu_without_bf16_is_one_line_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    import structloc.train as train_module

    monkeypatch.setattr(train_module, "cpu_has_bf16", lambda: False)
    code, out, err = run_main(["train", "--sampler", "csr", "--snr", "high", "--preset", "tiny", "--steps", "1",
                               "--device", "cpu", "--cpu-bf16", "--no-progress", "--out", str(tmp_path / "m.pt")],
                              capsys)
    assert code == 2 and "needs a CPU with native bfloat16" in err and "\n" not in err.strip()
    assert list(tmp_path.iterdir()) == []
