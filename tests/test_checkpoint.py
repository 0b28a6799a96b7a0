"""The typed checkpoint: what a trained network was trained on, read back from its file."""

import pytest
import torch

from structloc import Field
from structloc.checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from structloc.localize import Localizer
from structloc.model import LocNet
from structloc.train import TrainConfig, train

FIELD = Field(width_px=32, height_px=32)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "tiny_csr.pt"
    config = TrainConfig(sampler="csr", snr="medium", preset="tiny", batch_size=4, max_steps=6, minutes=None,
                         steps_per_epoch=3, warmup_steps=1, n_val_frames=4, field=FIELD)
    result = train(config, path, progress=False)
    return path, config, result


def test_load_types_what_training_wrote(trained):
    path, config, result = trained
    ckpt = Checkpoint.load(path)
    raw = load_checkpoint(path)
    assert ckpt.path == path and ckpt.config == config and ckpt.step == 6 == raw["step"]
    assert len(ckpt.history) == 2 and ckpt.history[-1]["step"] == 6  # a validation every 3 steps
    assert ckpt.threshold == raw["threshold"] and ckpt.elapsed_s == pytest.approx(raw["elapsed_s"])
    assert ckpt.n_parameters == sum(p.numel() for p in result.model.parameters())
    assert ckpt.frames_seen == ckpt.history[-1]["frames_seen"] == 6 * 4
    assert ckpt.last_validation == ckpt.history[-1]


def test_network_reproduces_the_trained_one(trained):
    path, _, result = trained
    network = Checkpoint.load(path).network()
    assert isinstance(network, LocNet) and not network.training
    x = torch.rand(2, 1, 32, 32)
    with torch.no_grad():
        assert torch.equal(network(x), result.model.eval()(x))


def test_summary_row_quotes_the_checkpoint(trained):
    path, _, _ = trained
    ckpt = Checkpoint.load(path)
    row = ckpt.summary()
    assert (row["model"], row["sampler"], row["snr"], row["preset"], row["head"]) == (
        "tiny_csr", "csr", "medium", "tiny", "mixture")
    assert row["steps"] == 6 and row["training frames"] == 24 and row["threshold"] == ckpt.threshold
    assert row["validation JI"] == round(ckpt.history[-1]["jaccard"], 3)


def test_localizer_keeps_its_checkpoint(trained):
    path, config, _ = trained
    localizer = Localizer.from_checkpoint(path, device="cpu")
    assert localizer.checkpoint.path == path and localizer.checkpoint.step == 6 and localizer.config == config
    assert localizer.threshold == localizer.checkpoint.threshold


def test_checkpoint_without_a_network_is_a_one_line_error(trained, tmp_path):
    path, _, _ = trained
    data = load_checkpoint(path)
    del data["model_config"]
    save_checkpoint(tmp_path / "no_arch.pt", data)
    with pytest.raises(CheckpointError, match=r"no_arch\.pt: checkpoint does not match") as info:
        Checkpoint.load(tmp_path / "no_arch.pt")
    assert "\n" not in str(info.value)


def test_weights_of_another_shape_are_a_one_line_error(trained, tmp_path):
    path, _, _ = trained
    data = load_checkpoint(path)
    name = next(iter(data["model"]))
    data["model"][name] = torch.zeros(3, 3, 3, 3, 3)
    save_checkpoint(tmp_path / "reshaped.pt", data)
    ckpt = Checkpoint.load(tmp_path / "reshaped.pt")  # the record loads; the weights do not fit
    with pytest.raises(CheckpointError, match=r"reshaped\.pt: weights do not fit") as info:
        ckpt.network()
    assert "\n" not in str(info.value)
    with pytest.raises(CheckpointError, match="weights do not fit"):
        Localizer.from_checkpoint(tmp_path / "reshaped.pt", device="cpu")
