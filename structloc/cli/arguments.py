"""What every verb of the command line shares: argument types, the help format, input errors."""

from __future__ import annotations

import argparse
import math
from typing import Callable

from ..device import select_device
from ..interpolated_psf import InterpolatedPSF
from ..psf import AstigmaticPSF

__all__ = ["EXIT_USAGE", "CLIError", "HelpFormatter", "Parser", "PSF_MODELS", "positive_int", "non_negative_int",
           "non_negative_float", "psf_from_name", "torch_device"]

#: PSF models the command line can name (chapter 2): the Gaussian fitted to the bead stack with its
#: centre drift, the same centred on its emitter (what the shipped models were trained on), and the
#: interpolated bead PSF (simulation only).
PSF_MODELS = {
    "gaussian": "astigmatic Gaussian with the bead stack's centre drift (the default)",
    "centred": "the same Gaussian centred on its emitter (the shipped models were trained on it)",
    "interpolated": "the bead stack itself, interpolated (simulation only)",
}

#: Exit status for errors in the user's input.
EXIT_USAGE = 2


class CLIError(Exception):
    """An error in the command line or its input, reported as one line without a traceback."""


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows "(default: ...)" only for options that have a meaningful default."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.required or action.default in (None, False) or action.default is argparse.SUPPRESS:
            return action.help or ""
        return super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors become :class:`CLIError` (one line, no usage dump)."""

    def error(self, message: str):  # type: ignore[override]
        raise CLIError(message)


# -- argument types -----------------------------------------------------------------------------
def _number(text: str, kind: type, what: str, ok: Callable[[float], bool]):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
    if not (math.isfinite(value) and ok(value)):
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    return _number(text, int, "a positive integer", lambda v: v >= 1)


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    return _number(text, int, "an integer >= 0", lambda v: v >= 0)


def non_negative_float(text: str) -> float:
    """argparse type: a finite number >= 0."""
    return _number(text, float, "a finite number >= 0", lambda v: v >= 0)


def psf_from_name(name: str):
    """The PSF model a ``--psf`` value names (see :data:`PSF_MODELS`)."""
    if name == "gaussian":
        return AstigmaticPSF()
    if name == "centred":
        return AstigmaticPSF().without_drift()
    if name == "interpolated":
        return InterpolatedPSF.from_beads()  # fits the shipped bead stack (a few seconds)
    raise CLIError(f"--psf must be one of {', '.join(PSF_MODELS)}, got {name!r}")


def psf_help(models: tuple[str, ...]) -> str:
    """Help text of a ``--psf`` option offering ``models``."""
    return "PSF model: " + "; ".join(f"{name} = {PSF_MODELS[name]}" for name in models)


def torch_device(text: str) -> str:
    """argparse type: a torch device that exists on this machine ("cpu", "cuda", "cuda:1", "mps", "auto";
    see :func:`structloc.device.select_device`)."""
    try:
        select_device(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text
