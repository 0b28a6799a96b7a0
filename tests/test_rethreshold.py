"""Re-choosing a checkpoint's threshold: the training's own choice is reproduced, the tool keeps
everything else of the checkpoint and records what it changed."""

import json

import pytest
import torch

from tools_module import load_tool

from structloc import Field
from structloc.checkpoint import Checkpoint, load_checkpoint
from structloc.provenance import training_provenance
from structloc.train import TrainConfig, train
from structloc.validation import rechoose_threshold

rethreshold = load_tool("rethreshold")


def _trained(tmp_path, head: str):
    config = TrainConfig(sampler="csr", snr="high", preset="tiny", seed=5, batch_size=4, max_steps=16,
                         minutes=None, steps_per_epoch=8, warmup_steps=2, n_val_frames=8, lr=3e-3,
                         field=Field(width_px=32, height_px=32), head=head)
    path = tmp_path / "m.pt"
    result = train(config, path, progress=False)
    path.with_suffix(".json").write_text(json.dumps(training_provenance(result, ["structloc", "train", "(test)"])))
    return path, result


@pytest.mark.parametrize("head", ["grid", "mixture"])
def test_rechosen_threshold_is_the_trainings_own_choice(tmp_path, head):
    """Same decoder, same validation frames: the threshold and metrics training stored come back."""
    torch.set_num_threads(1)
    path, result = _trained(tmp_path, head)
    threshold, metrics = rechoose_threshold(Checkpoint.load(path))
    assert threshold == result.threshold
    last = result.history[-1]
    for key in ("jaccard", "rmse_vol_nm"):
        assert metrics[key] == pytest.approx(last[key], rel=1e-9, nan_ok=True)


def test_tool_rewrites_threshold_and_provenance_only(tmp_path, monkeypatch):
    path, result = _trained(tmp_path, "grid")
    before = load_checkpoint(path)
    monkeypatch.setattr(rethreshold, "rechoose_threshold", lambda checkpoint: (0.35, {
        "jaccard": 0.5, "rmse_lat_nm": 1.0, "rmse_ax_nm": 2.0, "rmse_vol_nm": 3.0, "efficiency_3d": 0.1}))
    assert rethreshold.main([str(path)]) == 0
    after = load_checkpoint(path)
    assert after["threshold"] == 0.35 and after["step"] == before["step"]
    assert set(after) == set(before) and "optimizer" in after  # still resumable
    for name, tensor in before["model"].items():
        assert torch.equal(tensor, after["model"][name])
    record = json.loads(path.with_suffix(".json").read_text())
    assert record["threshold"] == 0.35 and record["final_validation"]["jaccard"] == 0.5
    assert record["threshold_rechosen"]["previous_threshold"] == result.threshold


def test_tool_refuses_a_checkpoint_without_provenance(tmp_path, capsys):
    path, _ = _trained(tmp_path, "grid")
    path.with_suffix(".json").unlink()
    data = path.read_bytes()
    assert rethreshold.main([str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rethreshold:") and "provenance" in err and len(err.splitlines()) == 1
    assert path.read_bytes() == data
