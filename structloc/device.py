"""The compute device: the one place that chooses and validates a torch device.

``select_device(None)`` (or ``"auto"``) picks the best available device, cuda, then mps, then cpu;
``select_device("cuda:1")`` checks that the device exists on this machine. Training, localizing,
the command line and the book's chapters all go through it.
"""

from __future__ import annotations

import torch

__all__ = ["select_device", "best_device", "cpu_has_bf16"]


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return mps is not None and mps.is_available()


def select_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` if given (validated), else the best available: cuda, then mps, then cpu.

    Parameters
    ----------
    device : str or torch.device, optional
        ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"mps"``, or None / ``"auto"`` for the best available.

    Raises
    ------
    ValueError
        If the requested device is unknown or not available here.
    """
    if device is None or device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(f"unknown device {device!r} (not a torch device); "
                         "use cpu, cuda, cuda:N, mps or auto") from None
    if chosen.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} requested but CUDA is not available on this machine")
        if chosen.index is not None and chosen.index >= torch.cuda.device_count():
            raise ValueError(f"device {device!r} requested but this machine has only "
                             f"{torch.cuda.device_count()} CUDA device(s)")
    if chosen.type == "mps" and not _mps_available():
        raise ValueError(f"device {device!r} requested but MPS is not available on this machine")
    return chosen


def best_device() -> str:
    """The name of :func:`select_device`'s choice: ``"cuda"``, ``"mps"`` or ``"cpu"``."""
    return str(select_device())


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (oneDNN's check: AVX512-BF16 or AMX), so that
    bf16 autocast speeds a CPU up instead of emulating it slowly."""
    return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
