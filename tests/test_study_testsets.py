"""Test sets of the study: frames simulated from the MT0 ground truth."""

import numpy as np

from structloc.io import load_mt0_ground_truth
from structloc.study import simulate_test_set


def test_challenge_test_set_keeps_positions_and_uses_preset_photons():
    test = simulate_test_set("medium", "HD", n_frames=6, seed=1)
    assert test.frames.shape == (6, 64, 64) and test.frames.dtype == np.uint16
    table = load_mt0_ground_truth("HD")
    known = {tuple(p) for p in np.round(table.xyz_nm(), 3)}
    assert all(tuple(p) in known for p in np.round(test.truth.xyz_nm(), 3))
    assert np.all((test.truth.photons >= 2500) & (test.truth.photons <= 7500))  # medium: 5000 +- 50 %
    again = simulate_test_set("medium", "HD", n_frames=6, seed=1)
    np.testing.assert_array_equal(again.frames, test.frames)
    other = simulate_test_set("medium", "HD", n_frames=6, seed=2)
    assert not np.array_equal(other.frames, test.frames)
