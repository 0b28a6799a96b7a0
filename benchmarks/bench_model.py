"""Speed of the CNN localizer on this machine: inference and training throughput.

Prints a markdown table per preset and head: parameters, CPU inference frames/s of 64 x 64 frames (network only and
network + decoding, batch sizes 1/16/64, median of ``--repeats`` runs after a warm-up; start-up
excluded) and training frames/s (simulation + forward + backward + step) for each preset, in
float32 and, on a CPU with native bfloat16, under bf16 autocast (``structloc train --cpu-bf16``), plus
a reference measured in the same run (a 3 x 3 convolution of the same frames) and machine info.

An untrained network's decoding is not what a user meets (the mixture head's decoder only looks at
bins above its probability floor, and an untrained network has none), so a second table runs
trained models (``--models``: shipped models' names, default helix_high and csr_high, or
checkpoint files) end to end, ADU frames in and localizations out
(:class:`structloc.localize.Localizer`, batch of 64 frames), on 64 x 64 MT0 frames at
``--densities`` emitters/um^2: frames/s, the share of time spent decoding, and localizations per
frame; where the device runs bfloat16 natively, also the frames/s of the network under bf16
autocast (``Localizer(precision="bfloat16")``, ``structloc localize --precision bfloat16``) and
how far its localizations moved from float32's (median over matched pairs, nm).

    python benchmarks/bench_model.py [--presets small large] [--repeats 5] [--device cpu]
    python benchmarks/bench_model.py --presets --models helix_high --densities 1 5
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch

from structloc.batches import simulate_batch
from structloc.device import cpu_has_bf16
from structloc.heads import HEADS, decode_output
from structloc.losses import batch_loss
from structloc.model import build_model, count_parameters
from structloc.train_config import TrainConfig


def _median_time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def inference_fps(preset: str, head: str, batch: int, repeats: int, device: torch.device, with_decode: bool) -> float:
    config = TrainConfig(preset=preset, head=head, minutes=1.0)
    model = build_model(config.model_config()).to(device).eval()
    frames, _, _ = simulate_batch(config, batch, [0, 0, batch], device)
    spec = config.target_spec()

    @torch.inference_mode()
    def run():
        out = model(frames)
        if with_decode:
            decode_output(out, spec, 0.5)
        elif device.type == "cuda":
            torch.cuda.synchronize()

    return batch / _median_time(run, repeats)


def training_fps(preset: str, head: str, batch: int, repeats: int, device: torch.device, bf16: bool = False) -> float:
    """Training frames/s; ``bf16``: the network under bfloat16 autocast (TrainConfig.bf16_on_cpu)."""
    config = TrainConfig(preset=preset, head=head, minutes=1.0, batch_size=batch)
    spec = config.target_spec()
    model = build_model(config.model_config()).to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    step = [0]

    def run():
        frames, targets, _ = simulate_batch(config, batch, [0, 0, step[0]], device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            output = model(frames)
        loss = batch_loss(config, spec, output, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        step[0] += 1
        if device.type == "cuda":
            torch.cuda.synchronize()

    return batch / _median_time(run, repeats)


def model_fps(name: str, density: float, repeats: int, device: torch.device,
              bf16: bool) -> tuple[float, float, float, float, float]:
    """End to end on 64 MT0 frames at ``density`` /um^2 (simulated with the model's own PSF) of
    the model ``name`` (a shipped model's name or a checkpoint file): frames/s, the fraction of the
    time spent decoding, localizations per frame, and with ``bf16`` the frames/s in bfloat16 and
    the median distance (nm, lateral) of its localizations from float32's (nan without). The
    decoding share is 1 - (time of :meth:`Localizer.expected_counts`, the same network pass
    without decoding) / (time of the full call)."""
    import numpy as np

    from structloc.evaluate import match
    from structloc.localize import Localizer
    from structloc.pretrained import resolve_model
    from structloc.sampling import MT0Sampler
    from structloc.simulate import simulate

    loc = Localizer.from_checkpoint(resolve_model(name), device=device, batch_frames=64)
    frames = simulate(MT0Sampler(), 64, snr=loc.checkpoint.config.snr, density_per_um2=density, seed=7,
                      psf=loc.psf).frames
    network_s = _median_time(lambda: loc.expected_counts(frames), repeats)
    total_s = _median_time(lambda: loc(frames), repeats)
    table = loc(frames)
    bf16_fps = moved = float("nan")
    if bf16:
        half = Localizer.from_checkpoint(resolve_model(name), device=device, batch_frames=64, precision="bfloat16")
        bf16_fps = len(frames) / _median_time(lambda: half(frames), repeats)
        other = half(frames)
        pairs = match(table, other)
        moved = float(np.median(np.hypot(table.x_nm[pairs.truth_index] - other.x_nm[pairs.pred_index],
                                         table.y_nm[pairs.truth_index] - other.y_nm[pairs.pred_index])))
    return (len(frames) / total_s, max(0.0, 1.0 - network_s / total_s), len(table) / len(frames),
            bf16_fps, moved)


def reference_fps(batch: int, repeats: int, device: torch.device) -> float:
    conv = torch.nn.Conv2d(1, 16, 3, padding=1).to(device).eval()
    x = torch.rand(batch, 1, 64, 64, device=device)
    with torch.inference_mode():
        return batch / _median_time(lambda: conv(x), repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="*", default=["small", "large"], help="presets to time untrained (none: skip that table)")
    parser.add_argument("--heads", nargs="+", default=list(HEADS), choices=HEADS)
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 16, 64])
    parser.add_argument("--train-batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--models", nargs="*", default=["helix_high", "csr_high"],
                        help="shipped models (names) or checkpoint files to run end to end on MT0 frames "
                             "(none: skip that table)")
    parser.add_argument("--densities", nargs="+", type=float, default=[0.1, 1.0, 5.0])
    args = parser.parse_args()
    device = torch.device(args.device)
    print(f"machine: {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} CPUs, "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads), device {device}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"reference (1 -> 16 channel 3x3 conv, batch 64): {reference_fps(64, args.repeats, device):.0f} frames/s\n")
    header = ["preset", "head", "parameters"] + [f"infer b{b} (fps)" for b in args.batches] + \
        [f"infer+decode b{max(args.batches)} (fps)", f"train b{args.train_batch} (fps)"]
    bf16 = device.type == "cpu" and cpu_has_bf16()  # what --cpu-bf16 training would run
    if bf16:
        header.append(f"train b{args.train_batch} bf16 (fps)")
    if args.presets:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
    for preset in args.presets:
        for head in args.heads:
            n = count_parameters(build_model(TrainConfig(preset=preset, head=head, minutes=1.0).model_config()))
            row = [preset, head, f"{n:,}"]
            row += [f"{inference_fps(preset, head, b, args.repeats, device, False):.1f}" for b in args.batches]
            row.append(f"{inference_fps(preset, head, max(args.batches), args.repeats, device, True):.1f}")
            row.append(f"{training_fps(preset, head, args.train_batch, args.repeats, device):.1f}")
            if bf16:
                row.append(f"{training_fps(preset, head, args.train_batch, args.repeats, device, bf16=True):.1f}")
            print("| " + " | ".join(row) + " |", flush=True)
    if args.models:
        print("\nTrained models end to end (ADU frames in, localizations out), 64 MT0 frames of 64 x 64 px:\n")
        native_bf16 = bf16 or (device.type == "cuda" and torch.cuda.is_bf16_supported())
        extra = " bf16 frames/s | bf16 moved (nm) |" if native_bf16 else ""
        print("| model | density (/um^2) | frames/s | decoding share | localizations/frame |" + extra)
        print("|---|---|---|---|---|" + ("---|---|" if native_bf16 else ""))
        for name in args.models:
            for density in args.densities:
                fps, share, per_frame, fps16, moved = model_fps(name, density, args.repeats, device, native_bf16)
                cells = f" {fps16:.1f} | {moved:.2f} |" if native_bf16 else ""
                print(f"| {name} | {density:g} | {fps:.1f} | {share:.0%} | {per_frame:.1f} |{cells}", flush=True)


if __name__ == "__main__":
    main()
