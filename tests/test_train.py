"""On-the-fly training: loss goes down, exact resume, checkpoints, NaN guard, devices, DDP."""

import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
import torch

import structloc.train as train_module
from structloc import Field
from structloc.checkpoint import FORMAT_VERSION, CheckpointError, load_checkpoint, save_checkpoint
from structloc.device import cpu_has_bf16
from structloc.train import TrainConfig, select_device, simulate_batch, train, training_counts

SMALL_FIELD = Field(width_px=32, height_px=32)


def tiny(**kw):
    base = dict(sampler="csr", snr="high", preset="tiny", seed=3, batch_size=4, max_steps=6, minutes=None,
                steps_per_epoch=3, warmup_steps=2, n_val_frames=4, field=SMALL_FIELD)
    return TrainConfig(**{**base, **kw})


def test_batches_share_everything_but_positions():
    csr, helix = tiny(sampler="csr"), tiny(sampler="helix")
    f1, t1, e1 = simulate_batch(csr, 6, [1, 0, 5])
    f2, t2, e2 = simulate_batch(helix, 6, [1, 0, 5])
    assert f1.shape == (6, 32, 32) and t1.shape == (6, max(np.bincount(e1.frame)), 5)  # the mixture head's truth
    assert simulate_batch(tiny(head="grid"), 6, [1, 0, 5])[1].shape == (6, 3, 128, 128)
    np.testing.assert_array_equal(np.bincount(e1.frame, minlength=6), np.bincount(e2.frame, minlength=6))
    np.testing.assert_array_equal(e1.photons, e2.photons)
    assert not np.array_equal(e1.x_nm, e2.x_nm)
    # same seed, same batch
    f3, _, e3 = simulate_batch(csr, 6, [1, 0, 5])
    assert torch.equal(f1, f3) and np.array_equal(e1.x_nm, e3.x_nm)


def test_density_distribution_spans_sparse_to_ultra_dense():
    cfg = TrainConfig(minutes=1.0)
    density = training_counts(cfg, 4000, np.random.default_rng(0)) / cfg.field.area_um2
    assert density.min() < 0.1 and density.max() > 10
    # log-uniform in [0.05, 15]: the median density is sqrt(0.05 * 15) = 0.87 /um^2 and the
    # mean (15 - 0.05) / ln(300) = 2.62 /um^2 (standard error of the mean of 4000 frames ~0.06)
    assert 0.75 < np.median(density) < 1.0
    assert abs(density.mean() - 2.62) < 0.25


def test_frame_weights_make_frames_count_equally():
    from structloc.train import frame_weights, target_loss

    counts = np.array([0, 2, 40, 400])
    w = frame_weights(counts)
    assert w.dtype == torch.float32 and w.shape == (4,)
    assert torch.isclose(w.mean(), torch.tensor(1.0))
    np.testing.assert_allclose((w * torch.as_tensor(1.0 + counts)).numpy(), (w[0] * 1.0).item(), rtol=1e-6)
    with pytest.raises(ValueError, match="counts"):
        frame_weights(np.array([-1, 2]))
    with pytest.raises(ValueError, match="counts"):
        frame_weights(np.array([]))
    # A loss whose per-frame error is proportional to 1 + count becomes the same for every frame.
    targets = torch.zeros(4, 3, 8, 8)
    output = torch.zeros(4, 3, 8, 8)
    output[:, 0, 0, 0] = torch.sqrt(torch.as_tensor(1.0 + counts, dtype=torch.float32))
    per_frame = [float(target_loss(output[k:k + 1], targets[k:k + 1], 0.1, 4, 0.0, w[k:k + 1])) for k in range(4)]
    np.testing.assert_allclose(per_frame, per_frame[0], rtol=1e-5)
    unweighted = float(target_loss(output, targets, 0.1, 4))
    assert abs(unweighted - float(target_loss(output, targets, 0.1, 4, 0.0, torch.ones(4)))) < 1e-6
    with pytest.raises(ValueError, match="frame_weights"):
        target_loss(output, targets, 0.1, 4, 0.0, torch.ones(3))


