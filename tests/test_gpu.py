"""The CUDA code paths: simulation, mixed-precision training, checkpoints across devices, inference.

Skipped where no CUDA device is present (CI has none); ``tools/gpu_check.sh`` runs them on a
lent GPU together with the GPU benchmark and a short CUDA training.
"""

import numpy as np
import pytest
import torch

from untrained import hesitant

from structloc import Field
from structloc.checkpoint import load_checkpoint
from structloc.emitters import Emitters
from structloc.evaluate import match
from structloc.localize import Localizer
from structloc.simulate import simulate_expected, simulate_frames
from structloc.train import TrainConfig, _amp, train

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

SMALL_FIELD = Field(width_px=32, height_px=32)


def tiny(**kw):
    base = dict(sampler="csr", snr="high", preset="tiny", seed=3, batch_size=8, max_steps=40, minutes=None,
                steps_per_epoch=20, warmup_steps=4, n_val_frames=8, field=SMALL_FIELD, lr=3e-3)
    return TrainConfig(**{**base, **kw})


def _emitters(n=40, n_frames=4, seed=0):
    rng = np.random.default_rng(seed)
    return Emitters(rng.integers(0, n_frames, n), rng.uniform(300, 2900, n), rng.uniform(300, 2900, n),
                    rng.uniform(-600, 600, n), rng.uniform(2000, 8000, n))


def test_expected_image_on_cuda_equals_cpu_and_conserves_photons():
    emitters = _emitters()
    cpu = simulate_expected(emitters, 4, field=SMALL_FIELD, device="cpu", dtype=torch.float64)
    gpu = simulate_expected(emitters, 4, field=SMALL_FIELD, device="cuda", dtype=torch.float64)
    assert gpu.device.type == "cuda"
    np.testing.assert_allclose(gpu.cpu().numpy(), cpu.numpy(), rtol=1e-9, atol=1e-9)
    # Emitters well inside the field: nearly all photons land on the camera (the widest PSF's tails
    # at -600 nm leave the 3.2 um field by a few per cent at most).
    per_frame = np.bincount(emitters.frame, weights=emitters.photons, minlength=4)
    kept = gpu.sum(dim=(1, 2)).cpu().numpy() / per_frame
    assert np.all((kept > 0.9) & (kept <= 1.0 + 1e-9))


def test_interpolated_psf_renders_the_same_on_cuda_and_is_deterministic_there():
    from structloc.interpolated_psf import InterpolatedPSF

    psf = InterpolatedPSF.from_beads()
    emitters = _emitters()
    cpu = simulate_expected(emitters, 4, field=SMALL_FIELD, psf=psf, device="cpu", dtype=torch.float64)
    gpu = [simulate_expected(emitters, 4, field=SMALL_FIELD, psf=psf, device="cuda", dtype=torch.float64)
           for _ in range(2)]
    assert gpu[0].device.type == "cuda" and torch.equal(gpu[0], gpu[1])
    np.testing.assert_allclose(gpu[0].cpu().numpy(), cpu.numpy(), rtol=1e-9, atol=1e-9)


def test_noisy_frames_on_cuda_have_the_cpu_moments():
    emitters = Emitters.empty()  # background only: the camera's mean and variance are known
    gens = {d: torch.Generator(device=d).manual_seed(5) for d in ("cpu", "cuda")}
    # 256 frames of 32 x 32 pixels: the sample mean and variance have relative standard errors well
    # below 1 %, so the 2 % tolerance leaves room for the two devices' different random streams.
    frames = {d: simulate_frames(emitters, 256, snr="medium", field=SMALL_FIELD, generator=gens[d], device=d)
              .double().cpu() for d in gens}
    for stat in (torch.mean, torch.var):
        a, b = stat(frames["cpu"]).item(), stat(frames["cuda"]).item()
        assert abs(a - b) < 0.02 * abs(a), (stat.__name__, a, b)


def test_amp_picks_bf16_or_fp16_with_a_scaler():
    dtype, scaler = _amp(torch.device("cuda"), TrainConfig(sampler="csr", snr="high"))
    if torch.cuda.is_bf16_supported():
        assert dtype is torch.bfloat16 and scaler is None
    else:
        assert dtype is torch.float16 and scaler is not None


def test_mixed_precision_training_on_cuda_learns_and_loads_on_the_cpu(tmp_path):
    result = train(tiny(), tmp_path / "m.pt", device="cuda", progress=False)
    assert result.device.startswith("cuda") and result.step == 40
    losses = [h["train_loss"] for h in result.history]
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]
    saved = load_checkpoint(tmp_path / "m.pt")  # written from CUDA, read on the CPU
    assert all(t.device.type == "cpu" for t in saved["model"].values())
    # Resume on CUDA with a larger budget continues from step 40.
    longer = train(tiny(max_steps=60), tmp_path / "m.pt", device="cuda", progress=False)
    assert longer.step == 60 and len(longer.history) == 3


def test_localizer_on_cuda_agrees_with_the_cpu(tmp_path):
    train(tiny(), tmp_path / "m.pt", device="cuda", progress=False)
    emitters = _emitters(n=30, n_frames=6, seed=1)
    frames = simulate_frames(emitters, 6, snr="high", field=SMALL_FIELD,
                             generator=torch.Generator().manual_seed(2)).cpu().numpy()
    # A low threshold, so that the barely trained network gives plenty of peaks to compare.
    localizers = [Localizer.from_checkpoint(tmp_path / "m.pt", device=d) for d in ("cpu", "cuda")]
    for localizer in localizers:
        localizer.threshold = 0.05
        hesitant(localizer.model)
    cpu, gpu = (localizer(frames) for localizer in localizers)
    assert len(cpu) >= 10
    assert abs(len(cpu) - len(gpu)) <= max(1, len(cpu) // 20)  # fp32 vs TF32 rounding near the threshold
    m = match(cpu, gpu, lateral_tol_nm=5.0, axial_tol_nm=10.0)
    assert m.tp >= 0.95 * min(len(cpu), len(gpu))


def test_a_shipped_network_in_bfloat16_on_cuda_finds_the_cpus_emitters():
    from structloc.evaluate import evaluate
    from structloc.sampling import MT0Sampler
    from structloc.simulate import simulate

    if not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bfloat16")
    cpu = Localizer.pretrained("helix_high", device="cpu")
    gpu = Localizer.pretrained("helix_high", device="cuda", precision="bfloat16")
    sim = simulate(MT0Sampler(), 16, snr="high", density_per_um2=0.5, seed=4, psf=cpu.psf)
    a, b = cpu(sim.frames), gpu(sim.frames)
    m = match(a, b, lateral_tol_nm=5.0, axial_tol_nm=10.0)
    assert len(a) > 50 and m.tp >= 0.95 * max(len(a), len(b))
    assert abs(evaluate(sim.emitters, a).jaccard - evaluate(sim.emitters, b).jaccard) < 0.02
