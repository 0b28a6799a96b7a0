"""What every verb of the command line shares: argument types, the help format, input errors."""

from __future__ import annotations

import argparse
import math
from typing import Callable

from ..device import select_device

__all__ = ["EXIT_USAGE", "CLIError", "HelpFormatter", "Parser", "positive_int", "non_negative_int",
           "non_negative_float", "torch_device"]

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


def torch_device(text: str) -> str:
    """argparse type: a torch device that exists on this machine ("cpu", "cuda", "cuda:1", "mps", "auto";
    see :func:`structloc.device.select_device`)."""
    try:
        select_device(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text
