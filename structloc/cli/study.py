"""``structloc study``: evaluate the trained models on MT0 test sets (rows, CSV, provenance)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from ..io import check_output_path
from ..snr import SNR_PRESETS
from ..study.config import APPROACHES, CHALLENGE_SETS, StudyConfig
from ..study.results import locs_path_for, model_budgets, model_checksums, write_locs, write_provenance, write_results
from ..study.runner import run as run_study_points
from .arguments import non_negative_int, positive_int, torch_device

__all__ = ["NAME", "SUMMARY", "add_arguments", "run"]

NAME = "study"
SUMMARY = "CSR vs structure-based training: evaluate the shipped models on MT0 test sets"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``structloc study`` (see :func:`run`)."""
    parser.add_argument("--snr", nargs="+", choices=sorted(SNR_PRESETS), default=None,
                        help="signal level(s) (default: high medium low)")
    parser.add_argument("--approach", nargs="+", choices=APPROACHES, default=None,
                        help="training regime(s) (default: csr helix)")
    parser.add_argument("--nominal-density", nargs="+", type=float, default=None, metavar="D",
                        help="target nominal densities per um^2 (default: nine from 0.38 to 13; with "
                             "--challenge only those sets)")
    parser.add_argument("--challenge", nargs="+", type=str.upper, choices=CHALLENGE_SETS, default=None,
                        help="challenge test sets LD and/or HD (default: both, unless --nominal-density is given)")
    parser.add_argument("--frames", type=positive_int, default=None, help="test frames per point (default 200; quick 30)")
    parser.add_argument("--seed", type=non_negative_int, default=7, help="study seed (test frames and bootstrap)")
    parser.add_argument("--boot", type=positive_int, default=None, help="bootstrap replicates (default 1000; quick 200)")
    parser.add_argument("--models", default=None,
                        help="directory of {approach}_{snr}.pt checkpoints (default: the models shipped "
                             "with structloc)")
    parser.add_argument("--training-seed", type=non_negative_int, nargs="+", default=None,
                        help="use {approach}_{snr}_seed{S}.pt models (default: the shipped ones)")
    parser.add_argument("--device", type=torch_device, default="cpu", help="torch device (cpu, cuda, ...)")
    parser.add_argument("--threads", type=positive_int, default=None, help="torch CPU threads")
    parser.add_argument("--out", default=None, help="write the rows to this CSV (atomic), a .json provenance and "
                        "the lowest nominal density's localizations (OUT_lowest_density_locs.csv.gz)")
    parser.add_argument("--quick", action="store_true", help="reduced study: densities 0.38, 2.2, 13; 30 frames")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _config_from_args(args: argparse.Namespace) -> StudyConfig:
    options: dict[str, Any] = {"seed": args.seed, "models_dir": args.models, "device": args.device}
    if args.snr:
        options["snrs"] = tuple(args.snr)
    if args.approach:
        options["approaches"] = tuple(args.approach)
    if args.nominal_density is not None or args.challenge is not None:
        options["nominal_densities"] = tuple(args.nominal_density or ())
        options["challenge_sets"] = tuple(args.challenge or ())
    if args.frames is not None:
        options["n_frames"] = args.frames
    if args.boot is not None:
        options["n_boot"] = args.boot
    if args.training_seed is not None:
        options["training_seeds"] = tuple(args.training_seed)
    return StudyConfig.quick(**options) if args.quick else StudyConfig(**options)


def run(args: argparse.Namespace) -> int:
    """``structloc study``: run points of the study, print their rows, optionally write a CSV."""
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    config = _config_from_args(args)
    if args.out:  # before any work: the table, its provenance and the localizations
        out = check_output_path(args.out)
        check_output_path(out.with_suffix(".json"))
    start = time.perf_counter()
    lowest = min(config.nominal_densities) if config.nominal_densities else None
    done = run_study_points(config, progress=not args.no_progress, keep_locs_at=lowest)
    df = done.results
    wall_s = time.perf_counter() - start
    shown = ["approach", "snr", "test_set", "count_density", "nominal_density", "n_frames", "jaccard",
             "jaccard_ci_low", "jaccard_ci_high", "rmse_lat_nm", "rmse_ax_nm", "rmse_vol_nm", "efficiency_3d",
             "checkerboard"]
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(df[shown].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if args.out:
        out = write_results(df, args.out)
        command = "structloc " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["study"] else "structloc study"
        write_provenance(Path(out).with_suffix(".json"), config, command=command, wall_s=wall_s,
                         extra={"training_seeds_note": "one training seed per approach (the shipped models)"
                                if config.training_seeds == (None,) else "several training seeds",
                                "model_sha256": model_checksums(config), "model_budgets": model_budgets(config)})
        if done.locs:
            write_locs(done.locs, locs_path_for(out))
        print(f"wrote {len(df)} rows to {out} and {Path(out).with_suffix('.json')} in {wall_s:.0f} s")
    return 0
