#!/usr/bin/env python
"""Choose a trained checkpoint's detection threshold anew, with the decoder of this structloc.

The threshold a training stores is the one that maximised its validation Jaccard index with the
decoder of its day. When the decoder changes, the weights stay valid but the threshold does not:
this tool reruns the run's own validation set (:func:`structloc.validation.rechoose_threshold`)
and writes the new threshold into the checkpoint (atomically, every other field kept, resume
states included) and into its ``.json`` provenance (``threshold``, ``final_validation``, and a
``threshold_rechosen`` record naming the commit and the previous threshold).

Usage::

    python tools/rethreshold.py models/csr_high.pt models/helix_high.pt
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from structloc.checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from structloc.io import atomic_write
from structloc.provenance import git_commit
from structloc.validation import rechoose_threshold

METRIC_KEYS = ("jaccard", "rmse_lat_nm", "rmse_ax_nm", "rmse_vol_nm", "efficiency_3d")


def rethreshold(path: Path) -> tuple[float, float, dict[str, float]]:
    """Re-choose ``path``'s threshold; returns (old, new, validation metrics at the new one)."""
    json_path = path.with_suffix(".json")
    if not json_path.is_file():
        raise FileNotFoundError(f"{path} has no provenance file {json_path.name}")
    threshold, metrics = rechoose_threshold(Checkpoint.load(path))
    data = load_checkpoint(path)
    old = float(data["threshold"])
    data["threshold"] = threshold
    save_checkpoint(path, data)
    record = json.loads(json_path.read_text())
    record["threshold"] = threshold
    record["final_validation"] = {**record.get("final_validation", {}),
                                  **{k: metrics[k] for k in METRIC_KEYS}}
    record["threshold_rechosen"] = {"git_commit": git_commit(), "previous_threshold": old,
                                    "why": "decoder changed after training (structloc.clusters)"}
    atomic_write(json_path, lambda tmp: tmp.write_text(json.dumps(record, indent=2) + "\n"))
    return old, threshold, metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", type=Path, nargs="+", help="checkpoint .pt files, each with its .json")
    args = parser.parse_args(argv)
    for path in args.checkpoints:
        try:
            old, new, metrics = rethreshold(path)
        except (FileNotFoundError, CheckpointError, ValueError) as exc:
            print(f"rethreshold: {exc}", file=sys.stderr)
            return 2
        print(f"{path}: threshold {old:g} -> {new:g}, validation JI {metrics['jaccard']:.3f}, "
              f"RMSE_vol {metrics['rmse_vol_nm']:.1f} nm")
    return 0


if __name__ == "__main__":
    sys.exit(main())
