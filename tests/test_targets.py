"""Target encoding on the 4x grid and decoding back to localizations."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from scipy.spatial import cKDTree

from structloc import Emitters, Field
from structloc.targets import N_TARGET_CHANNELS, TargetSpec, decode, encode, phase_to_z, z_to_phase


def _isolated(n, n_frames, seed, min_sep_nm=250.0, margin_nm=60.0, field=Field()):
    rng = np.random.default_rng(seed)
    e = Emitters(rng.integers(0, n_frames, n), rng.uniform(margin_nm, field.width_nm - margin_nm, n),
                 rng.uniform(margin_nm, field.height_nm - margin_nm, n), rng.uniform(-750, 750, n),
                 rng.uniform(500, 40000, n))
    pts = np.c_[e.frame * 1e6, e.x_nm, e.y_nm]
    dist, _ = cKDTree(pts).query(pts, k=2)
    return e.take(dist[:, 1] > min_sep_nm)


def _nearest(truth, pred):
    _, idx = cKDTree(np.c_[truth.frame * 1e6, truth.x_nm, truth.y_nm]).query(
        np.c_[pred.frame * 1e6, pred.x_nm, pred.y_nm])
    return truth.take(idx)


def test_phase_maps_axial_range_onto_half_turn():
    field = Field()
    assert z_to_phase(-750.0, field) == pytest.approx(0.0)
    assert z_to_phase(750.0, field) == pytest.approx(math.pi)
    z = np.linspace(-750, 750, 7)
    np.testing.assert_allclose(phase_to_z(z_to_phase(z, field), field), z)


def test_encode_then_decode_recovers_positions_below_5_nm():
    truth = _isolated(600, 30, seed=1)
    grid = encode(truth, 30)
    assert grid.shape == (30, N_TARGET_CHANNELS, 256, 256)
    pred = decode(grid, TargetSpec(), threshold=0.5)
    assert len(pred) == len(truth)
    match = _nearest(truth, pred)
    for col in ("x_nm", "y_nm", "z_nm"):
        assert np.max(np.abs(getattr(pred, col) - getattr(match, col))) < 5.0
    np.testing.assert_allclose(pred.photons, match.photons, rtol=1e-3)
    assert np.all(pred.score > 0.7) and np.all(pred.score <= 1.0 + 1e-6)


@settings(max_examples=15, deadline=None)
@given(x=st.floats(100, 6300), y=st.floats(100, 6300), z=st.floats(-750, 750),
       sigma=st.floats(0.7, 2.0))
def test_single_emitter_round_trip(x, y, z, sigma):
    spec = TargetSpec(sigma_bins=sigma)
    truth = Emitters([0], [x], [y], [z], [1000.0])
    pred = decode(encode(truth, 1, spec), spec, threshold=0.3)
    assert len(pred) == 1
    assert abs(pred.x_nm[0] - x) < 5 and abs(pred.y_nm[0] - y) < 5 and abs(pred.z_nm[0] - z) < 5


def test_blob_peak_and_mass():
    spec = TargetSpec()
    # at a bin centre the peak is exactly 1 and the blob mass is 2 pi sigma^2 bins
    truth = Emitters([0], [12.5 + 25 * 100], [12.5 + 25 * 80], [-750.0], [20000.0])
    grid = encode(truth, 1, spec)
    assert grid[0, 0].max().item() == pytest.approx(1.0)
    assert grid[0, 0].sum().item() == pytest.approx(2 * math.pi * spec.sigma_bins**2, rel=1e-3)
    assert grid[0, 1].abs().max().item() < 1e-6  # phase 0: sin channel empty
    assert grid[0, 2].max().item() == pytest.approx(1.0)


def test_empty_and_threshold():
    spec = TargetSpec()
    assert encode(Emitters.empty(), 3).abs().sum() == 0
    empty = decode(torch.zeros(2, 3, 256, 256), spec, 0.1)
    assert len(empty) == 0 and empty.score is not None
    truth = _isolated(50, 4, seed=2)
    grid = encode(truth, 4)
    assert len(decode(grid, spec, threshold=1.01)) == 0


def test_frame_offset_and_plateau_gives_one_peak():
    spec = TargetSpec()
    # exactly between two bins: equal maxima must give one localization
    truth = Emitters([0], [25.0 * 100], [12.5 + 25 * 50], [0.0], [5000.0])
    pred = decode(encode(truth, 1, spec), spec, 0.3, frame_offset=7)
    assert len(pred) == 1 and pred.frame[0] == 7
    assert abs(pred.x_nm[0] - 2500.0) < 1


def test_bad_input():
    with pytest.raises(ValueError, match="output must have shape"):
        decode(torch.zeros(1, 2, 256, 256), TargetSpec(), 0.5)
    with pytest.raises(ValueError, match="threshold"):
        decode(torch.zeros(1, 3, 256, 256), TargetSpec(), float("nan"))
    with pytest.raises(ValueError, match="sigma_bins"):
        TargetSpec(sigma_bins=0)
    with pytest.raises(ValueError, match="upsample"):
        TargetSpec(upsample=0)
    with pytest.raises(TypeError, match="field"):
        TargetSpec(field="64")
