"""Localizer: frames or TIFF stacks to a localization table; CLI verbs; bad input."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from structloc import Emitters, Field
from structloc.cli import main
from structloc.io import write_tiff_stack
from structloc.localize import Localizer
from structloc.heads import clean_output
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
    assert loc.frame_shape == (32, 32) and loc.info["step"] == 4
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
    with pytest.raises(ValueError, match=r"shape \(n, 32, 32\)"):
        loc(np.zeros((2, 64, 64), np.uint16))
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
    assert "not a readable structloc checkpoint" in capsys.readouterr().err
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
