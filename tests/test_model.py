"""The CNN: shapes, presets, parameter budgets, normalisation."""

import io

import pytest
import torch

from structloc.model import PRESETS, LocNet, ModelConfig, build_model, count_parameters, model_config


@pytest.mark.parametrize("preset", ["tiny", "small"])
@pytest.mark.parametrize("head, channels, up", [("mixture", 9, 2), ("grid", 3, 4)])
def test_output_grid_of_each_head(preset, head, channels, up):
    model = build_model(model_config(preset, head=head)).eval()
    assert model.config.upsample == up
    with torch.no_grad():
        out = model(torch.rand(2, 64, 64) * 100)
    assert out.shape == (2, channels, 64 * up, 64 * up)
    assert torch.isfinite(out).all()
    with torch.no_grad():
        assert model(torch.rand(1, 1, 32, 64)).shape == (1, channels, 32 * up, 64 * up)


def test_mixture_head_starts_with_few_detections():
    # the probability logits start near -7: about one expected emitter per thousand bins
    model = build_model("tiny").eval()
    with torch.no_grad():
        p = torch.sigmoid(model(torch.zeros(1, 64, 64))[:, 0])
    assert 1.0 < float(p.sum()) < 100.0


def test_configs_without_a_head_are_the_grid_head():
    # checkpoints written before the mixture head existed have no "head" in their model config
    old = {k: v for k, v in model_config("small", head="grid").to_dict().items() if k != "head"}
    cfg = ModelConfig.from_dict(old)
    assert cfg.head == "grid" and cfg.upsample == 4
    with pytest.raises(ValueError, match="head"):
        ModelConfig(head="blob")


def test_preset_sizes_and_small_checkpoint_under_10_mb():
    n_small = count_parameters(build_model("small"))
    n_large = count_parameters(build_model("large"))
    assert 5e4 < n_small < 6e5
    assert 2e6 < n_large < 8e6
    buffer = io.BytesIO()
    torch.save(build_model("small").state_dict(), buffer)
    assert buffer.tell() < 10e6


def test_normalisation_removes_background_and_scales():
    model = LocNet(model_config("tiny", input_scale_photons=50.0))
    frames = torch.full((3, 64, 64), 200.0)
    frames[:, 10, 10] += 500.0
    x = model.normalise(frames)
    assert x.shape == (3, 1, 64, 64)
    assert x[:, 0, 0, 0].abs().max() == 0
    assert x[:, 0, 10, 10] == pytest.approx(torch.full((3,), 10.0))


def test_config_round_trip_and_errors():
    cfg = PRESETS["small"]
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown model preset"):
        model_config("huge")
    with pytest.raises(ValueError, match="channels"):
        ModelConfig(channels=(8,))
    with pytest.raises(ValueError, match="input_scale_photons"):
        ModelConfig(input_scale_photons=float("nan"))
    model = build_model("tiny")
    with pytest.raises(ValueError, match="shape"):
        model(torch.zeros(2, 2, 64, 64))
    with pytest.raises(ValueError, match="divisible"):
        model(torch.zeros(1, 63, 64))
