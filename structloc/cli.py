"""Command-line interface: ``structloc simulate | evaluate | ...``.

Each verb is two small functions registered with :func:`register_verb`: one that adds its options
to an argparse parser, one that runs it from the parsed namespace and returns an exit status.
To add a verb (``train``, ``localize``), write those two functions below the existing verbs::

    def _train_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--steps", type=positive_int, default=1000, help="optimiser steps")

    @register_verb("train", "train a CNN localizer on simulated frames", _train_arguments)
    def _train(args: argparse.Namespace) -> int:
        ...
        return 0

Errors a user can cause (bad values, missing or malformed files, unknown presets) are reported as
one line ``structloc: error: ...`` on stderr with exit status 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

__all__ = ["Verb", "VERBS", "register_verb", "build_parser", "main",
           "positive_int", "non_negative_float", "non_negative_int", "torch_device"]

#: Exit status for errors in the user's input.
EXIT_USAGE = 2


class CLIError(Exception):
    """An error in the command line or its input, reported as one line without a traceback."""


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows "(default: ...)" only for options that have a meaningful default."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.required or action.default in (None, False) or action.default is argparse.SUPPRESS:
            return action.help or ""
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors become :class:`CLIError` (one line, no usage dump)."""

    def error(self, message: str):  # type: ignore[override]
        raise CLIError(message)


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
    """argparse type: a torch device string that exists on this machine ("cpu", "cuda", "cuda:1")."""
    import torch

    try:
        device = torch.device(text)
    except (RuntimeError, ValueError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a torch device (e.g. cpu, cuda, cuda:0)") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise argparse.ArgumentTypeError(f"{text!r}: CUDA is not available on this machine")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise argparse.ArgumentTypeError(
                f"{text!r}: only {torch.cuda.device_count()} CUDA device(s) on this machine")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise argparse.ArgumentTypeError(f"{text!r}: MPS is not available on this machine")
    return text


# -- simulate -----------------------------------------------------------------------------------
def _simulate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--frames", type=positive_int, required=True,
                        help="number of frames to simulate (64 x 64 pixels of 100 nm each)")
    parser.add_argument("--sampler", choices=["csr", "helix", "mt0"], default="csr",
                        help="where emitters are: csr = uniform in the 6.4 x 6.4 um x 1.5 um box; "
                             "helix = on three random helices per frame; mt0 = on the SMLM "
                             "Challenge 2016 MT0 microtubule positions")
    parser.add_argument("--snr", choices=["high", "medium", "low"], default="high",
                        help="signal level, photons per emitter / background photons per pixel: "
                             "high 20000/200, medium 5000/50, low 1000/10")
    from .sampling import MAX_EMITTERS_PER_FRAME

    parser.add_argument("--density", type=non_negative_float, default=1.0, metavar="D",
                        help="mean emitter density in emitters per um^2; the count per frame is "
                             f"Poisson with mean D x 40.96 um^2 (at most {MAX_EMITTERS_PER_FRAME:,}; "
                             "requests larger than the available memory are refused)")
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="random seed (same seed, same frames and ground truth)")
    parser.add_argument("--device", type=torch_device, default="cpu",
                        help="torch device for rendering and camera noise, e.g. cpu or cuda")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="output directory (created if missing): DIR/frames.tif (uint16 ADU) "
                             "and DIR/ground_truth.csv (challenge activations format, frames from 1)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar on stderr")


@register_verb("simulate", "simulate camera frames and their ground truth", _simulate_arguments)
def _simulate(args: argparse.Namespace) -> int:
    from .io import check_output_path, write_activations_csv, write_tiff_stack
    from .sampling import sampler_from_name
    from .simulate import simulate

    if args.out.exists() and not args.out.is_dir():
        raise CLIError(f"--out {args.out} exists and is not a directory")
    tif_path, csv_path = args.out / "frames.tif", args.out / "ground_truth.csv"
    if args.out.is_dir():  # both outputs writable before any work, so none is left half done
        check_output_path(tif_path), check_output_path(csv_path)
    sampler = sampler_from_name(args.sampler)
    sim = simulate(sampler, args.frames, snr=args.snr, density_per_um2=args.density, seed=args.seed,
                   device=args.device, progress=not args.quiet)
    args.out.mkdir(parents=True, exist_ok=True)
    tif = write_tiff_stack(tif_path, sim.frames)
    csv = write_activations_csv(csv_path, sim.emitters)
    n, h, w = sim.frames.shape
    print(f"wrote {tif} ({n} x {h} x {w} {sim.frames.dtype}, ADU) and {csv} ({len(sim.emitters)} emitters)")
    return 0


# -- evaluate -----------------------------------------------------------------------------------
_UNITS = {"rmse_lat_nm": "nm", "rmse_ax_nm": "nm", "rmse_vol_nm": "nm"}


