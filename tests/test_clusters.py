"""Merging bins by predicted position: one localization per emitter's probability."""

import math

import numpy as np
import pytest
import torch

from structloc.clusters import MASS_CAP, MERGE_AXIAL_NM, MERGE_LATERAL_NM, merge_bins
from structloc.emitters import Emitters
from structloc.evaluate import evaluate
from structloc.field import Field
from structloc.mixture import N_MIXTURE_CHANNELS, MixtureSpec, decode_mixture, ideal_output

SPEC = MixtureSpec(field=Field(width_px=16, height_px=16))


def _clusters(owner: np.ndarray) -> list[set[int]]:
    groups: dict[int, set[int]] = {}
    for k, o in enumerate(owner):
        groups.setdefault(int(o), set()).add(k)
    return sorted(groups.values(), key=min)


def test_one_emitter_spread_over_bins_is_one_cluster():
    p = np.array([0.4, 0.3, 0.2, 0.1])
    x = np.array([500.0, 540.0, 470.0, 560.0])
    owner, seeds = merge_bins(np.zeros(4, int), x, np.full(4, 500.0), np.zeros(4), p)
    assert seeds.tolist() == [0] and owner.tolist() == [0, 0, 0, 0]


def test_the_cap_keeps_two_sure_emitters_apart_however_close():
    owner, seeds = merge_bins(np.zeros(2, int), np.array([500.0, 520.0]), np.array([500.0, 500.0]),
                              np.zeros(2), np.array([0.95, 0.9]))
    assert seeds.tolist() == [0, 1]
    # a weak bin between them: the larger seed's intake ends at the 0.9 bin that would overfill it,
    # so the weak bin, smaller, waits for the next round and joins the second seed
    owner, seeds = merge_bins(np.zeros(3, int), np.array([500.0, 520.0, 510.0]), np.full(3, 500.0),
                              np.zeros(3), np.array([0.95, 0.9, 0.2]))
    assert seeds.tolist() == [0, 1] and owner.tolist() == [0, 1, 1]
    # without the sure neighbour, it joins the first
    owner, seeds = merge_bins(np.zeros(2, int), np.array([500.0, 510.0]), np.full(2, 500.0),
                              np.zeros(2), np.array([0.95, 0.2]))
    assert seeds.tolist() == [0] and owner.tolist() == [0, 0]


def test_bins_farther_than_the_radii_or_in_other_frames_stay_apart():
    far_lat = MERGE_LATERAL_NM + 10.0
    far_ax = MERGE_AXIAL_NM + 10.0
    frame = np.array([0, 0, 0, 1])
    x = np.array([500.0, 500.0 + far_lat, 500.0, 500.0])
    z = np.array([0.0, 0.0, far_ax, 0.0])
    owner, seeds = merge_bins(frame, x, np.full(4, 500.0), z, np.full(4, 0.3) + np.arange(4) * 0.01)
    assert seeds.tolist() == [0, 1, 2, 3]
    assert _clusters(owner) == [{0}, {1}, {2}, {3}]


def test_a_chain_is_cut_at_the_cap_and_the_rest_forms_its_own_cluster():
    # five bins 40 nm apart with p 0.5: the first (ties go to the earlier bin) takes one more (a third
    # would make 1.5 > 1.2), the third the fourth, and the fifth is left on its own
    x = 500.0 + 40.0 * np.arange(5)
    owner, seeds = merge_bins(np.zeros(5, int), x, np.full(5, 500.0), np.zeros(5), np.full(5, 0.5))
    masses = [sum(0.5 for o in owner if o == s) for s in seeds]
    assert sum(masses) == pytest.approx(2.5)
    assert seeds.tolist() == [0, 2, 4] and owner.tolist() == [0, 0, 2, 2, 4]
    assert masses == [1.0, 1.0, 0.5]


