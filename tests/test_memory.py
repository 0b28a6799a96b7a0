"""Memory budget: estimates above the available memory are refused with one clear line."""

import pytest

from structloc import memory
from structloc.memory import MemoryBudgetError, available_bytes, check_fits, format_bytes


def test_available_memory_is_a_positive_byte_count():
    available = available_bytes()
    assert available is None or (isinstance(available, int) and available > 2**20)


def test_check_fits_refuses_above_the_available_memory(monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda: 2_000_000_000)
    check_fits(1.9e9, "a small request")
    with pytest.raises(MemoryBudgetError, match=r"^a big request needs about 2\.5 GB of memory but 2\.0 GB "
                                                r"is available; ask for fewer frames or emitters$"):
        check_fits(2.5e9, "a big request")
    assert issubclass(MemoryBudgetError, ValueError)  # the CLI reports it as one line, exit 2


def test_unknown_available_memory_refuses_nothing(monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda: None)
    check_fits(1e30, "anything")


def test_format_bytes():
    assert [format_bytes(n) for n in (12, 1500, 24.5e9, 3e15)] == ["12 B", "1.5 kB", "24.5 GB", "3000.0 TB"]
