"""Decode ceilings and the resolvable bound: known answers and the study head's requirement."""

import numpy as np
import pytest

from structloc import Emitters, Field
from structloc.ceiling import (ceiling_table, close_neighbour_fraction, decode_ceiling, merge_unresolvable,
                               per_pixel_ceiling, resolvable_bound)
from structloc.heads import head_spec

FIELD = Field(width_px=16, height_px=16)


def test_merge_links_close_pairs_within_a_frame_only():
    e = Emitters([0, 0, 0, 1, 1], [100.0, 130.0, 160.0, 100.0, 130.0], [500.0] * 5,
                 [0.0, 50.0, 100.0, 0.0, 300.0], [1.0, 2.0, 3.0, 4.0, 5.0])
    merged = merge_unresolvable(e).sorted()
    # frame 0: a chain of three (30 nm steps, 50 nm in z) is one group at its centroid;
    # frame 1: 30 nm apart but 300 nm in z stays two
    assert len(merged) == 3
    first = merged.take(merged.frame == 0)
    assert first.x_nm[0] == pytest.approx(130.0) and first.z_nm[0] == pytest.approx(50.0)
    assert first.photons[0] == pytest.approx(6.0)
    assert len(merge_unresolvable(e, lateral_nm=20.0)) == 5


def test_resolvable_bound_known_answer():
    # two emitters 20 nm apart and two isolated ones: the oracle finds 3 of 4, JI = 3 / 4
    e = Emitters([0, 0, 0, 0], [100.0, 120.0, 800.0, 1200.0], [100.0, 100.0, 900.0, 300.0], [0.0] * 4, [1.0] * 4)
    assert resolvable_bound(e) == pytest.approx(0.75)
    assert close_neighbour_fraction(e) == pytest.approx(0.5)
    assert np.isnan(resolvable_bound(Emitters.empty()))


def test_per_pixel_and_mixture_ceilings():
    # 30 nm apart in one camera pixel, in two 50 nm bins: the per-pixel grid keeps one, the mixture head both
    e = Emitters([0, 0], [110.0, 160.0], [150.0, 150.0], [0.0, 0.0], [1e4, 1e4])
    assert per_pixel_ceiling(e, 1, FIELD) == pytest.approx(0.5)
    assert decode_ceiling(e, 1, head_spec("mixture", field=FIELD, photon_scale=1e4)) == pytest.approx(1.0)
    isolated = Emitters([0, 1], [300.0, 900.0], [300.0, 700.0], [-500.0, 500.0], [1e4, 1e4])
    for head in ("mixture", "grid"):
        assert decode_ceiling(isolated, 2, head_spec(head, field=FIELD, photon_scale=1e4)) == pytest.approx(1.0)


@pytest.mark.slow
def test_study_head_does_not_cap_quality_on_mt0():
    """The default head beats one-emitter-per-pixel at 1 and 5 /um^2 and is within 0.03 of the
    resolvable bound at 1 /um^2 (the requirement on the study's representation)."""
    table = ceiling_table((1.0, 5.0), ("mt0",), n_frames=20).set_index("density_per_um2")
    assert (table.mixture > table.per_pixel).all()
    assert table.loc[1.0, "mixture"] >= table.loc[1.0, "resolvable"] - 0.03
    # the paper's blob grid does cap it: it loses to the per-pixel grid when frames crowd
    assert table.loc[5.0, "grid"] < table.loc[5.0, "per_pixel"]
