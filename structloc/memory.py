"""Memory budget: requests too large for this machine are refused before anything is allocated.

Simulation and sampling estimate the memory a request needs from its size (frames, emitters) and
compare it with the memory available now (``MemAvailable`` of ``/proc/meminfo`` on Linux, else
the free physical pages). A request above it raises :class:`MemoryBudgetError` (a ``ValueError``,
so the command line reports it as one line) instead of growing until the system kills the process.
"""

from __future__ import annotations

import os

__all__ = ["MemoryBudgetError", "available_bytes", "check_fits", "format_bytes"]


class MemoryBudgetError(ValueError):
    """A request that would need more memory than is available."""


def available_bytes() -> int | None:
    """Bytes of memory available to new allocations now, or None where it cannot be told."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def format_bytes(n_bytes: float) -> str:
    """``n_bytes`` in the largest unit that keeps the number >= 1 (e.g. ``"24.5 GB"``)."""
    value = float(n_bytes)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"  # pragma: no cover - the loop always returns


def check_fits(n_bytes: float, what: str) -> None:
    """Refuse a request whose estimated memory ``n_bytes`` exceeds what is available.

    Parameters
    ----------
    n_bytes : float
        Estimated peak memory of the request, in bytes.
    what : str
        The request, for the message (e.g. ``"100 frames of 4.1e+07 emitters"``).

    Raises
    ------
    MemoryBudgetError
        If ``n_bytes`` is larger than :func:`available_bytes` (never when that is unknown).
    """
    available = available_bytes()
    if available is not None and n_bytes > available:
        raise MemoryBudgetError(
            f"{what} needs about {format_bytes(n_bytes)} of memory but {format_bytes(available)} "
            "is available; ask for fewer frames or emitters")
