"""Small validation helpers shared by parameter objects and public functions.

Each helper checks one value and raises a one-line error that names it (``name`` is how the
caller calls the value, e.g. ``"EMCCD.em_gain"``) and says what is allowed; it returns the value
checked (as a Python number where that is what it checks), so that callers may keep or ignore it.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

__all__ = ["integer_at_least", "integer_in_range", "positive_float", "nonnegative_float", "in_range",
           "one_of", "positive_range"]


def _real(name: str, value: Any, what: str) -> float:
    """``value`` as a float if it is a real number (not a bool); ValueError naming ``what`` if not."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return float(value)


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


def integer_in_range(name: str, value: Any, low: int, high: int) -> int:
    """``value`` as an ``int`` if it is an integer (not a bool) in ``[low, high]``; ValueError if not."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    return int(value)


def positive_float(name: str, value: Any) -> float:
    """``value`` as a float if it is a finite number > 0 (not a bool); ValueError if not."""
    number = _real(name, value, "positive and finite")
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return number


def nonnegative_float(name: str, value: Any) -> float:
    """``value`` as a float if it is a finite number >= 0 (not a bool); ValueError if not."""
    number = _real(name, value, "finite and >= 0")
    if not (math.isfinite(number) and number >= 0):
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    return number


def in_range(name: str, value: Any, low: float, high: float, *, low_open: bool = False,
             high_open: bool = False) -> float:
    """``value`` as a float if it is a finite number in the interval from ``low`` to ``high``.

    ``low_open`` / ``high_open`` exclude that end; the message writes the interval as
    ``[low, high]``, ``(low, high]``, ``[low, high)`` or ``(low, high)``.
    """
    interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    number = _real(name, value, f"in {interval}")
    above = number > low if low_open else number >= low
    below = number < high if high_open else number <= high
    if not (math.isfinite(number) and above and below):
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return number


def one_of(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """``value`` if it is one of ``choices``; ValueError listing them if not."""
    allowed = list(choices)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def positive_range(name: str, value: Any) -> tuple[float, float]:
    """``(low, high)`` as floats if ``value`` is a pair of finite numbers with ``0 < low <= high``.

    Raises
    ------
    TypeError
        If ``value`` is not a pair of numbers.
    ValueError
        If the numbers are not finite or not ordered ``0 < low <= high``.
    """
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a (low, high) pair of numbers, got {value!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and 0 < low <= high):
        raise ValueError(f"{name} must satisfy 0 < low <= high (finite), got {value!r}")
    return low, high
