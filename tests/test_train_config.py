"""TrainConfig: validation, round trips through plain python, and older checkpoints' records."""

import numpy as np
import pytest

from structloc import Field
from structloc.camera import EMCCD, SCMOS, IdealCamera
from structloc.checkpoint import load_checkpoint
from structloc.localize import Localizer
from structloc.psf import AstigmaticPSF
from structloc.train import train
from structloc.train_config import TRAIN_SAMPLERS, TrainConfig


def tiny(**kw) -> TrainConfig:
    base = dict(sampler="csr", snr="high", preset="tiny", seed=2, batch_size=2, max_steps=2, minutes=None,
                steps_per_epoch=2, warmup_steps=1, n_val_frames=2, field=Field(width_px=32, height_px=32))
    return TrainConfig(**{**base, **kw})


@pytest.mark.parametrize("camera", [EMCCD(), SCMOS(qe=0.72, offset_adu=99.0), IdealCamera(qe=0.95)])
def test_every_camera_round_trips_with_its_name(camera):
    config = tiny(camera=camera)
    data = config.to_dict()
    assert data["camera"]["camera"] == {EMCCD: "emccd", SCMOS: "scmos", IdealCamera: "ideal"}[type(camera)]
    back = TrainConfig.from_dict(data)
    assert type(back.camera) is type(camera) and back.to_dict() == data  # SCMOS compares by identity (its maps)


def test_records_without_a_camera_name_psf_drift_head_or_balance_are_older_checkpoints():
    data = tiny(psf=AstigmaticPSF().without_drift()).to_dict()
    data["camera"] = {k: v for k, v in data["camera"].items() if k != "camera"}  # as before the name was kept
    for key in ("drift_z_nm", "drift_x_nm", "drift_y_nm"):
        del data["psf"][key]
    del data["head"], data["balance_densities"]
    old = TrainConfig.from_dict(data)
    assert old.camera == EMCCD() and old.psf == AstigmaticPSF().without_drift()
    assert old.head == "grid" and old.balance_densities is False


def test_config_refuses_what_is_not_a_camera_or_a_training_sampler():
    assert TRAIN_SAMPLERS == ("csr", "helix")
    with pytest.raises(TypeError, match="camera"):
        tiny(camera={"qe": 0.9})
    with pytest.raises(ValueError, match="sampler"):
        tiny(sampler="mt0")


def test_an_scmos_model_trains_saves_and_loads_with_its_camera(tmp_path):
    camera = SCMOS(qe=0.7, offset_adu=90.0, gain_adu_per_e=0.4, read_noise_e=1.2)
    config = tiny(camera=camera)
    train(config, tmp_path / "m.pt", device="cpu", progress=False)
    assert load_checkpoint(tmp_path / "m.pt")["config"]["camera"]["camera"] == "scmos"
    localizer = Localizer.from_checkpoint(tmp_path / "m.pt", device="cpu")
    assert isinstance(localizer.camera, SCMOS) and localizer.config.to_dict() == config.to_dict()
    assert localizer.camera.offset_adu == 90.0 and localizer.camera.qe == 0.7
    assert localizer.camera_source == f"the checkpoint {tmp_path / 'm.pt'}"
    assert train(tiny(camera=camera, max_steps=4), tmp_path / "m.pt", device="cpu", progress=False).step == 4
    with pytest.raises(ValueError, match="differs in camera"):
        train(tiny(camera=EMCCD(), max_steps=6), tmp_path / "m.pt", device="cpu", progress=False)
    frames = np.full((1, 32, 32), 100, dtype=np.uint16)
    assert len(localizer(frames).x_nm) >= 0
