"""``structloc evaluate``: localizations against ground truth (Jaccard, RMSE, efficiency)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from ..evaluate import MATCHING_METHODS, axial_profile, evaluate
from ..io import read_localizations
from .arguments import non_negative_float

__all__ = ["NAME", "SUMMARY", "add_arguments", "run"]

NAME = "evaluate"
SUMMARY = "compare localizations with ground truth (Jaccard, RMSE, efficiency)"

_UNITS = {"rmse_lat_nm": "nm", "rmse_ax_nm": "nm", "rmse_vol_nm": "nm"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``structloc evaluate``."""
    parser.add_argument("--truth", type=Path, required=True, metavar="GT.csv",
                        help="ground truth CSV: challenge activations, challenge localizations "
                             "(frame,x,y,z,photons) or ThunderSTORM; positions in nm, frames from 1")
    parser.add_argument("--pred", type=Path, required=True, metavar="LOC.csv",
                        help="localizations CSV, in any of the same three formats")
    parser.add_argument("--method", choices=list(MATCHING_METHODS), default="greedy",
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


def run(args: argparse.Namespace) -> int:
    """Match, score and print the metrics (a table or one JSON object)."""
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
