"""The CNN: shapes, presets, parameter budgets, normalisation."""

import io

import pytest
import torch

from structloc.model import PRESETS, LocNet, ModelConfig, build_model, count_parameters, model_config


@pytest.mark.parametrize("preset", ["tiny", "small"])
def test_output_is_4x_grid_with_three_channels(preset):
    model = build_model(preset).eval()
    with torch.no_grad():
        out = model(torch.rand(2, 64, 64) * 100)
    assert out.shape == (2, 3, 256, 256)
    assert torch.isfinite(out).all()
    with torch.no_grad():
        assert model(torch.rand(1, 1, 32, 64)).shape == (1, 3, 128, 256)


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
