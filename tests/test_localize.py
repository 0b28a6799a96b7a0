"""Localizer: frames or TIFF stacks to a localization table; CLI verbs; bad input."""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from untrained import hesitant

from structloc import Emitters, Field
from structloc.camera import EMCCD, SCMOS
from structloc.checkpoint import CheckpointError
from structloc.cli import main
from structloc.evaluate import evaluate
from structloc.io import read_localizations, write_camera_file, write_tiff_stack
from structloc.localize import Localizer, _axis_tiles
from structloc.heads import clean_output
from structloc.pretrained import checkpoint_path
from structloc.sampling import CSRSampler
from structloc.simulate import simulate, simulate_frames
from structloc.sampling import sampler_from_name
from structloc.train import TrainConfig, simulate_batch, train

FIELD = Field(width_px=32, height_px=32)



@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "tiny.pt"
    config = TrainConfig(sampler="helix", preset="tiny", batch_size=4, max_steps=4, minutes=None,
                         steps_per_epoch=4, warmup_steps=1, n_val_frames=4, field=FIELD)
    train(config, path, progress=False)
    return path


@pytest.fixture(scope="module")
def frames():
    config = TrainConfig(sampler="csr", minutes=1.0, field=FIELD)
    photons_to_adu, _, truth = simulate_batch(config, 5, [9, 9, 9])
    adu = photons_to_adu * config.camera.adu_per_photon() + config.camera.mean_adu(torch.zeros(()))
    return np.round(adu.numpy()).clip(0, 65535).astype(np.uint16), truth


def test_localizer_returns_table_with_score(checkpoint, frames):
    adu, _ = frames
    loc = Localizer.from_checkpoint(checkpoint, device="cpu", batch_frames=2)
    assert loc.frame_shape == (32, 32) and loc.checkpoint.step == 4
    hesitant(loc.model)
    low = Localizer(loc.model, loc.spec, loc.camera, threshold=0.0, device="cpu", batch_frames=2)
    table = low(adu)
    assert isinstance(table, Emitters) and len(table) > 0 and table.score is not None
    df = table.to_dataframe()
    assert list(df.columns) == ["frame", "x_nm", "y_nm", "z_nm", "photons", "score"]
    assert df.frame.between(0, 4).all() and df.x_nm.between(0, FIELD.width_nm).all()
    assert df.z_nm.between(-750, 750).all()
    # batching does not change the answer; float and int frames agree; one 2-D frame works
    again = Localizer(loc.model, loc.spec, loc.camera, threshold=0.0, device="cpu", batch_frames=5)(adu.astype(np.float32))
    np.testing.assert_allclose(np.sort(again.x_nm), np.sort(table.x_nm), atol=1e-3)
    assert low(adu[0]).frame.max() == 0


def test_decoding_pipeline_recovers_perfect_network_output(checkpoint):
    """With an oracle network (it returns the targets), the Localizer finds every isolated emitter."""
    loc = Localizer.from_checkpoint(checkpoint, device="cpu")
    truth = Emitters([0, 0, 1], [500.0, 2000.0, 1234.0], [700.0, 2500.0, 1500.0], [-300.0, 400.0, 0.0],
                     [20000.0, 20000.0, 20000.0])

    class Oracle(torch.nn.Module):
        size_multiple = 1  # any frame size, as LocNet.size_multiple

        def forward(self, x):
            return clean_output(truth, 2, loc.spec)

    oracle = Localizer.__new__(Localizer)
    oracle.__dict__.update(loc.__dict__, model=Oracle(), threshold=0.5)
    pred = oracle(np.zeros((2, 32, 32), np.uint16))
    assert len(pred) == 3
    np.testing.assert_allclose(pred.sorted().z_nm, truth.z_nm, atol=5)


def test_tiff_streaming_and_cli(checkpoint, frames, tmp_path):
    adu, _ = frames
    tif = write_tiff_stack(tmp_path / "frames.tif", adu)
    loc = Localizer.from_checkpoint(checkpoint, device="cpu")
    loc.threshold = 0.0
    hesitant(loc.model)
    whole = loc(adu)
    chunked = loc.localize_tiff(tif, chunk_frames=2, progress=False)
    assert len(chunked) == len(whole)
    np.testing.assert_array_equal(np.sort(chunked.frame), np.sort(whole.frame))
    out = tmp_path / "loc.csv"
    assert main(["localize", "--model", str(checkpoint), "--frames", str(tif), "--out", str(out),
                 "--no-progress"]) == 0
    assert out.exists()


