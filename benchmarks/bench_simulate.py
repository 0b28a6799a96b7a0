"""Benchmark of the simulator: camera noise, PSF rendering and full frames per second.

Prints a markdown table. For E emitters per frame (64 x 64 frames, challenge EMCCD, high SNR) and
each batch size: median frames/s over several runs of (a) the EMCCD noise step alone, (b) the PSF
rendering alone, with the Gaussian and with the interpolated bead-stack PSF
(:class:`structloc.interpolated_psf.InterpolatedPSF`), (c) the full ``simulate_frames``; the
ratio full/noise-alone; and a naive
reference (per-emitter 2-D patch rendering with numpy + numpy EMCCD noise) measured in the same
run. Other processes may share the CPU: the load average is printed with the table.

Usage: python benchmarks/bench_simulate.py [--repeats 5] [--batches 256 1024] [--emitters 10 50 200]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import torch

from structloc.camera import EMCCD
from structloc.emitters import Emitters
from structloc.field import Field
from structloc.interpolated_psf import InterpolatedPSF
from structloc.psf import AstigmaticPSF, render_padded
from structloc.simulate import simulate_frames


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _median_seconds(fn, repeats: int, sync=lambda: None) -> float:
    fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _emitters(n_frames: int, per_frame: int, field: Field, rng: np.random.Generator) -> Emitters:
    n = n_frames * per_frame
    return Emitters(
        np.repeat(np.arange(n_frames), per_frame),
        rng.uniform(0, field.width_nm, n), rng.uniform(0, field.height_nm, n),
        rng.uniform(field.z_min_nm, field.z_max_nm, n), rng.uniform(10000, 30000, n),
    )


def reference_frames(em: Emitters, n_frames: int, psf: AstigmaticPSF, field: Field, cam: EMCCD,
                     background: float, rng: np.random.Generator, half: int = 12) -> np.ndarray:
    """Naive reference: a Gaussian patch per emitter (numpy, per-emitter loop) + numpy EMCCD."""
    from scipy.special import erf

    frames = np.full((n_frames, field.height_px, field.width_px), background)
    sx, sy = psf.sigma_nm(em.z_nm)
    for f, x, y, n, a, b in zip(em.frame, em.x_nm, em.y_nm, em.photons, sx, sy):
        cx, cy = int(x // field.pixel_nm), int(y // field.pixel_nm)
        c0, c1 = max(cx - half, 0), min(cx + half + 1, field.width_px)
        r0, r1 = max(cy - half, 0), min(cy + half + 1, field.height_px)
        ex = np.arange(c0, c1 + 1) * field.pixel_nm
        ey = np.arange(r0, r1 + 1) * field.pixel_nm
        px = np.diff(erf((ex - x) / (np.sqrt(2) * a))) / 2
        py = np.diff(erf((ey - y) / (np.sqrt(2) * b))) / 2
        frames[f, r0:r1, c0:c1] += n * np.outer(py, px)
    k = rng.poisson(frames * cam.qe + cam.spurious_e)
    e = rng.gamma(k) * cam.em_gain + rng.normal(0, cam.read_noise_e, k.shape)
    return np.clip(np.floor(e / cam.e_per_adu) + cam.baseline_adu, 0, cam.max_adu)


def bench(device: torch.device, n_emit: int, batch: int, repeats: int, reference: bool,
          interpolated: InterpolatedPSF) -> dict:
    field, psf, cam = Field(), AstigmaticPSF(), EMCCD()
    rng = np.random.default_rng(0)
    em = _emitters(batch, n_emit, field, rng)
    gen = torch.Generator(device=device).manual_seed(0)
    sync = (lambda: torch.cuda.synchronize()) if device.type == "cuda" else (lambda: None)
    padded = [torch.as_tensor(col.reshape(batch, n_emit), dtype=torch.float32, device=device)
              for col in (em.x_nm, em.y_nm, em.z_nm, em.photons)]
    expected = render_padded(*padded, psf=psf, field=field) + 200.0
    row = {
        "noise": batch / _median_seconds(lambda: cam.expose(expected, gen), repeats, sync),
        "render": batch / _median_seconds(lambda: render_padded(*padded, psf=psf, field=field), repeats, sync),
        "interpolated": batch / _median_seconds(
            lambda: render_padded(*padded, psf=interpolated, field=field), repeats, sync),
        "full": batch / _median_seconds(
            lambda: simulate_frames(em, batch, snr="high", camera=cam, psf=psf, field=field,
                                    generator=gen, device=device), repeats, sync),
    }
    if reference:
        row["reference"] = batch / _median_seconds(
            lambda: reference_frames(em, batch, psf, field, cam, 200.0, rng), max(1, repeats // 2))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batches", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--emitters", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"machine: {_cpu_model()}, {os.cpu_count()} cores, torch {torch.__version__} with "
          f"{torch.get_num_threads()} threads; load average before: {load[0]:.2f}")
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    if len(devices) > 1:
        print(f"GPU: {torch.cuda.get_device_name(0)}")
    print()
    interpolated = InterpolatedPSF.from_beads()
    print("| device | batch | emitters/frame | noise alone (frames/s) | render alone (frames/s) "
          "| render, interpolated PSF (frames/s) "
          "| full simulate_frames (frames/s) | full / noise | naive reference (frames/s) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for device in devices:
        for batch in args.batches:
            full_cost = {}
            for n_emit in args.emitters:
                row = bench(device, n_emit, batch, args.repeats, reference=device.type == "cpu" and batch <= 256,
                            interpolated=interpolated)
                full_cost[n_emit] = 1.0 / row["full"]
                ref = f"{row['reference']:.0f}" if "reference" in row else "-"
                print(f"| {device.type} | {batch} | {n_emit} | {row['noise']:.0f} | {row['render']:.0f} | "
                      f"{row['interpolated']:.0f} | {row['full']:.0f} | {row['full'] / row['noise']:.2f} | {ref} |",
                      flush=True)
            lo, hi = min(full_cost), max(full_cost)
            print(f"| {device.type} | {batch} | cost {hi} vs {lo} | | | | "
                  f"{full_cost[hi] / full_cost[lo]:.2f}x | | |", flush=True)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"\nload average after: {load[0]:.2f} (on {os.cpu_count()} cores; other processes inflate times)")


if __name__ == "__main__":
    main()
