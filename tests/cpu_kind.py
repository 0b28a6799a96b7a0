"""The CPU kind that byte-identity digests of network outputs depend on.

oneDNN, which runs torch's CPU convolutions, picks its kernels by the CPU's instruction set, so
the float sums of a network (and of its training) differ between CPU kinds: with torch
2.13.0+cpu, an AMD EPYC and an Intel Xeon with AVX-512 gave different digests from the same code
(commit 330a8ca). Digests are therefore recorded per kind; on a kind not recorded, a check that
needs one is skipped and says which kind it is.
"""

from __future__ import annotations

from typing import Any, Mapping

import pytest
import torch


def cpu_kind() -> str:
    """``"vendor/capability"``: the ``vendor_id`` of /proc/cpuinfo and torch's CPU capability."""
    vendor = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as handle:
            vendor = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("vendor_id")),
                          vendor)
    except OSError:
        pass
    return f"{vendor}/{torch.backends.cpu.get_cpu_capability()}"


def recorded_for_this_cpu(by_kind: Mapping[str, Any], what: str = "digests") -> Any:
    """The entry of ``by_kind`` for this CPU: keyed ``"vendor/capability"``, or by the vendor alone
    where the capability was not recorded; skips the calling test when there is none."""
    kind = cpu_kind()
    entry = by_kind.get(kind, by_kind.get(kind.split("/")[0]))
    if entry is None:
        pytest.skip(f"no {what} recorded for this CPU kind ({kind}): its float sums may differ")
    return entry
