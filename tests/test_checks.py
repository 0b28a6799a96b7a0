"""Shared validation helpers."""

import numpy as np
import pytest

from structloc.checks import integer_at_least


def test_integer_at_least_accepts_integers_and_numpy_integers():
    assert integer_at_least("n", 3) == 3
    value = integer_at_least("n", np.int64(0), minimum=0)
    assert value == 0 and type(value) is int


@pytest.mark.parametrize("bad", [True, 2.0, "3", 0, -1, None])
def test_integer_at_least_names_the_value(bad):
    with pytest.raises(ValueError, match=r"StudyConfig\.n_frames must be an integer >= 1"):
        integer_at_least("StudyConfig.n_frames", bad)
