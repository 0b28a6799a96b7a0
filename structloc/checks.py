"""Small validation helpers shared by parameter objects and public functions."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["integer_at_least"]


def integer_at_least(name: str, value: Any, minimum: int = 1) -> int:
    """``value`` as an ``int`` if it is an integer (not a bool) >= ``minimum``.

    Parameters
    ----------
    name : str
        How the value is named in the error message (e.g. ``"StudyConfig.n_frames"``).
    value :
        The value to check.
    minimum : int
        Smallest allowed value.

    Raises
    ------
    ValueError
        If ``value`` is a bool, not an integer, or below ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
