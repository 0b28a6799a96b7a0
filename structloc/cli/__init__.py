"""Command-line interface: ``structloc simulate | evaluate | train | localize | study``.

Each verb is a module of this package (:mod:`structloc.cli.simulate`, ...) with the same four
names: ``NAME``, ``SUMMARY``, ``add_arguments(parser)`` that adds its options to an argparse
parser, and ``run(args) -> int`` that runs it from the parsed namespace and returns an exit
status. The verbs are registered from one table below with :func:`register_verb`, which is also
how a new verb is added::

    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--steps", type=positive_int, default=1000, help="optimiser steps")

    def run(args: argparse.Namespace) -> int:
        ...
        return 0

    register_verb("hello", "a new verb", add_arguments)(run)

Argument types shared by the verbs are in :mod:`structloc.cli.arguments`; choices come from the
package's registries (samplers, SNR presets, network presets, heads, cameras). Errors a user can
cause (bad values, missing or malformed files, unknown presets: :class:`CLIError`, ``ValueError``
and ``OSError``) are reported as one line ``structloc: error: ...`` on stderr with exit status 2;
any other exception (a ``TypeError`` from a bug, say) shows its traceback.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Callable, Sequence

from .. import __version__
from . import evaluate, localize, simulate, study, train
from .arguments import (EXIT_USAGE, CLIError, HelpFormatter, Parser, non_negative_float, non_negative_int,
                        positive_int, torch_device)

__all__ = ["Verb", "VERBS", "register_verb", "build_parser", "main", "CLIError", "EXIT_USAGE",
           "positive_int", "non_negative_float", "non_negative_int", "torch_device"]


@dataclass(frozen=True)
class Verb:
    """One sub-command: its name, a one-line summary, its options and its implementation."""

    name: str
    summary: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


#: Registered verbs, in the order they are listed by ``structloc --help``.
VERBS: dict[str, Verb] = {}


def register_verb(name: str, summary: str, add_arguments: Callable[[argparse.ArgumentParser], None]):
    """Decorator registering ``run(args) -> int`` as the verb ``name`` (see the module docstring)."""

    def decorator(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        if name in VERBS:
            raise ValueError(f"verb {name!r} is already registered")
        VERBS[name] = Verb(name, summary, add_arguments, run)
        return run

    return decorator


# -- the verbs: one module each, registered in this order (``structloc --help`` lists them so) --
for _module in (simulate, evaluate, train, localize, study):
    register_verb(_module.NAME, _module.SUMMARY, _module.add_arguments)(_module.run)


# -- entry point --------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    """The ``structloc`` argument parser with one sub-parser per registered verb."""
    parser = Parser(
        prog="structloc",
        description="Deep-learning 3D SMLM: simulate astigmatic frames, train and run CNN "
                    "localizers, evaluate them as the SMLM Challenge 2016. Positions are in nm, "
                    "frames count from 1 in files.",
        epilog="Run 'structloc VERB --help' for the options of one verb.",
    )
    parser.add_argument("--version", action="version", version=f"structloc {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for verb in VERBS.values():
        sub = verbs.add_parser(verb.name, help=verb.summary, description=verb.summary,
                               formatter_class=HelpFormatter)
        verb.add_arguments(sub)
        sub.set_defaults(_run=verb.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit status.

    0 on success, 2 on an input error (one line ``structloc: error: ...`` on stderr), 130 when
    interrupted.
    """
    try:
        args = build_parser().parse_args(argv)
        return int(args._run(args))
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    except (CLIError, ValueError, OSError) as exc:  # the user's input; anything else is a bug
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"structloc: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("structloc: interrupted", file=sys.stderr)
        return 130

