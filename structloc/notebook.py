"""Small helpers for the book's chapters: run mode, Colab detection and the compute device.

Every chapter starts with the same two cells: one that installs structloc when (and only when)
it runs in Google Colab, and a parameters cell that reads the run mode::

    from structloc.notebook import book_mode, describe_device
    MODE = book_mode()          # "quick" (CPU, CI) or "full" (GPU, full-scale)
    print(describe_device())    # which device, and a hint when a GPU would help
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from .device import best_device

__all__ = ["MODES", "MODE_ENV_VAR", "book_mode", "in_colab", "best_device", "describe_device"]

#: The run modes every chapter understands.
MODES: tuple[str, ...] = ("quick", "full")
#: The environment variable that selects the run mode.
MODE_ENV_VAR = "STRUCTLOC_MODE"


def book_mode(environ: Mapping[str, str] | None = None) -> str:
    """The run mode selected by the ``STRUCTLOC_MODE`` environment variable.

    Parameters
    ----------
    environ : mapping, optional
        Where to look the variable up (default: ``os.environ``).

    Returns
    -------
    str
        ``"quick"`` (the default: small, CPU-friendly, used by CI) or ``"full"`` (full scale,
        meant for a GPU). Case and surrounding spaces are ignored.

    Raises
    ------
    ValueError
        If the variable is set to anything else.
    """
    environ = os.environ if environ is None else environ
    raw = environ.get(MODE_ENV_VAR)
    if raw is None or raw.strip() == "":
        return "quick"
    mode = raw.strip().lower()
    if mode not in MODES:
        raise ValueError(f"{MODE_ENV_VAR}={raw!r} is not a run mode; choose one of {list(MODES)}")
    return mode


def in_colab() -> bool:
    """True when the code runs inside a Google Colab kernel."""
    return "google.colab" in sys.modules


def describe_device(mode: str | None = None, *, colab: bool | None = None, device: str | None = None) -> str:
    """One or two lines saying which device the chapter will use, with a hint when it matters.

    Parameters
    ----------
    mode : str, optional
        Run mode (default: :func:`book_mode`).
    colab : bool, optional
        Whether we run in Colab (default: :func:`in_colab`).
    device : str, optional
        The device to describe (default: :func:`structloc.device.best_device`).

    Returns
    -------
    str
        For example ``"Device: cpu (no GPU found). Mode: quick."``, plus a hint: to switch the
        Colab runtime to a GPU, to use quick mode on a CPU, or to use full mode on a GPU.
    """
    mode = book_mode() if mode is None else mode
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}, got {mode!r}")
    colab = in_colab() if colab is None else colab
    device = best_device() if device is None else device
    if device.startswith("cuda"):
        import torch

        name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "GPU"
        line = f"Device: {device} ({name}). Mode: {mode}."
        if mode == "quick":
            line += (
                f"\nHint: a GPU is available; for full-scale runs set {MODE_ENV_VAR}=full "
                f"(in a notebook: %env {MODE_ENV_VAR}=full) and run the notebook again."
            )
        return line
    line = f"Device: {device} ({'Apple GPU' if device == 'mps' else 'no GPU found'}). Mode: {mode}."
    if colab:
        return line + (
            "\nHint: for full-scale runs choose Runtime > Change runtime type > GPU, "
            "then run the notebook again."
        )
    if mode == "full":
        return line + f"\nHint: full mode is meant for a GPU; on a CPU set {MODE_ENV_VAR}=quick."
    return line
