"""Simulator: expected images, noisy frames, the batched pipeline, reproducibility and errors."""

import math

import numpy as np
import pytest
import torch

from structloc.camera import EMCCD, IdealCamera
from structloc.emitters import Emitters
from structloc.field import Field
from structloc.psf import AstigmaticPSF
from structloc import memory
from structloc.memory import MemoryBudgetError
from structloc.sampling import CSRSampler, sampler_from_name
from structloc.simulate import Simulation, simulate, simulate_expected, simulate_frames

SMALL = Field(width_px=24, height_px=20)


def _one_emitter(frame=0, x=1200.0, y=1000.0, z=0.0, photons=5000.0) -> Emitters:
    return Emitters([frame], [x], [y], [z], [photons])


def test_expected_image_conserves_photons_and_adds_background():
    field = Field(width_px=64, height_px=64)
    em = _one_emitter(x=3200.0, y=3150.0, z=300.0, photons=1234.0)
    out = simulate_expected(em, 2, field=field, background_photons=7.0, dtype=torch.float64)
    assert out.shape == (2, 64, 64)
    assert float(out[0].sum()) == pytest.approx(1234.0 + 7.0 * 64 * 64, rel=1e-9)
    assert torch.allclose(out[1], torch.full((64, 64), 7.0, dtype=torch.float64))


def test_frames_average_to_the_camera_mean_of_the_expected_image():
    em = Emitters.concat([_one_emitter(frame=f) for f in range(400)])
    cam = EMCCD()
    frames = simulate_frames(em, 400, snr="medium", camera=cam, field=SMALL,
                             generator=torch.Generator().manual_seed(0))
    expected = simulate_expected(_one_emitter(), 1, field=SMALL, background_photons=50.0, dtype=torch.float64)[0]
    mean = frames.double().mean(0)
    se = torch.as_tensor(cam.variance_adu(expected) / 400).sqrt()
    z = (mean - cam.mean_adu(expected)) / se
    assert float(z.abs().max()) < 5.5  # 480 pixels, |z| < 5.5 fails with p ~ 2e-5


def test_simulate_frames_uses_the_background_override_and_the_ideal_camera():
    frames = simulate_frames(Emitters.empty(), 300, background_photons=3.0, camera=IdealCamera(),
                             field=SMALL, generator=torch.Generator().manual_seed(1))
    se = math.sqrt(3.0 / frames.numel())
    assert abs(float(frames.double().mean()) - 3.0) < 5 * se


def test_simulate_returns_uint16_frames_and_matching_ground_truth():
    counts = np.array([0, 3, 1, 5, 2])
    sim = simulate(CSRSampler(SMALL), 5, counts=counts, seed=3, batch_size=2)
    assert isinstance(sim, Simulation)
    assert sim.frames.dtype == np.uint16 and sim.frames.shape == (5, 20, 24)
    assert np.array_equal(np.bincount(sim.emitters.frame, minlength=5), counts)
    assert sim.emitters.frame.min() >= 0 and sim.n_frames == 5
    # frames with emitters are brighter than the empty frame
    assert sim.frames[3].astype(float).sum() > sim.frames[0].astype(float).sum()


def test_same_seed_identical_frames_different_seed_different_frames():
    kw = dict(density_per_um2=2.0, batch_size=16)
    a = simulate(CSRSampler(SMALL), 40, seed=7, **kw)
    b = simulate(CSRSampler(SMALL), 40, seed=7, **kw)
    c = simulate(CSRSampler(SMALL), 40, seed=8, **kw)
    assert np.array_equal(a.frames, b.frames)
    assert np.array_equal(a.emitters.x_nm, b.emitters.x_nm)
    assert not np.array_equal(a.frames, c.frames)


def test_ground_truth_does_not_depend_on_batch_size():
    a = simulate(CSRSampler(SMALL), 30, density_per_um2=2.0, seed=2, batch_size=7)
    b = simulate(CSRSampler(SMALL), 30, density_per_um2=2.0, seed=2, batch_size=256)
    assert np.array_equal(a.emitters.xyz_nm(), b.emitters.xyz_nm())


def test_each_emitter_lands_in_its_own_frame_across_batches():
    counts = np.zeros(9, int)
    counts[[2, 6]] = 1  # frames 2 and 6 (batch 0 and 1 of size 4) hold one bright emitter each
    sim = simulate(CSRSampler(SMALL), 9, counts=counts, snr="high", camera=IdealCamera(), seed=5,
                   batch_size=4)
    totals = sim.frames.astype(float).sum(axis=(1, 2))
    assert set(np.argsort(totals)[-2:]) == {2, 6}


