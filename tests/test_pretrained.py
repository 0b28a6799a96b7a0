"""The shipped models as package data: names, paths, loading, and shipping them from a training dir."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from structloc import pretrained
from structloc.checkpoint import load_checkpoint
from structloc.localize import Localizer
from structloc.psf import AstigmaticPSF
from structloc.study import model_path
from tools_module import load_tool

ROOT = Path(__file__).resolve().parents[1]
PRESET_NAMES = [f"{a}_{s}" for a in ("csr", "helix") for s in ("high", "medium", "low")]
NAMES = PRESET_NAMES + ["general"]  # the six of the study, and one trained over signal ranges


def test_all_seven_models_are_shipped_inside_the_package_with_provenance():
    assert pretrained.available() == sorted(NAMES)
    assert pretrained.MODELS_DIR.is_relative_to(Path(pretrained.__file__).parent)
    for name in PRESET_NAMES:
        assert pretrained.provenance(name)["sampler"] == name.split("_")[0]
    general = pretrained.provenance("general")
    assert general["sampler"] == "helix" and "--photons-range 1000 25000" in general["command"]


def test_the_general_model_was_trained_over_the_signal_ranges_with_the_drifting_psf():
    config = Localizer.pretrained("general").config
    assert config.photons_range == (1000.0, 25000.0) and config.background_range_photons == (10.0, 250.0)
    assert config.psf.has_drift and config.psf == AstigmaticPSF()  # the default PSF, fitted drift


def test_shipped_models_have_no_optimiser_state_and_stay_small():
    for name in NAMES:
        path = pretrained.checkpoint_path(name)
        data = load_checkpoint(path)
        assert "optimizer" not in data
        weights = sum(v.numel() * v.element_size() for v in data["model"].values())
        # the weights and little else (history, config), and "a few MB": the fast preset is ~2 MB in
        # float32, the large one 8.7 MB in float16 (tools/ship_models.py --float16)
        assert path.stat().st_size < weights + 500_000 and path.stat().st_size < 10_000_000


def test_unknown_name_is_a_one_line_error_listing_what_exists():
    with pytest.raises(ValueError, match=r"no pretrained model 'helix_huge'; available: csr_high, "):
        pretrained.checkpoint_path("helix_huge")


def test_pretrained_localizer_equals_the_training_checkpoint(tmp_path):
    shipped = Localizer.pretrained("helix_high")
    assert shipped.checkpoint.path == pretrained.checkpoint_path("helix_high")
    source = ROOT / "models" / "helix_high.pt"
    if not source.exists():
        pytest.skip("no training checkpoints in models/")
    original = load_checkpoint(source)
    if load_checkpoint(shipped.checkpoint.path).get("weights_dtype") == "float16":
        original = load_tool("ship_models").in_float16(original)  # what was shipped, rounded
    weights = shipped.model.state_dict()
    for key, value in original["model"].items():
        assert torch.equal(value.to(weights[key].dtype), weights[key]), key
    assert shipped.threshold == original["threshold"]


def test_study_defaults_to_the_packaged_models():
    assert model_path(None, "csr", "low") == pretrained.MODELS_DIR / "csr_low.pt"


def test_ship_models_strips_resume_state_atomically_and_copies_provenance(tmp_path):
    ship = load_tool("ship_models")
    src = tmp_path / "src"
    src.mkdir()
    for name in NAMES:  # a checkpoint with the resume-only states a training dir holds
        data = load_checkpoint(pretrained.checkpoint_path(name))
        torch.save({**data, "optimizer": {"state": {}}, "scaler": {}, "torch_rng": torch.zeros(3)}, src / f"{name}.pt")
        shutil.copyfile(pretrained.checkpoint_path(name).with_suffix(".json"), src / f"{name}.json")
    dest = tmp_path / "dest"
    written = ship.ship(src, dest)
    assert sorted(p.stem for p in written) == sorted(NAMES)
    shipped = load_checkpoint(dest / "csr_high.pt")
    assert not set(ship.RESUME_KEYS) & set(shipped)
    assert json.loads((dest / "csr_high.json").read_text())["sampler"] == "csr"
    assert not [p for p in dest.iterdir() if p.suffix not in (".pt", ".json")]  # no temporary files left


def test_ship_models_names_missing_checkpoints(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "ship_models.py"), str(tmp_path),
                             "--dest", str(tmp_path / "d")], capture_output=True, text=True)
    assert result.returncode == 2
    assert "lacks csr_high.pt/.json" in result.stderr


def test_a_model_trained_without_drift_shows_the_drift_as_a_bias_on_drifted_frames():
    # the real-data failure of the issue, in simulation: the shipped models learned images centred
    # on their emitters; frames whose PSF centre drifts give localizations shifted by the drift
    from structloc.evaluate import match
    from structloc.psf import AstigmaticPSF
    from structloc.sampling import MT0Sampler
    from structloc.simulate import simulate

    loc = Localizer.pretrained("csr_high")
    assert not loc.psf.has_drift  # trained before the drift existed: its checkpoint says none
    drifting = AstigmaticPSF()
    shifts = {}
    for name, psf in (("model's", loc.psf), ("drifting", drifting)):
        sim = simulate(MT0Sampler(), n_frames=24, snr="high", density_per_um2=0.1, seed=11, psf=psf)
        pred = loc(sim.frames)
        pairs = match(sim.emitters, pred)
        truth, found = sim.emitters.take(pairs.truth_index), pred.take(pairs.pred_index)
        shifts[name] = (np.mean(found.x_nm - truth.x_nm), np.mean(found.y_nm - truth.y_nm),
                        np.mean(drifting.centre_offset_nm(truth.z_nm)[1]))
    x0, y0, _ = shifts["model's"]
    x1, y1, expected_dy = shifts["drifting"]
    assert abs(x0) < 8 and abs(y0) < 8  # unbiased on the frames it was trained for
    assert expected_dy < -40 and abs((y1 - y0) - expected_dy) < 0.3 * abs(expected_dy)


def test_the_general_model_is_unbiased_on_frames_with_the_drifting_psf():
    # the drift-aware model of the issue: trained on the PSF whose centre moves with z, it places
    # emitters (not image centres) on such frames, at a signal level between the presets
    from structloc.evaluate import match
    from structloc.sampling import MT0Sampler
    from structloc.simulate import simulate
    from structloc.snr import SignalLevel

    loc = Localizer.pretrained("general")
    sim = simulate(MT0Sampler(), n_frames=24, snr=SignalLevel("between", photons=3000.0, background=100.0),
                   density_per_um2=0.1, seed=11, psf=loc.psf)
    pred = loc(sim.frames)
    pairs = match(sim.emitters, pred)
    truth, found = sim.emitters.take(pairs.truth_index), pred.take(pairs.pred_index)
    drift_y = np.mean(loc.psf.centre_offset_nm(truth.z_nm)[1])
    assert len(pairs.truth_index) > 0.6 * len(sim.emitters)
    assert drift_y < -40  # the drift it would inherit if it localized image centres
    assert abs(np.mean(found.x_nm - truth.x_nm)) < 8 and abs(np.mean(found.y_nm - truth.y_nm)) < 8


def test_ship_models_only_rewrites_the_named_models(tmp_path):
    src, dest = tmp_path / "src", tmp_path / "dest"
    src.mkdir()
    dest.mkdir()
    for name in ("general", "csr_high"):
        shutil.copyfile(pretrained.checkpoint_path(name), src / f"{name}.pt")
        shutil.copyfile(pretrained.checkpoint_path(name).with_suffix(".json"), src / f"{name}.json")
    (dest / "csr_high.pt").write_bytes(b"kept")
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "ship_models.py"), str(src), "--dest", str(dest),
                             "--only", "general"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (dest / "csr_high.pt").read_bytes() == b"kept" and load_checkpoint(dest / "general.pt")["step"] > 0


def test_ship_models_in_float16_halves_the_file_and_localizes_as_the_float32_network(tmp_path):
    ship = load_tool("ship_models")
    src = tmp_path / "src"
    src.mkdir()
    shutil.copyfile(pretrained.checkpoint_path("helix_high"), src / "helix_high.pt")
    shutil.copyfile(pretrained.checkpoint_path("helix_high").with_suffix(".json"), src / "helix_high.json")
    full = ship.ship(src, tmp_path / "f32", ["helix_high"])[0]
    half = ship.ship(src, tmp_path / "f16", ["helix_high"], float16=True)[0]
    assert half.stat().st_size < 0.55 * full.stat().st_size
    saved = load_checkpoint(half)
    assert saved["weights_dtype"] == "float16" and "weights_dtype" not in load_checkpoint(full)
    kinds = {v.dtype for v in saved["model"].values()}
    assert torch.float16 in kinds and torch.int64 in kinds  # batch-norm counters stay integers
    a, b = Localizer.from_checkpoint(full), Localizer.from_checkpoint(half)
    assert all(p.dtype == torch.float32 for p in b.model.parameters())  # cast back on load
    from structloc.evaluate import match
    from structloc.sampling import MT0Sampler
    from structloc.simulate import simulate

    sim = simulate(MT0Sampler(), n_frames=8, snr="high", density_per_um2=1.0, seed=3, psf=a.psf)
    pa, pb = a(sim.frames), b(sim.frames)
    pairs = match(pa, pb)  # the same emitters, found at the same places to well under a nanometre
    assert len(pa) > 50 and abs(len(pa) - len(pb)) <= 0.02 * len(pa)
    assert len(pairs.truth_index) >= 0.98 * len(pa)
    shift = np.hypot(pa.take(pairs.truth_index).x_nm - pb.take(pairs.pred_index).x_nm,
                     pa.take(pairs.truth_index).y_nm - pb.take(pairs.pred_index).y_nm)
    assert np.median(shift) < 0.5


def test_ship_models_keeps_in_float32_a_tensor_beyond_float16s_range():
    ship = load_tool("ship_models")
    data = load_checkpoint(pretrained.checkpoint_path("csr_low"))
    name = next(k for k, v in data["model"].items() if v.is_floating_point())
    data["model"][name] = data["model"][name] * 0 + 1e5  # rounded to float16 it would be infinite
    state = ship.in_float16(data)["model"]
    assert state[name].dtype == torch.float32 and torch.equal(state[name], data["model"][name])
    assert sum(v.dtype == torch.float16 for v in state.values()) == \
        sum(v.is_floating_point() for v in data["model"].values()) - 1
