"""``structloc simulate``: camera frames and their ground truth, written as a TIFF stack and a CSV."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..io import check_output_path, write_activations_csv, write_tiff_stack
from ..sampling import MAX_EMITTERS_PER_FRAME, SAMPLERS, sampler_from_name
from ..simulate import simulate
from ..snr import SNR_PRESETS
from .arguments import (PSF_MODELS, CLIError, non_negative_float, non_negative_int, positive_int, psf_from_name,
                        psf_help, torch_device)

__all__ = ["NAME", "SUMMARY", "add_arguments", "run"]

NAME = "simulate"
SUMMARY = "simulate camera frames and their ground truth"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``structloc simulate``."""
    parser.add_argument("--frames", type=positive_int, required=True,
                        help="number of frames to simulate (64 x 64 pixels of 100 nm each)")
    parser.add_argument("--sampler", choices=list(SAMPLERS), default="csr",
                        help="where emitters are: csr = uniform in the 6.4 x 6.4 um x 1.5 um box; "
                             "helix = on three random helices per frame; mt0 = on the SMLM "
                             "Challenge 2016 MT0 microtubule positions")
    parser.add_argument("--snr", choices=list(SNR_PRESETS), default="high",
                        help="signal level, photons per emitter / background photons per pixel: "
                             + ", ".join(f"{name} {level.photons:g}/{level.background:g}"
                                         for name, level in SNR_PRESETS.items()))
    parser.add_argument("--density", type=non_negative_float, default=1.0, metavar="D",
                        help="mean emitter density in emitters per um^2; the count per frame is "
                             f"Poisson with mean D x 40.96 um^2 (at most {MAX_EMITTERS_PER_FRAME:,}; "
                             "requests larger than the available memory are refused)")
    parser.add_argument("--psf", default="gaussian", choices=list(PSF_MODELS), help=psf_help(tuple(PSF_MODELS))
                        + "; to test a shipped model, simulate with the PSF it was trained on (centred)")
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="random seed (same seed, same frames and ground truth)")
    parser.add_argument("--device", type=torch_device, default="cpu",
                        help="torch device for rendering and camera noise, e.g. cpu or cuda")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="output directory (created if missing): DIR/frames.tif (uint16 ADU) "
                             "and DIR/ground_truth.csv (challenge activations format, frames from 1)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar on stderr")


def run(args: argparse.Namespace) -> int:
    """Simulate the frames and write DIR/frames.tif and DIR/ground_truth.csv."""
    if args.out.exists() and not args.out.is_dir():
        raise CLIError(f"--out {args.out} exists and is not a directory")
    tif_path, csv_path = args.out / "frames.tif", args.out / "ground_truth.csv"
    if args.out.is_dir():  # both outputs writable before any work, so none is left half done
        check_output_path(tif_path), check_output_path(csv_path)
    sampler = sampler_from_name(args.sampler)
    sim = simulate(sampler, args.frames, snr=args.snr, density_per_um2=args.density, seed=args.seed,
                   psf=psf_from_name(args.psf), device=args.device, progress=not args.quiet)
    args.out.mkdir(parents=True, exist_ok=True)
    tif = write_tiff_stack(tif_path, sim.frames)
    csv = write_activations_csv(csv_path, sim.emitters)
    n, h, w = sim.frames.shape
    print(f"wrote {tif} ({n} x {h} x {w} {sim.frames.dtype}, ADU) and {csv} ({len(sim.emitters)} emitters)")
    return 0