def test_empty_emitters_give_pure_background_and_noise():
    cam = EMCCD()
    sim = simulate(CSRSampler(SMALL), 50, counts=np.zeros(50, int), snr="low", seed=0)
    assert len(sim.emitters) == 0
    mean, var = cam.mean_adu(10.0), cam.variance_adu(10.0)
    n = sim.frames.size
    assert abs(sim.frames.mean() - mean) < 5 * math.sqrt(var / n)


def test_zero_frames_give_an_empty_stack():
    sim = simulate(CSRSampler(SMALL), 0, density_per_um2=1.0)
    assert sim.frames.shape == (0, 20, 24) and sim.frames.dtype == np.uint16
    assert len(sim.emitters) == 0
    assert simulate_frames(Emitters.empty(), 0, field=SMALL).shape == (0, 20, 24)


def test_progress_bar_runs():
    sim = simulate(CSRSampler(SMALL), 3, density_per_um2=1.0, progress=True, batch_size=1)
    assert sim.frames.shape[0] == 3


@pytest.mark.parametrize(
    "kwargs, error, word",
    [
        (dict(n_frames=-1, density_per_um2=1.0), ValueError, "n_frames"),
        (dict(n_frames=3), ValueError, "exactly one"),
        (dict(n_frames=3, density_per_um2=1.0, counts=[1, 1, 1]), ValueError, "exactly one"),
        (dict(n_frames=3, counts=[1, 1]), ValueError, "counts"),
        (dict(n_frames=3, counts=[1, -1, 1]), ValueError, "counts"),
        (dict(n_frames=3, density_per_um2=float("nan")), ValueError, "density"),
        (dict(n_frames=3, density_per_um2=1.0, batch_size=0), ValueError, "batch_size"),
        (dict(n_frames=3, density_per_um2=1.0, snr="blinding"), ValueError, "SNR"),
        (dict(n_frames=3, density_per_um2=1.0, seed=-5), ValueError, "seed"),
    ],
)
def test_simulate_rejects_bad_input(kwargs, error, word):
    with pytest.raises(error, match=word):
        simulate(CSRSampler(SMALL), **kwargs)


@pytest.mark.parametrize("name", ["csr", "helix", "mt0"])
def test_simulate_refuses_requests_too_large_before_allocating(name, monkeypatch):
    sampler = sampler_from_name(name)
    for density in (1e6, 1e9):  # once grew to 24 GB and was killed / raised numpy's MemoryError
        with pytest.raises(ValueError, match="emitters per frame on average .* at most 100,000 per frame"):
            simulate(sampler, 10, density_per_um2=density)
    with pytest.raises(MemoryBudgetError, match=r"simulating 100,000,000,000 frames of 64 x 64 px needs about"):
        simulate(sampler, 10**11, density_per_um2=1.0)
    monkeypatch.setattr(memory, "available_bytes", lambda: 8_500_000)  # 1,000 frames take 8.2 MB
    with pytest.raises(MemoryBudgetError, match=r"simulating 1,000 frames of 64 x 64 px with 5,000 emitters "
                                                r"needs about 9\.0 MB of memory but 8\.5 MB is available"):
        simulate(sampler, 1000, counts=np.full(1000, 5))
    with pytest.raises(MemoryBudgetError, match="simulating 2,000 frames of 64 x 64 px needs about 16.4 MB"):
        simulate(sampler, 2000, density_per_um2=1.0)


def test_simulate_rejects_a_non_sampler():
    with pytest.raises(TypeError, match="sampler"):
        simulate(object(), 3, density_per_um2=1.0)


def test_frame_level_functions_reject_bad_input():
    with pytest.raises(TypeError, match="Emitters"):
        simulate_frames(np.zeros((3, 5)), 3)
    with pytest.raises(ValueError, match="background"):
        simulate_expected(Emitters.empty(), 2, background_photons=-1.0)
    with pytest.raises(ValueError, match="frame"):
        simulate_expected(_one_emitter(frame=4), 2)
    with pytest.raises(TypeError, match="camera"):
        simulate_frames(Emitters.empty(), 2, camera="emccd")


def test_psf_choice_changes_the_image():
    em = _one_emitter(z=400.0)
    wide = AstigmaticPSF(sigma0_x_nm=200.0, sigma0_y_nm=200.0)
    a = simulate_expected(em, 1, field=SMALL)
    b = simulate_expected(em, 1, field=SMALL, psf=wide)
    assert float(a.max()) > float(b.max())
