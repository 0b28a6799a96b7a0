"""The mixture head: ideal output round trip, decoding of neighbours, the likelihood's optimum."""

import math

import numpy as np
import pytest
import torch

from structloc import Emitters, Field
from structloc.mixture import (MixtureSpec, N_MIXTURE_CHANNELS, OFFSET_RANGE_BINS, activate, decode_mixture, phase_image,
                               encode_truth, ideal_output, mixture_loss)

FIELD = Field(width_px=16, height_px=16)
SPEC = MixtureSpec(field=FIELD, upsample=2, photon_scale=10000.0)


def _truth():
    return Emitters([0, 0, 1], [123.4, 901.0, 777.7], [456.7, 1302.2, 88.8], [-612.0, 45.0, 730.0],
                    [9000.0, 12000.0, 4000.0])


def test_ideal_output_decodes_to_the_truth():
    truth = _truth()
    pred = decode_mixture(ideal_output(truth, 2, SPEC), SPEC, 0.5)
    assert len(pred) == 3
    order = np.lexsort((truth.x_nm, truth.frame))
    got = pred.take(np.lexsort((pred.x_nm, pred.frame)))
    np.testing.assert_array_equal(got.frame, truth.frame[order])
    for name in ("x_nm", "y_nm", "z_nm"):
        np.testing.assert_allclose(getattr(got, name), getattr(truth, name)[order], atol=0.01)
    np.testing.assert_allclose(got.photons, truth.photons[order], rtol=1e-3)
    assert np.all(got.score >= 0.99)


def test_neighbouring_bins_both_detected_same_bin_one():
    # 30 nm apart in adjacent 50 nm bins: both found; 10 nm apart in one bin: one
    apart = Emitters([0, 0], [240.0, 270.0], [400.0, 400.0], [0.0, 0.0], [1e4, 1e4])
    assert len(decode_mixture(ideal_output(apart, 1, SPEC), SPEC, 0.5)) == 2
    same = Emitters([0, 0], [210.0, 220.0], [400.0, 400.0], [0.0, 0.0], [1e4, 1e4])
    assert len(decode_mixture(ideal_output(same, 1, SPEC), SPEC, 0.5)) == 1
    per_pixel = MixtureSpec(field=FIELD, upsample=1)
    assert len(decode_mixture(ideal_output(apart, 1, per_pixel), per_pixel, 0.5)) == 1


def test_split_probability_is_one_detection():
    # one emitter whose probability the network shares between two bins: score 1, one localization
    raw = torch.full((1, N_MIXTURE_CHANNELS) + SPEC.shape, 0.0)
    raw[:, 0] = -20.0
    raw[0, 0, 5, 5] = math.log(0.55 / 0.45)
    raw[0, 0, 5, 6] = math.log(0.45 / 0.55)
    pred = decode_mixture(raw, SPEC, 0.5)
    assert len(pred) == 1 and pred.score[0] == pytest.approx(1.0, abs=1e-4)
    assert len(decode_mixture(raw, SPEC, 1.01)) == 0


def _output(truth: Emitters, n_frames: int, shift_bins: float = 0.0, sigma_logit: float = -3.0,
            p_scale: float = 1.0) -> torch.Tensor:
    """A prediction with the truth's bins (optionally shifted) and given sigma and probability."""
    moved = Emitters(truth.frame, truth.x_nm + shift_bins * SPEC.bin_nm, truth.y_nm, truth.z_nm, truth.photons)
    raw = ideal_output(moved, n_frames, SPEC).clone()
    p = torch.sigmoid(raw[:, 0]) * p_scale
    raw[:, 0] = torch.logit(p.clamp(1e-7, 1 - 1e-7))
    raw[:, 5:9] = sigma_logit
    return raw


def test_likelihood_is_best_at_the_truth():
    truth = _truth()
    target = encode_truth(truth, 2, SPEC)
    at_truth = float(mixture_loss(_output(truth, 2), target, SPEC))
    assert at_truth < float(mixture_loss(_output(truth, 2, shift_bins=0.3), target, SPEC))
    # the count term prefers sum(p) = n: halving every probability costs likelihood
    assert at_truth < float(mixture_loss(_output(truth, 2, p_scale=0.5), target, SPEC))
    # with the right positions, tighter sigmas are more likely
    assert float(mixture_loss(_output(truth, 2, sigma_logit=-6.0), target, SPEC)) < at_truth


def test_loss_handles_empty_frames_edges_and_weights():
    truth = Emitters([1], [0.0], [FIELD.height_nm - 1e-3], [750.0], [5000.0])  # frame 0 empty, a corner
    target = encode_truth(truth, 2, SPEC)
    assert target.shape == (2, 1, 5) and float(target[0, 0, 4]) == 0.0
    raw = torch.zeros((2, N_MIXTURE_CHANNELS) + SPEC.shape, requires_grad=True)
    loss = mixture_loss(raw, target, SPEC)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(raw.grad).all()
    # an empty frame is explained best by no detections
    quiet = torch.full((1, N_MIXTURE_CHANNELS) + SPEC.shape, -10.0)
    busy = torch.full((1, N_MIXTURE_CHANNELS) + SPEC.shape, -2.0)
    empty = torch.zeros((1, 0, 5))
    assert float(mixture_loss(quiet, empty, SPEC)) < float(mixture_loss(busy, empty, SPEC))
    weighted = mixture_loss(raw.detach(), target, SPEC, torch.tensor([0.0, 2.0]))
    # mean over frames of (0 * frame 0, 2 * frame 1) = frame 1's own loss
    assert float(weighted) == pytest.approx(float(mixture_loss(raw.detach()[1:], target[1:], SPEC)), rel=1e-5)
    with pytest.raises(ValueError, match="frame_weights"):
        mixture_loss(raw, target, SPEC, torch.ones(3))


def test_activation_ranges():
    raw = torch.randn(2, N_MIXTURE_CHANNELS, 8, 8) * 50
    p, mean, sigma = activate(raw)
    assert p.min() >= 0 and p.max() <= 1
    assert mean[:, :2].abs().max() <= OFFSET_RANGE_BINS and mean[:, 2].abs().max() <= 1
    assert sigma.min() > 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="upsample"):
        MixtureSpec(upsample=0)
    with pytest.raises(ValueError, match="shape"):
        decode_mixture(torch.zeros(1, 3, 32, 32), SPEC, 0.5)
    with pytest.raises(ValueError, match="threshold"):
        decode_mixture(torch.zeros((1, N_MIXTURE_CHANNELS) + SPEC.shape), SPEC, float("nan"))
    assert len(decode_mixture(torch.full((1, N_MIXTURE_CHANNELS) + SPEC.shape, -20.0), SPEC, 0.5)) == 0


def test_phase_image_draws_probability_and_depth():
    from structloc.plotting import grid_z_nm

    truth = _truth()
    picture = phase_image(ideal_output(truth, 2, SPEC), SPEC)
    amplitude, z = grid_z_nm(picture[0].numpy(), FIELD)
    i, j = int(truth.y_nm[0] // SPEC.bin_nm), int(truth.x_nm[0] // SPEC.bin_nm)
    assert amplitude[i, j] == pytest.approx(1.0, abs=1e-5) and z[i, j] == pytest.approx(truth.z_nm[0], abs=0.1)
    assert amplitude.sum() == pytest.approx(2.0, abs=1e-4)  # frame 0 holds two emitters