def test_result_does_not_depend_on_the_order_of_the_bins():
    rng = np.random.default_rng(3)
    n = 300
    frame = rng.integers(0, 3, n)
    x, y, z = rng.uniform(0, 2000, n), rng.uniform(0, 2000, n), rng.uniform(-700, 700, n)
    p = rng.uniform(0.03, 1.0, n)
    owner, seeds = merge_bins(frame, x, y, z, p)
    perm = rng.permutation(n)
    owner2, seeds2 = merge_bins(frame[perm], x[perm], y[perm], z[perm], p[perm])
    back = perm[owner2]  # seed of each permuted bin, as an original index
    relabelled = np.empty(n, np.int64)
    relabelled[perm] = back
    np.testing.assert_array_equal(relabelled, owner)
    mass = np.bincount(owner, weights=p, minlength=n)[seeds]
    assert np.all(mass <= MASS_CAP + 1e-12)
    assert mass.sum() == pytest.approx(p.sum())


def test_empty_input_and_bad_radii():
    owner, seeds = merge_bins(np.zeros(0, int), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))
    assert owner.shape == seeds.shape == (0,)
    with pytest.raises(ValueError, match="lateral_nm"):
        merge_bins(np.zeros(1, int), np.zeros(1), np.zeros(1), np.zeros(1), np.ones(1), lateral_nm=0.0)
    with pytest.raises(ValueError, match="same length"):
        merge_bins(np.zeros(2, int), np.zeros(1), np.zeros(1), np.zeros(1), np.ones(1))


def _spread_output(truth: Emitters, n_frames: int, rng: np.random.Generator) -> torch.Tensor:
    """A hesitant network: each emitter's probability shared by its bin and three neighbours, every
    bin predicting the emitter's position with 15 nm of scatter."""
    raw = ideal_output(truth, n_frames, SPEC).clone()
    raw[:, 0] = -20.0
    rows, cols = SPEC.shape
    for f, x, y, z in zip(truth.frame, truth.x_nm, truth.y_nm, truth.z_nm):
        c, r = int(x // SPEC.bin_nm), int(y // SPEC.bin_nm)
        for (dr, dc), share in zip(((0, 0), (0, 1), (1, 0), (-1, -1)), (0.4, 0.3, 0.2, 0.1)):
            rr, cc = r + dr, c + dc
            u = (x + rng.normal(0, 15)) / SPEC.bin_nm - cc - 0.5
            v = (y + rng.normal(0, 15)) / SPEC.bin_nm - rr - 0.5
            raw[f, 0, rr, cc] = math.log(share / (1 - share))
            raw[f, 1, rr, cc] = math.atanh(max(-0.999, min(0.999, u)))
            raw[f, 2, rr, cc] = math.atanh(max(-0.999, min(0.999, v)))
            raw[f, 3, rr, cc] = math.atanh(SPEC.z_normalised(z))
    return raw


def test_decode_reports_a_spread_emitter_once_at_its_weighted_position():
    rng = np.random.default_rng(0)
    n = 12  # one emitter per frame, away from the edges
    truth = Emitters(np.arange(n), rng.uniform(300, 1300, n), rng.uniform(300, 1300, n),
                     rng.uniform(-600, 600, n), np.full(n, 5000.0))
    pred = decode_mixture(_spread_output(truth, n, rng), SPEC, 0.5)
    m = evaluate(truth, pred)
    assert (m.tp, m.fp, m.fn) == (n, 0, 0)
    np.testing.assert_allclose(pred.score, 1.0, atol=1e-3)
    assert m.rmse_lat_nm < 15.0  # the weighted mean of four 15 nm estimates beats each one
    assert len(decode_mixture(_spread_output(truth, n, rng), SPEC, 1.01)) == 0


def test_clean_targets_of_close_emitters_still_decode_exactly():
    # 60 nm apart (adjacent bins, inside the merge radius): the cap keeps both
    truth = Emitters([0, 0], [500.0, 560.0], [500.0, 500.0], [0.0, 20.0], [5000.0, 5000.0])
    pred = decode_mixture(ideal_output(truth, 1, SPEC), SPEC, 0.5)
    np.testing.assert_allclose(np.sort(pred.x_nm), truth.x_nm, atol=0.01)
    assert pred.score.min() >= 0.99
    assert len(decode_mixture(torch.full((1, N_MIXTURE_CHANNELS) + SPEC.shape, -20.0), SPEC, 0.0)) == 0
