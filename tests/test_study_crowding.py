"""Crowding of training-like and test frames: shares, ordering with density, distances."""

import numpy as np
import pandas as pd
import pytest

from structloc.evaluate import crowding_labels
from structloc.study.crowding import crowding_of_frames, distance_to

LABELS = crowding_labels()


@pytest.fixture(scope="module")
def table():
    return crowding_of_frames((0.05, 0.5, 2.0), n_frames=6, seed=3)


def test_every_row_is_a_distribution_over_the_groups(table):
    assert list(table.columns) == ["sampler", "density_per_um2", "emitters", *LABELS]
    assert set(table.sampler) == {"csr", "helix", "mt0"}
    np.testing.assert_allclose(table[LABELS].sum(axis=1), 1.0)
    # 6 frames of round(density * 40.96 um^2) emitters, at least one
    expected = {0.05: 6 * 2, 0.5: 6 * 20, 2.0: 6 * 82}
    assert all(row.emitters == expected[row.density_per_um2] for row in table.itertuples())


def test_denser_frames_leave_fewer_emitters_alone_and_more_crowded(table):
    for _, rows in table.groupby("sampler"):
        rows = rows.sort_values("density_per_um2")
        assert np.all(np.diff(rows[LABELS[0]]) < 0)
        assert np.all(np.diff(rows[LABELS[-1]]) > 0)
    sparse_csr = table[(table.sampler == "csr") & (table.density_per_um2 == 0.05)]
    assert float(sparse_csr[LABELS[0]].iloc[0]) > 0.6


def test_the_same_seed_gives_the_same_table(table):
    again = crowding_of_frames((0.05, 0.5, 2.0), n_frames=6, seed=3)
    np.testing.assert_array_equal(again[LABELS].to_numpy(), table[LABELS].to_numpy())


def test_distance_is_zero_to_itself_and_in_unit_range(table):
    twin = table[table.sampler == "mt0"].assign(sampler="copy")
    distances = distance_to(pd.concat([table, twin], ignore_index=True))
    np.testing.assert_allclose(distances["copy"], 0.0)
    assert ((distances >= 0) & (distances <= 1)).all().all()
    with pytest.raises(ValueError, match="no sampler 'grid'"):
        distance_to(table, reference="grid")


@pytest.mark.parametrize("kwargs, message", [
    (dict(count_densities=()), "count_densities"),
    (dict(count_densities=(0.0,)), "count_densities"),
    (dict(count_densities=(1.0,), n_frames=0), "n_frames"),
])
def test_bad_requests_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        crowding_of_frames(**kwargs)
