"""Shared validation helpers."""

import numpy as np
import pytest

from structloc.checks import (
    in_range, integer_at_least, integer_in_range, nonnegative_float, one_of, positive_float, positive_range,
)


def test_integer_at_least_accepts_integers_and_numpy_integers():
    assert integer_at_least("n", 3) == 3
    value = integer_at_least("n", np.int64(0), minimum=0)
    assert value == 0 and type(value) is int


@pytest.mark.parametrize("bad", [True, 2.0, "3", 0, -1, None])
def test_integer_at_least_names_the_value(bad):
    with pytest.raises(ValueError, match=r"StudyConfig\.n_frames must be an integer >= 1"):
        integer_at_least("StudyConfig.n_frames", bad)


def test_float_helpers_name_the_value_and_say_what_is_allowed():
    assert positive_float("a", 2) == 2.0 and nonnegative_float("a", 0) == 0.0
    for bad in (0.0, -1.0, float("inf"), float("nan"), True, "1"):
        with pytest.raises(ValueError, match=r"^EMCCD\.em_gain must be positive and finite, got"):
            positive_float("EMCCD.em_gain", bad)
    with pytest.raises(ValueError, match=r"^spurious_e must be finite and >= 0, got -0\.1$"):
        nonnegative_float("spurious_e", -0.1)
    assert in_range("qe", 1.0, 0.0, 1.0, low_open=True) == 1.0
    with pytest.raises(ValueError, match=r"^qe must be in \(0, 1\], got 0\.0$"):
        in_range("qe", 0.0, 0.0, 1.0, low_open=True)
    with pytest.raises(ValueError, match=r"^spread must be in \[0, 1\), got 1$"):
        in_range("spread", 1, 0.0, 1.0, high_open=True)


def test_integer_range_choices_and_pairs():
    assert integer_in_range("bit_depth", np.int32(16), 1, 32) == 16
    for bad in (0, 33, 12.0, True):
        with pytest.raises(ValueError, match=r"^bit_depth must be an integer in \[1, 32\], got"):
            integer_in_range("bit_depth", bad, 1, 32)
    assert one_of("noise", "emccd", ("poisson", "emccd")) == "emccd"
    with pytest.raises(ValueError, match=r"^noise must be one of \['poisson', 'emccd'\], got 'ccd'$"):
        one_of("noise", "ccd", ("poisson", "emccd"))
    assert positive_range("radius_nm", [25, 150]) == (25.0, 150.0)
    with pytest.raises(ValueError, match=r"radius_nm must satisfy 0 < low <= high"):
        positive_range("radius_nm", (150.0, 25.0))
    with pytest.raises(TypeError, match=r"radius_nm must be a \(low, high\) pair"):
        positive_range("radius_nm", 3.0)
