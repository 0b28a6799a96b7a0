"""Tests of structloc.sampling.positions: positions separate from counts and photons."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from structloc.emitters import Emitters
from structloc.field import Field
from structloc.sampling import (
    CSRSampler, HelixSampler, MT0Sampler, PositionSampler, TableSampler, draw_photons, sample_emitters,
)

SAMPLERS = [CSRSampler(), HelixSampler(), MT0Sampler()]
IDS = ["csr", "helix", "mt0"]


@pytest.mark.parametrize("sampler", SAMPLERS, ids=IDS)
def test_sample_is_photons_then_positions(sampler):
    """``sample`` draws the photons first, then exactly what ``positions`` draws."""
    counts = np.array([4, 0, 7])
    emitters = sampler.sample(counts, np.random.default_rng(5), "medium")
    rng = np.random.default_rng(5)
    photons = draw_photons(11, "medium", rng)
    xyz = sampler.positions(counts, rng)
    assert xyz.shape == (11, 3)
    assert np.array_equal(emitters.photons, photons)
    assert np.array_equal(emitters.xyz_nm(), xyz)
    assert np.array_equal(emitters.frame, [0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2])
    assert sampler.positions(np.zeros(2, int), np.random.default_rng(0)).shape == (0, 3)
    with pytest.raises(ValueError, match="counts"):
        sampler.positions([-1], np.random.default_rng(0))
    with pytest.raises(TypeError, match="Generator"):
        sampler.positions([1], 0)


@dataclass(frozen=True)
class _Corner:
    """A position sampler of its own: every emitter at the field's origin, in the focal plane."""

    field: Field = Field()

    def positions(self, counts, rng):
        return np.zeros((int(np.sum(counts)), 3))


def test_any_position_sampler_makes_a_table():
    corner = _Corner()
    assert isinstance(corner, PositionSampler)
    table = sample_emitters(corner, [2, 1], np.random.default_rng(0), "low")
    assert isinstance(table, Emitters) and np.array_equal(table.frame, [0, 0, 1])
    assert np.all(table.xyz_nm() == 0) and np.all((table.photons >= 500) & (table.photons <= 1500))
    # the same counts and seed give the same photons as any other sampler
    assert np.array_equal(table.photons, CSRSampler().sample([2, 1], np.random.default_rng(0), "low").photons)


def test_table_sampler_keeps_positions_and_redraws_photons():
    table = Emitters([0, 0, 2], [10.0, 20.0, 30.0], [1.0, 2.0, 3.0], [0.0, 5.0, -5.0], [9.0, 9.0, 9.0])
    sampler = TableSampler(Field(), table)
    out = sampler.sample([2, 0, 1], np.random.default_rng(1), "high")
    assert np.array_equal(out.xyz_nm(), table.xyz_nm()) and np.array_equal(out.frame, table.frame)
    assert np.array_equal(out.photons, draw_photons(3, "high", np.random.default_rng(1)))
    with pytest.raises(ValueError, match="do not match"):
        sampler.sample([1, 1, 1], np.random.default_rng(1))
    with pytest.raises(ValueError, match="do not match"):
        sampler.sample([2, 0], np.random.default_rng(1))
    with pytest.raises(ValueError, match="sorted by frame"):
        TableSampler(Field(), Emitters([1, 0], [0, 0], [0, 0], [0, 0], [1, 1]))
    with pytest.raises(TypeError, match="Emitters"):
        TableSampler(Field(), np.zeros((2, 3)))
