"""``structloc train``: train a localizer, write MODEL.pt and its provenance MODEL.json."""

from __future__ import annotations

import argparse
import json

import torch.distributed as dist

from ..heads import HEADS
from ..io import atomic_write, check_output_path
from ..model import PRESETS
from ..provenance import training_provenance
from ..snr import SNR_PRESETS
from ..train import train
from ..train_config import TRAIN_SAMPLERS, TrainConfig
from .arguments import non_negative_int, positive_int, psf_from_name, psf_help, torch_device

#: PSF models a network can be trained on (the training frames' renderer is the Gaussian).
TRAIN_PSFS = ("gaussian", "centred")

__all__ = ["NAME", "SUMMARY", "add_arguments", "run"]

NAME = "train"
SUMMARY = "train a CNN localizer on frames simulated on the fly (csr or helix sampler)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``structloc train`` (see :func:`run`)."""
    parser.add_argument("--sampler", required=True, choices=TRAIN_SAMPLERS, help="how training emitters are placed")
    parser.add_argument("--snr", required=True, choices=sorted(SNR_PRESETS), help="signal level")
    parser.add_argument("--preset", default="fast", choices=sorted(PRESETS), help="network size")
    parser.add_argument("--head", default=HEADS[0], choices=HEADS,
                        help="output head: per-bin probabilities with a mixture loss (default) or the paper's "
                             "blob grid")
    parser.add_argument("--minutes", type=float, default=None, help="wall-time budget in minutes (default 10 "
                        "unless --steps is given)")
    parser.add_argument("--steps", type=positive_int, default=None, help="step budget")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed of initialisation, batches and validation set")
    parser.add_argument("--batch-size", type=positive_int, default=16, help="frames per step (per process)")
    parser.add_argument("--steps-per-epoch", type=positive_int, default=100,
                        help="steps between validations and checkpoints")
    parser.add_argument("--device", type=torch_device, default=None, help="cpu, cuda, cuda:N, mps or auto (default)")
    parser.add_argument("--photons-range", type=float, nargs=2, default=None, metavar=("LOW", "HIGH"),
                        help="draw each frame's photons per emitter log-uniformly from this range "
                             "(default: the --snr preset's)")
    parser.add_argument("--background-range", type=float, nargs=2, default=None, metavar=("LOW", "HIGH"),
                        help="draw each frame's background (photons/pixel) log-uniformly from this range "
                             "(default: the --snr preset's)")
    parser.add_argument("--psf", default="gaussian", choices=TRAIN_PSFS, help=psf_help(TRAIN_PSFS)
                        + " (centred resumes the models trained before the drift existed)")
    parser.add_argument("--unbalanced", action="store_true",
                        help="weight frames by their error as is, so dense frames dominate (the recipe of "
                             "models trained before balance_densities existed)")
    parser.add_argument("--cpu-bf16", action="store_true",
                        help="on a CPU, run the network in bfloat16 autocast (about 1.4x faster steps on CPUs "
                             "with native bf16, AVX512-BF16 or AMX; refused on others)")
    parser.add_argument("--snapshots", default="",
                        help="comma-separated wall-time points in minutes at which to keep a copy of the "
                             "checkpoint (MODEL.at{m}min.pt), for convergence curves")
    parser.add_argument("--restart", action="store_true", help="ignore an existing --out checkpoint instead of resuming")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--out", required=True, help="checkpoint MODEL.pt (MODEL.json gets the provenance)")


def run(args: argparse.Namespace) -> int:
    """``structloc train``: train, write MODEL.pt and MODEL.json; resumes an interrupted MODEL.pt."""
    minutes = args.minutes if (args.minutes is not None or args.steps is not None) else 10.0
    config = TrainConfig(sampler=args.sampler, snr=args.snr, preset=args.preset, head=args.head, seed=args.seed,
                         batch_size=args.batch_size, max_steps=args.steps, minutes=minutes,
                         steps_per_epoch=args.steps_per_epoch, balance_densities=not args.unbalanced,
                         photons_range=args.photons_range, background_range_photons=args.background_range,
                         psf=psf_from_name(args.psf), bf16_on_cpu=args.cpu_bf16)
    out = check_output_path(args.out)
    check_output_path(out.with_suffix(".json"))  # the provenance, written after training
    try:
        snapshots = tuple(float(m) for m in args.snapshots.split(",") if m.strip())
    except ValueError:
        raise ValueError(f"--snapshots must be comma-separated minutes, got {args.snapshots!r}") from None
    result = train(config, out, device=args.device, resume=not args.restart, progress=not args.no_progress,
                   snapshot_minutes=snapshots)
    if result.extra.get("rank", 0) == 0:
        record = training_provenance(result)
        atomic_write(out.with_suffix(".json"),
                     lambda tmp: tmp.write_text(json.dumps(record, indent=2, default=float) + "\n"))
        final = record["final_validation"]
        print(f"wrote {out} and {out.with_suffix('.json')}: {result.step} steps in {result.wall_s:.0f} s on "
              f"{result.device}; validation JI {final['jaccard']:.3f}, RMSE_vol {final['rmse_vol_nm']:.1f} nm "
              f"at threshold {result.threshold}")
    if dist.is_initialized():
        dist.destroy_process_group()
    return 0