def _evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--truth", type=Path, required=True, metavar="GT.csv",
                        help="ground truth CSV: challenge activations, challenge localizations "
                             "(frame,x,y,z,photons) or ThunderSTORM; positions in nm, frames from 1")
    parser.add_argument("--pred", type=Path, required=True, metavar="LOC.csv",
                        help="localizations CSV, in any of the same three formats")
    parser.add_argument("--method", choices=["greedy", "hungarian"], default="greedy",
                        help="matching: greedy on 3D distance (SMLM Challenge) or Hungarian "
                             "(most pairs, then smallest summed distance), per frame")
    parser.add_argument("--lateral-tol-nm", type=non_negative_float, default=250.0, metavar="NM",
                        help="largest lateral distance of a matched pair, in nm")
    parser.add_argument("--axial-tol-nm", type=non_negative_float, default=500.0, metavar="NM",
                        help="largest axial distance |dz| of a matched pair, in nm")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object (NaN as null) instead of a table")
    parser.add_argument("--by-depth", action="store_true",
                        help="also break recall, JI and RMSE down by 250 nm slabs of true z "
                             "(JSON: a 'by_depth' list of rows)")


def _metrics_table(metrics: dict, header: str) -> str:
    lines = [header]
    for key, value in metrics.items():
        if isinstance(value, int):
            text = f"{value:d}"
        elif math.isnan(value):
            text = "n/a (no matched pair)"
        else:
            text = f"{value:.4f}" + (f" {_UNITS[key]}" if key in _UNITS else "")
        lines.append(f"  {key:<16}{text}")
    return "\n".join(lines)


@register_verb("evaluate", "compare localizations with ground truth (Jaccard, RMSE, efficiency)",
               _evaluate_arguments)
def _evaluate(args: argparse.Namespace) -> int:
    from .evaluate import axial_profile, evaluate
    from .io import read_localizations

    truth = read_localizations(args.truth)
    pred = read_localizations(args.pred)
    if len(truth) == 0:
        print(f"structloc: warning: the ground truth {args.truth} is empty (a header and no rows); "
              "every localization counts as a false positive", file=sys.stderr)
    options = dict(method=args.method, lateral_tol_nm=args.lateral_tol_nm, axial_tol_nm=args.axial_tol_nm)
    metrics = evaluate(truth, pred, **options).to_dict()
    by_depth = axial_profile(truth, pred, **options) if args.by_depth else None
    if args.json:
        def clean(row: dict) -> dict:
            return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}

        record = clean(metrics)
        if by_depth is not None:
            record["by_depth"] = [clean(row) for row in by_depth.to_dict(orient="records")]
        print(json.dumps(record, allow_nan=False))
    else:
        print(_metrics_table(metrics, (
            f"{len(pred)} localizations in {args.pred} vs {len(truth)} emitters in {args.truth}\n"
            f"matching: {args.method}, lateral <= {args.lateral_tol_nm:g} nm, "
            f"|dz| <= {args.axial_tol_nm:g} nm (JI, precision, recall, efficiencies are fractions)")))
        if by_depth is not None:
            print("by true depth (false positives by predicted depth; values beyond the range count "
                  "in the end slabs; nm):")
            print(by_depth.drop(columns="z_mid_nm").to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


# -- further verbs (train, localize) are registered here, after the ones above -----------------
def _train_arguments(parser: argparse.ArgumentParser) -> None:
    from .train import add_train_arguments

    add_train_arguments(parser)


@register_verb("train", "train a CNN localizer on frames simulated on the fly (csr or helix sampler)",
               _train_arguments)
def _train(args: argparse.Namespace) -> int:
    from .train import cli_train

    return cli_train(args)


def _localize_arguments(parser: argparse.ArgumentParser) -> None:
    from .localize import add_localize_arguments

    add_localize_arguments(parser)


@register_verb("localize", "localize emitters in a TIFF stack with a trained model", _localize_arguments)
def _localize(args: argparse.Namespace) -> int:
    from .localize import cli_localize

    return cli_localize(args)


def _study_arguments(parser: argparse.ArgumentParser) -> None:
    from .study import add_study_arguments

    add_study_arguments(parser)


@register_verb("study", "CSR vs structure-based training: evaluate the shipped models on MT0 test sets",
               _study_arguments)
def _study(args: argparse.Namespace) -> int:
    from .study import cli_study

    return cli_study(args)



# -- entry point --------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    """The ``structloc`` argument parser with one sub-parser per registered verb."""
    from . import __version__

    parser = _Parser(
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
                               formatter_class=_HelpFormatter)
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
    except (CLIError, ValueError, TypeError, OSError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"structloc: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("structloc: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