def test_balanced_threshold_weighs_sparse_frames():
    """Two sparse frames whose emitters score low and a dense frame scoring high: the pooled
    Jaccard index prefers a high threshold that drops the sparse frames, the group mean does not."""
    from structloc.emitters import Emitters
    from structloc.targets import TargetSpec, encode
    from structloc.train import choose_threshold

    spec = TargetSpec(field=SMALL_FIELD, sigma_bins=1.0)
    rng = np.random.default_rng(1)
    n_dense = 30
    xs = np.concatenate([[800.0], [1600.0], 200 + 400 * (np.arange(n_dense) % 7)])
    ys = np.concatenate([[800.0], [1600.0], 200 + 400 * (np.arange(n_dense) // 7)])
    frame = np.concatenate([[0], [1], np.full(n_dense, 2)])
    truth = Emitters(frame=frame, x_nm=xs + rng.uniform(-10, 10, len(xs)), y_nm=ys, z_nm=np.zeros(len(xs)),
                     photons=np.full(len(xs), 1000.0))
    grid = encode(truth, 3, spec)
    grid[:2] *= 0.3  # the sparse frames' peaks have amplitude 0.3, the dense frame's 1
    # plus false peaks of amplitude 0.5 in the dense frame, which a threshold above 0.5 removes
    fakes = Emitters(frame=np.full(6, 2), x_nm=np.full(6, 3000.0), y_nm=200 + 400 * np.arange(6) + 200,
                     z_nm=np.zeros(6), photons=np.full(6, 1000.0))
    fakes = fakes.take(fakes.y_nm < 3100)
    grid[2] += 0.5 * encode(fakes, 3, spec)[2]
    pooled, _ = choose_threshold(grid, truth, spec, grid=(0.2, 0.6))
    balanced, metrics = choose_threshold(grid, truth, spec, grid=(0.2, 0.6), n_groups=3)
    assert pooled == 0.6 and balanced == 0.2
    assert metrics["jaccard"] < 1.0  # pooled metrics at the chosen threshold, fake peaks included
    with pytest.raises(ValueError, match="n_groups"):
        choose_threshold(grid, truth, spec, n_groups=0)


def test_old_checkpoints_were_trained_unbalanced_with_the_grid_head():
    data = tiny().to_dict()
    del data["balance_densities"], data["head"]
    assert TrainConfig.from_dict(data).balance_densities is False
    assert TrainConfig.from_dict(data).head == "grid" and tiny().head == "mixture"
    assert tiny().balance_densities is True
    with pytest.raises(TypeError, match="balance_densities"):
        tiny(balance_densities=1)


@pytest.mark.parametrize("head", ["mixture", "grid"])
def test_tiny_training_lowers_the_loss(tmp_path, head):
    result = train(tiny(max_steps=24, steps_per_epoch=8, lr=3e-3, head=head), tmp_path / "m.pt", progress=False)
    losses = [h["val_loss"] for h in result.history]  # on the fixed validation frames
    assert len(losses) == 3 and losses[2] < losses[1] < losses[0] and losses[-1] < 0.9 * losses[0]
    assert result.step == 24 and 0 < result.threshold <= 1.5
    saved = load_checkpoint(tmp_path / "m.pt")
    assert saved["format_version"] == FORMAT_VERSION and saved["step"] == 24
    assert saved["config"]["sampler"] == "csr" and saved["history"][-1]["frames_seen"] == 96
    for key in ("jaccard", "rmse_vol_nm", "val_loss", "wall_s", "threshold"):
        assert key in saved["history"][-1]


def test_interrupted_training_resumes_exactly(tmp_path, monkeypatch):
    config = tiny()
    full = train(config, tmp_path / "full.pt", progress=False)

    real = train_module.simulate_batch

    def interrupted(cfg, n, seed, device="cpu"):
        if n == cfg.batch_size and seed[2] == 4:  # after the checkpoint of step 3
            raise KeyboardInterrupt
        return real(cfg, n, seed, device)

    monkeypatch.setattr(train_module, "simulate_batch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train(config, tmp_path / "part.pt", progress=False)
    assert load_checkpoint(tmp_path / "part.pt")["step"] == 3
    monkeypatch.setattr(train_module, "simulate_batch", real)
    resumed = train(config, tmp_path / "part.pt", progress=False)
    assert resumed.step == 6
    for (name, a), b in zip(full.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name
    # a checkpoint of another run is not silently resumed
    with pytest.raises(ValueError, match="different training run"):
        train(tiny(sampler="helix"), tmp_path / "part.pt", progress=False)


def test_checkpoint_saved_before_new_config_fields_resumes(tmp_path):
    """A checkpoint written before a field existed resumes: the field counts as its default."""
    config = tiny(max_steps=3)
    train(config, tmp_path / "m.pt", progress=False)
    data = load_checkpoint(tmp_path / "m.pt")
    for key in ("photons_range", "background_range_photons"):  # added after the first models
        del data["config"][key]
    save_checkpoint(tmp_path / "m.pt", data)
    assert train(tiny(max_steps=5), tmp_path / "m.pt", progress=False).step == 5
    with pytest.raises(ValueError, match="differs in photons_range"):  # a changed field still differs
        train(tiny(max_steps=6, photons_range=(1000.0, 5000.0)), tmp_path / "m.pt", progress=False)


@pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has no native bfloat16")
def test_bf16_on_cpu_runs_the_network_in_bf16_reproducibly(tmp_path, monkeypatch):
    config = tiny(bf16_on_cpu=True)
    dtypes = []
    real_step = train_module._train_step

    def watched(run, net, *args):  # the first convolution's output dtype in every training step
        hook = run.model.encoders[0].register_forward_hook(lambda m, i, o: dtypes.append(o.dtype))
        try:
            return real_step(run, net, *args)
        finally:
            hook.remove()

    monkeypatch.setattr(train_module, "_train_step", watched)
    first = train(config, tmp_path / "a.pt", progress=False)
    monkeypatch.setattr(train_module, "_train_step", real_step)
    assert dtypes == [torch.bfloat16] * config.max_steps
    assert all(np.isfinite(h["train_loss"]) for h in first.history)
    again = train(config, tmp_path / "b.pt", progress=False)
    fp32 = train(tiny(), tmp_path / "c.pt", progress=False)
    params = lambda result: torch.cat([v.flatten().float() for v in result.model.state_dict().values()])
    assert torch.equal(params(first), params(again))  # seeded: the same run twice
    assert not torch.equal(params(first), params(fp32))  # and the option changes the run
    assert load_checkpoint(tmp_path / "a.pt")["config"]["bf16_on_cpu"] is True
    with pytest.raises(ValueError, match="differs in bf16_on_cpu"):  # no silent switch on resume
        train(tiny(max_steps=9), tmp_path / "a.pt", progress=False)


def test_bf16_on_cpu_is_refused_on_a_cpu_without_bf16(tmp_path, monkeypatch):
    monkeypatch.setattr(train_module, "cpu_has_bf16", lambda: False)
    with pytest.raises(ValueError, match="needs a CPU with native bfloat16"):
        train(tiny(bf16_on_cpu=True), tmp_path / "m.pt", progress=False)
    assert not list(tmp_path.iterdir())  # refused before anything was written
    with pytest.raises(TypeError, match="bf16_on_cpu must be a bool"):
        tiny(bf16_on_cpu="yes")


def test_nan_loss_stops_with_clear_message(tmp_path):
    config = tiny(max_steps=3)
    train(config, tmp_path / "m.pt", progress=False)
    data = load_checkpoint(tmp_path / "m.pt")
    data["model"] = {k: (v * float("nan") if v.is_floating_point() else v) for k, v in data["model"].items()}
    save_checkpoint(tmp_path / "m.pt", data)
    with pytest.raises(FloatingPointError, match="loss became nan"):
        train(tiny(max_steps=6), tmp_path / "m.pt", progress=False)


def test_corrupted_and_incompatible_checkpoints(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="is not a structloc checkpoint \\(not a readable torch file"):
        load_checkpoint(tmp_path / "junk.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="not a structloc checkpoint \\(a torch file, but without"):
        load_checkpoint(tmp_path / "foreign.pt")
    payload = {"config": {}, "model": {}, "threshold": 0.5, "history": [], "step": 0}
    save_checkpoint(tmp_path / "ok.pt", payload)
    data = load_checkpoint(tmp_path / "ok.pt")
    torch.save({**data, "format_version": FORMAT_VERSION + 1}, tmp_path / "future.pt")
    with pytest.raises(CheckpointError, match="checkpoint format"):
        load_checkpoint(tmp_path / "future.pt")
    raw = (tmp_path / "ok.pt").read_bytes()
    (tmp_path / "truncated.pt").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "truncated.pt")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left


def test_config_and_device_errors():
    with pytest.raises(ValueError, match="sampler"):
        TrainConfig(sampler="mt0")
    with pytest.raises(ValueError, match="unknown SNR preset"):
        TrainConfig(snr="ultra")
    with pytest.raises(ValueError, match="budget"):
        TrainConfig(max_steps=None, minutes=None)
    with pytest.raises(ValueError, match="minutes"):
        TrainConfig(minutes=float("inf"))
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig(batch_size=0)
    assert TrainConfig.from_dict(tiny().to_dict()) == tiny()
    assert select_device("cpu") == torch.device("cpu")
    assert select_device(None).type in ("cpu", "cuda", "mps")
    with pytest.raises(ValueError, match="unknown device"):
        select_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            select_device("cuda")


def test_snapshots_are_kept_at_wall_time_points(tmp_path):
    from structloc.train import snapshot_path

    result = train(tiny(max_steps=None, minutes=0.05, steps_per_epoch=1000), tmp_path / "m.pt", progress=False,
                   snapshot_minutes=(0.01, 0.02))
    for minutes in (0.01, 0.02):
        snap = load_checkpoint(snapshot_path(tmp_path / "m.pt", minutes))
        assert snap["elapsed_s"] >= 60 * minutes and 0 < snap["step"] <= result.step
    assert snapshot_path(tmp_path / "m.pt", 2.5).name == "m.at2.5min.pt"
    with pytest.raises(ValueError, match="snapshot"):
        train(tiny(), None, progress=False, snapshot_minutes=(1.0,))


@pytest.mark.slow
def test_ddp_two_gloo_processes(tmp_path):
    script = tmp_path / "ddp.py"
    script.write_text(textwrap.dedent(f"""
        import torch
        torch.set_num_threads(1)
        from structloc import Field
        from structloc.train import TrainConfig, train
        cfg = TrainConfig(sampler="helix", preset="tiny", batch_size=2, max_steps=4, minutes=None,
                          steps_per_epoch=2, warmup_steps=1, n_val_frames=2, field=Field(32, 32))
        r = train(cfg, {str(tmp_path / 'ddp.pt')!r}, device="cpu", progress=False)
        with open({str(tmp_path)!r} + f"/rank{{r.extra['rank']}}.txt", "w") as fh:
            fh.write(f"{{r.extra['world_size']}} {{r.step}}")
    """))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with socket.socket() as sock:  # a free port (other test runs may use a fixed one)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                           "--master_addr", "127.0.0.1", "--master_port", str(port), str(script)],
                          capture_output=True, text=True, timeout=180, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert [(tmp_path / f"rank{k}.txt").read_text() for k in (0, 1)] == ["2 4", "2 4"]
    saved = load_checkpoint(tmp_path / "ddp.pt")
    assert saved["world_size"] == 2 and saved["history"][-1]["frames_seen"] == 16


def test_signal_ranges_vary_photons_and_background_per_frame():
    ranged = tiny(photons_range=(1000.0, 25000.0), background_range_photons=(10.0, 250.0),
                  density_min_per_um2=1e-4, density_max_per_um2=2e-4)  # nearly empty frames
    assert ranged.photon_scale == 25000.0 and ranged.target_spec().photon_scale == 25000.0
    frames, _, truth = simulate_batch(ranged, 64, [5, 0, 2])
    empty = np.setdiff1d(np.arange(64), truth.frame)
    level = frames[empty].mean(dim=(1, 2)).numpy()  # photon-unit frames: the mean is the background
    assert level.min() >= 10 * 0.9 and level.max() <= 250 * 1.1 and level.max() / level.min() > 4
    rich = tiny(photons_range=(1000.0, 25000.0), background_range_photons=(10.0, 250.0))
    _, _, truth = simulate_batch(rich, 32, [5, 0, 3])
    means = pd.Series(truth.photons).groupby(truth.frame).mean()
    assert means.min() > 500 and means.max() < 40000 and means.max() / means.min() > 3
    assert TrainConfig.from_dict(rich.to_dict()) == rich
    with pytest.raises(ValueError, match="photons_range"):
        tiny(photons_range=(5000.0, 1000.0))
    with pytest.raises(ValueError, match="background_range_photons"):
        tiny(background_range_photons=(0.0, 10.0))