def test_train_cli_writes_model_and_provenance(tmp_path):
    out = tmp_path / "m.pt"
    assert main(["train", "--sampler", "csr", "--snr", "low", "--preset", "tiny", "--steps", "2",
                 "--batch-size", "2", "--seed", "5", "--device", "cpu", "--no-progress", "--out", str(out)]) == 0
    record = json.loads(out.with_suffix(".json").read_text())
    for key in ("command", "git_commit", "device", "wall_time_s", "seed", "final_validation", "threshold"):
        assert key in record
    assert record["seed"] == 5 and record["device"] == "cpu" and record["steps"] == 2
    assert "jaccard" in record["final_validation"]


def test_bad_input(checkpoint, tmp_path, capsys):
    loc = Localizer.from_checkpoint(checkpoint, device="cpu")
    with pytest.raises(ValueError, match=r"shape \(n, rows, columns\)"):
        loc(np.zeros((2, 1, 32, 32), np.uint16))
    with pytest.raises(ValueError, match=r"rows, columns >= 1, got \(2, 0, 32\)"):
        loc(np.zeros((2, 0, 32), np.uint16))
    with pytest.raises(TypeError, match="dtype"):
        loc(np.zeros((2, 32, 32), dtype=complex))
    with pytest.raises(TypeError, match="dtype"):
        loc(np.full((2, 32, 32), "a"))
    bad = np.zeros((2, 32, 32), np.float32)
    bad[1, 3, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        loc(bad)
    empty = loc(np.zeros((0, 32, 32), np.uint16))
    assert len(empty) == 0 and empty.score is not None
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"\x00" * 100)
    assert main(["localize", "--model", str(junk), "--frames", "x.tif", "--out", str(tmp_path / "o.csv")]) == 2
    assert "junk.pt is not a structloc checkpoint" in capsys.readouterr().err
    with pytest.raises(CheckpointError, match=r"junk.pt is not a structloc checkpoint \(not a readable torch file"):
        Localizer.from_checkpoint(junk)
    torch.save({"weights": torch.zeros(2)}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="foreign.pt is not a structloc checkpoint"):
        Localizer.from_checkpoint(tmp_path / "foreign.pt")
    with pytest.raises(TypeError, match="camera must be a structloc.camera.Camera"):
        Localizer(loc.model, loc.spec, "scmos", threshold=0.5)
    with pytest.raises(FileNotFoundError):
        Localizer.from_checkpoint(tmp_path / "nope.pt")
    with pytest.raises(FileNotFoundError):
        loc.localize_tiff(tmp_path / "nope.tif", progress=False)
    (tmp_path / "bad.tif").write_bytes(b"II*\x00garbage")
    with pytest.raises(ValueError):
        loc.localize_tiff(tmp_path / "bad.tif", progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tifffile: zero-size arrays make non-conformant TIFFs
        empty_tif = write_tiff_stack(tmp_path / "empty.tif", np.zeros((0, 32, 32), np.uint16))
        assert len(loc.localize_tiff(empty_tif, progress=False)) == 0


# -- a user's camera and frame size -------------------------------------------------------------
#: An sCMOS camera unlike every default (offset 400 ADU, not 100), so only the given values work.
USER_SCMOS = SCMOS(qe=0.75, offset_adu=400.0, gain_adu_per_e=0.45, read_noise_e=1.5)
SCMOS_FLAGS = ["--camera", "scmos", "--qe", "0.75", "--offset-adu", "400", "--gain-adu-per-e", "0.45",
               "--read-noise-e", "1.5"]


@pytest.fixture(scope="module")
def scmos_stack(tmp_path_factory):
    """8 sCMOS frames of 96 x 80 px (width x height; training frames are 64 x 64), high SNR, sparse."""
    field = Field(width_px=96, height_px=80)
    psf = Localizer.pretrained("csr_high").psf  # the PSF the model was trained on
    sim = simulate(CSRSampler(field=field), 8, snr="high", density_per_um2=0.3, camera=USER_SCMOS, seed=1, psf=psf)
    assert sim.frames.shape == (8, 80, 96)
    return write_tiff_stack(tmp_path_factory.mktemp("scmos") / "scmos.tif", sim.frames), sim


def _localize(argv, tmp_path, capsys, name):
    out = tmp_path / name
    assert main(["localize", "--model", str(checkpoint_path("csr_high")), "--no-progress", "--out", str(out)]
                + argv) == 0
    return read_localizations(out), capsys.readouterr().out


def test_cli_localizes_scmos_frames_of_another_size(scmos_stack, tmp_path, capsys):
    tif, sim = scmos_stack
    pred, log = _localize(["--frames", str(tif)] + SCMOS_FLAGS, tmp_path, capsys, "scmos.csv")
    assert ("camera: scmos (qe=0.75, offset_adu=400, gain_adu_per_e=0.45, read_noise_e=1.5, bit_depth=16), "
            "from --camera scmos\n") in log
    right = evaluate(sim.emitters, pred)
    # the model's own level on its 64 x 64 EMCCD training frames at this density is JI ~0.66
    assert right.jaccard > 0.55 and right.rmse_lat_nm < 60 and right.rmse_ax_nm < 60, right
    assert pred.x_nm.max() > 8000 and pred.y_nm.max() > 7000  # the whole 9.6 x 8 um field is searched
    assert 0.85 < np.median(pred.photons) / np.median(sim.emitters.photons) < 1.2
    # the same camera from a file (JSON or TOML) gives the same table
    camera_file = write_camera_file(tmp_path / "camera.json", USER_SCMOS)
    from_file, log = _localize(["--frames", str(tif), "--camera-file", str(camera_file)], tmp_path, capsys, "f.csv")
    assert f"from the camera file {camera_file}" in log
    np.testing.assert_allclose(from_file.x_nm, pred.x_nm, atol=1e-3)
    # the wrong camera (the checkpoint's EMCCD, the default) reads these ADU as ~18x fewer photons
    wrong, log = _localize(["--frames", str(tif)], tmp_path, capsys, "wrong.csv")
    assert f"camera: emccd (qe=0.9, em_gain=300, read_noise_e=74.4, spurious_e=0.002, e_per_adu=45, " \
           f"baseline_adu=100, bit_depth=16), from the checkpoint {checkpoint_path('csr_high')}" in log
    assert evaluate(sim.emitters, wrong).jaccard < 0.5 * right.jaccard
    # most emitters fall below detection; where enough are found for a median, they read dim
    assert len(wrong) < 0.1 * len(pred), (len(wrong), len(pred))
    assert len(wrong) < 5 or np.median(wrong.photons) < 0.3 * np.median(pred.photons)


def test_odd_frame_sizes_keep_coordinates(tmp_path, capsys):
    """45 x 37 px frames (neither a multiple of the network's 8 px): emitters are found where they are,
    also 150 nm from the right and bottom edges (a padded frame put those ~110 nm off)."""
    field = Field(width_px=45, height_px=37)
    n = 6
    xy = np.array([[1234.0, 2345.0], [4350.0, 3550.0], [2210.0, 640.0]])
    truth = Emitters(np.repeat(np.arange(n), 3), np.tile(xy[:, 0], n), np.tile(xy[:, 1], n),
                     np.tile([100.0, -200.0, 300.0], n), np.full(3 * n, 20000.0))
    adu = simulate_frames(truth, n, snr="high", camera=USER_SCMOS, field=field,
                          psf=Localizer.pretrained("csr_high").psf,  # the PSF the model was trained on
                          generator=torch.Generator().manual_seed(0)).numpy().astype(np.uint16)
    tif = write_tiff_stack(tmp_path / "odd.tif", adu)
    pred, _ = _localize(["--frames", str(tif)] + SCMOS_FLAGS, tmp_path, capsys, "odd.csv")
    metrics = evaluate(truth, pred, lateral_tol_nm=100.0, axial_tol_nm=150.0)
    assert metrics.recall >= 0.9 and metrics.precision >= 0.9 and metrics.rmse_lat_nm < 40, metrics
    for x, y in xy:  # each position on its own, in most frames
        near = np.hypot(pred.x_nm - x, pred.y_nm - y) < 60
        assert near.sum() >= n - 1, (x, y, pred.to_dataframe())


def test_axis_tiles_cover_every_pixel_once():
    assert _axis_tiles(64, 8) == ([(0, 64, 0, 64)], 64)
    assert _axis_tiles(5, 8) == ([(0, 8, 0, 5)], 8)  # smaller than one stride: padded
    for length in (9, 37, 45, 63, 101):
        tiles, padded = _axis_tiles(length, 8)
        assert padded == length and len(tiles) == 2
        covered = np.concatenate([np.arange(k0, k1) for _, _, k0, k1 in tiles])
        np.testing.assert_array_equal(covered, np.arange(length))
        for start, crop, k0, k1 in tiles:
            assert crop % 8 == 0 and 0 <= start <= k0 < k1 <= start + crop <= length


def test_camera_options_errors(scmos_stack, tmp_path, capsys):
    tif, _ = scmos_stack
    base = ["localize", "--model", str(checkpoint_path("csr_high")), "--frames", str(tif), "--out", str(tmp_path / "o.csv")]
    camera_file = write_camera_file(tmp_path / "c.json", EMCCD())
    for extra, message in [
        (["--camera", "scmos", "--em-gain", "200"], "--em-gain does not apply to --camera scmos; its options are "
                                                    "--qe, --offset-adu, --gain-adu-per-e, --read-noise-e, --bit-depth"),
        (["--qe", "0.9"], "--qe needs --camera {emccd,scmos,ideal}"),
        (["--camera-file", str(camera_file), "--camera", "ideal"], "--camera cannot be combined with --camera-file"),
        (["--camera", "emccd", "--qe", "1.5"], "EMCCD.qe must be in (0, 1], got 1.5"),
        (["--camera", "ccd"], "invalid choice: 'ccd'"),
        (["--camera-file", str(tif)], "is a TIFF image, not a JSON or TOML text file"),
    ]:
        assert main(base + extra) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and message in err, (extra, err)
    assert not (tmp_path / "o.csv").exists()


def test_frame_size_and_camera_are_documented_in_help(capsys):
    assert main(["localize", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for fragment in ("of any size", "not a multiple of the network's strides", "overlapping crops",
                     "--camera {emccd,scmos,ideal}", "--camera-file", "--baseline-adu", "--e-per-adu", "--em-gain",
                     "--qe", "--offset-adu", "--gain-adu-per-e", "training camera stored in the checkpoint"):
        assert fragment in text, fragment


def test_large_frames_run_fewer_per_call_with_the_same_result(checkpoint):
    loc = Localizer.from_checkpoint(checkpoint, device="cpu", batch_frames=4)
    assert [loc.frames_per_call(*hw) for hw in ((64, 64), (32, 32), (80, 96), (2048, 2048))] == [4, 4, 2, 1]
    loc.threshold = 0.0
    hesitant(loc.model)
    frames = np.random.default_rng(3).poisson(600, (5, 80, 96)).astype(np.uint16)
    together = loc(frames)
    one = Localizer(loc.model, loc.spec, loc.camera, threshold=0.0, device="cpu", batch_frames=1)(frames)
    assert len(together) > 0
    np.testing.assert_array_equal(np.bincount(together.frame), np.bincount(one.frame))
    # The network outputs agree to float rounding; the decoder's clusters take bins in order of
    # probability, so on an untrained net's nearly uniform map a rounding-level tie can move a bin
    # to another cluster. All but a handful of localizations must be identical.
    def keys(e):
        return set(zip(e.frame.tolist(), np.round(e.x_nm, 2).tolist(), np.round(e.y_nm, 2).tolist(),
                       np.round(e.z_nm, 2).tolist()))
    shared = len(keys(together) & keys(one))
    assert shared >= 0.99 * len(together), (shared, len(together))


def test_running_a_model_or_the_study_does_not_import_the_trainer():
    import subprocess
    import sys

    code = ("import sys, structloc.localize, structloc.study; "
            "assert 'structloc.train' not in sys.modules, sorted(m for m in sys.modules if m.startswith('structloc'))")
    root = Path(__file__).resolve().parents[1]  # this checkout's structloc
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=root)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_a_loaded_localizer_keeps_its_typed_training_config():
    localizer = Localizer.pretrained("helix_high", device="cpu")
    assert isinstance(localizer.config, TrainConfig) and localizer.config.sampler == "helix"
    assert localizer.psf == localizer.config.psf and localizer.checkpoint.config == localizer.config
    assert localizer.checkpoint.path == checkpoint_path("helix_high")


def test_cli_takes_a_shipped_model_by_name(scmos_stack, tmp_path, capsys):
    tif, _ = scmos_stack
    by_path, _ = _localize(["--frames", str(tif)] + SCMOS_FLAGS, tmp_path, capsys, "path.csv")
    out = tmp_path / "name.csv"
    assert main(["localize", "--model", "csr_high", "--no-progress", "--frames", str(tif), "--out", str(out)]
                + SCMOS_FLAGS) == 0
    by_name = read_localizations(out)
    assert len(by_name) == len(by_path) > 0 and np.array_equal(by_name.x_nm, by_path.x_nm)


def test_a_model_that_is_neither_file_nor_shipped_is_a_one_line_error(tmp_path, capsys):
    assert main(["localize", "--model", "helix_huge", "--frames", "x.tif", "--out", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert "no such model checkpoint: helix_huge (nor a shipped model: csr_high, " in err and "\n" not in err
    assert not (tmp_path / "o.csv").exists()


def test_expected_counts_are_the_summed_probability_per_frame(checkpoint, frames):
    adu, _ = frames
    loc = Localizer.from_checkpoint(checkpoint, device="cpu", batch_frames=2)
    hesitant(loc.model)
    counts = loc.expected_counts(adu)
    assert counts.shape == (5,) and counts.dtype == np.float64
    with torch.no_grad():
        raw = loc.model(loc.camera.to_photons(torch.from_numpy(adu.astype(np.float32))))
    np.testing.assert_allclose(counts, torch.sigmoid(raw[:, 0]).sum(dim=(1, 2)).double().numpy(), rtol=1e-5)
    assert loc.expected_counts(adu[:0]).shape == (0,)


def test_a_trained_model_counts_in_proportion_to_the_truth():
    """The count term of the loss trains the summed probability towards the true count: on frames
    of its own kind a shipped model's expected count is within 30 % of the truth, and the same
    fraction of it at 0.2 and 2 /um^2 (emitters it cannot detect, near the edges or deep, are
    missed at any density; over-counting in crowds would raise the dense ratio)."""
    loc = Localizer.pretrained("helix_medium", device="cpu")
    ratios = []
    for density in (0.2, 2.0):
        sim = simulate(sampler_from_name("helix"), 16, snr="medium", density_per_um2=density, seed=4, psf=loc.psf)
        ratios.append(loc.expected_counts(sim.frames).sum() / len(sim.emitters))
    assert all(0.7 < r < 1.3 for r in ratios) and abs(ratios[1] - ratios[0]) < 0.1, ratios


def test_expected_counts_refuse_a_grid_head(tmp_path, frames):
    path = tmp_path / "grid.pt"
    train(TrainConfig(sampler="csr", preset="tiny", head="grid", batch_size=2, max_steps=1, minutes=None,
                      steps_per_epoch=1, warmup_steps=1, n_val_frames=2, field=FIELD), path, progress=False)
    with pytest.raises(ValueError, match="mixture-head"):
        Localizer.from_checkpoint(path, device="cpu").expected_counts(frames[0])


def test_bfloat16_inference_localizes_as_float32_on_a_cpu_with_native_bf16():
    from structloc.device import cpu_has_bf16
    from structloc.evaluate import match
    from structloc.sampling import MT0Sampler

    if not cpu_has_bf16():
        pytest.skip("this CPU has no native bfloat16 (the refusal is tested below)")
    full = Localizer.pretrained("helix_high", device="cpu")
    half = Localizer.pretrained("helix_high", device="cpu", precision="bfloat16")
    sim = simulate(MT0Sampler(), 16, snr="high", density_per_um2=0.5, seed=4, psf=full.psf)
    a, b = full(sim.frames), half(sim.frames)
    pairs = match(a, b)
    assert len(a) > 50 and len(pairs.truth_index) >= 0.97 * max(len(a), len(b))
    moved = np.hypot(a.x_nm[pairs.truth_index] - b.x_nm[pairs.pred_index],
                     a.y_nm[pairs.truth_index] - b.y_nm[pairs.pred_index])
    assert 0 < np.median(moved) < 2.0  # not float32's numbers, but the same emitters to ~a nanometre
    assert abs(evaluate(sim.emitters, a).jaccard - evaluate(sim.emitters, b).jaccard) < 0.02


def test_bfloat16_is_refused_where_it_would_be_emulated(checkpoint, tmp_path, monkeypatch, capsys):
    import structloc.localize as localize

    with pytest.raises(ValueError, match="precision must be one of"):
        Localizer.from_checkpoint(checkpoint, device="cpu", precision="float16")
    monkeypatch.setattr(localize, "cpu_has_bf16", lambda: False)
    with pytest.raises(ValueError, match=r"^precision 'bfloat16' needs a CPU with native bfloat16"):
        Localizer.from_checkpoint(checkpoint, device="cpu", precision="bfloat16")
    out = tmp_path / "o.csv"
    assert main(["localize", "--model", str(checkpoint), "--frames", "x.tif", "--out", str(out),
                 "--device", "cpu", "--precision", "bfloat16"]) == 2
    err = capsys.readouterr().err.strip()
    assert "needs a CPU with native bfloat16" in err and "\n" not in err and not out.exists()
