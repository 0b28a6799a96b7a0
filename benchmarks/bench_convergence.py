"""Time to quality on a CPU: two training recipes side by side, scored on MT0 test frames.

Each recipe trains in its own process (``--threads`` torch threads each, default 1, so two
recipes share a 2-core machine evenly and meet the same load) for ``--minutes`` of wall time,
keeping a snapshot at each of ``--points`` minutes (:func:`structloc.train.train`'s
``snapshot_minutes``). After training, every snapshot localizes the same MT0 test frames
(``--frames`` frames, seed 7, at each of ``--densities`` emitters/um^2, the README's
``structloc simulate --sampler mt0`` frames) and the script prints one markdown table:

recipe, minutes, steps, JI, RMSE lat/ax/vol (nm), RMSE_vol / CRLB_vol (the isolated-emitter
CRLB averaged over the test emitters' depths), and the recall of emitters deeper than -500 nm
next to the recall in focus (|z| < 250 nm), and the network's expected count over the true count
(:meth:`structloc.localize.Localizer.expected_counts`; mixture head), per density; then the
error against each emitter's CRLB *in its own frame* (:func:`structloc.frame_crlb.frame_crlb`,
:func:`structloc.evaluate.bound_profile`): ``vol/bound``, the matched errors in units of that bound
over all pairs with a finite bound, and ``RMSE vol alone``, the RMSE_vol of the emitters the frame
costs less than 25 % of their isolated bound (no close neighbour, PSF inside the frame), with their
share of all emitters; for ``--checkpoints`` also a second table of recall, RMSE_vol, median bound
and error/bound in each crowding group; when training, it saves a plot of JI and RMSE_vol against
wall time (log x). Name today's recipe (``mixture-fast``, the shipped models') beside a new one,
so the comparison is a ratio measured in one run on one machine (the default pair, ``grid`` and
``mixture``, is the first A/B of the heads).

    python benchmarks/bench_convergence.py --sampler helix --snr high --minutes 130 \\
        --points 10 30 60 130 --recipes mixture-fast mixture-large-bf16 --out runs/convergence
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

#: Training recipes: overrides of structloc.train_config.TrainConfig. ``grid`` is the recipe of the
#: models shipped before the mixture head (batch 8, 500 steps per validation).
RECIPES: dict[str, dict] = {
    "grid": dict(head="grid", batch_size=8, lr=5e-3, steps_per_epoch=500),
    "mixture": dict(head="mixture", batch_size=8, lr=2e-3, steps_per_epoch=500),
    "mixture-lr5e-3": dict(head="mixture", batch_size=8, lr=5e-3, steps_per_epoch=500),
    "mixture-fast": dict(head="mixture", preset="fast", batch_size=8, lr=2e-3, steps_per_epoch=500),
    "mixture-fast-bf16": dict(head="mixture", preset="fast", batch_size=8, lr=2e-3, steps_per_epoch=500,
                              bf16_on_cpu=True),
    "mixture-large-bf16": dict(head="mixture", preset="large", batch_size=8, lr=2e-3, steps_per_epoch=500,
                               bf16_on_cpu=True),
}


def _config(recipe: str, sampler: str, snr: str, minutes: float, seed: int):
    from structloc.train_config import TrainConfig

    return replace(TrainConfig(sampler=sampler, snr=snr, seed=seed, minutes=minutes), **RECIPES[recipe])


def worker(args: argparse.Namespace) -> int:
    """Train one recipe (runs in its own process)."""
    import torch

    from structloc.train import train

    torch.set_num_threads(args.threads)
    config = _config(args.worker, args.sampler, args.snr, args.minutes, args.seed)
    train(config, Path(args.out) / f"{args.worker}.pt", resume=False, progress=False,
          snapshot_minutes=tuple(args.points))
    return 0


def _test_sets(snr: str, densities: list[float], n_frames: int, psf):
    """MT0 test frames at each density, simulated with ``psf`` (the PSF a model was trained on)."""
    from structloc.sampling import MT0Sampler
    from structloc.simulate import simulate

    return {d: simulate(MT0Sampler(), n_frames, snr=snr, density_per_um2=d, seed=7, psf=psf) for d in densities}


def _crlb_vol_nm(snr: str, z_nm: np.ndarray, psf) -> float:
    from structloc.crlb import crlb_for_snr

    bound = crlb_for_snr(snr, np.clip(z_nm, -750, 750), psf=psf)
    return float(np.sqrt(np.mean(bound.x_nm ** 2 + bound.y_nm ** 2 + bound.z_nm ** 2)))


#: Bounds of the test emitters, (in their frame, alone), by id of the simulation and PSF.
_BOUNDS: dict = {}


def _bounds(sim, psf) -> tuple[np.ndarray, np.ndarray]:
    """Volumetric CRLB of every test emitter in its frame and alone (nm), with its own photons."""
    from structloc.crlb import CRLBSetup, crlb
    from structloc.frame_crlb import frame_crlb

    key = (id(sim), psf)
    if key not in _BOUNDS:
        setup = CRLBSetup(psf=psf, noise="emccd")
        t, background = sim.emitters, sim.signal.background
        in_frame = frame_crlb(t, field=sim.field, background_photons=background, setup=setup).volumetric_nm
        alone = crlb(t.z_nm, photons=t.photons, background=background, setup=setup).volumetric_nm
        _BOUNDS[key] = (in_frame, np.asarray(alone, np.float64).reshape(len(t)))
    return _BOUNDS[key]


def score(path: Path, test_sets, snr: str) -> list[dict]:
    """Metrics of one snapshot on every test set; ``test_sets(psf)`` gives the test sets of a PSF."""
    from structloc.evaluate import bound_profile, evaluate, match
    from structloc.heads import head_name
    from structloc.localize import Localizer

    loc = Localizer.from_checkpoint(path, device="cpu")
    rows = []
    for density, sim in test_sets(loc.psf).items():
        pred = loc(sim.frames)
        m = evaluate(sim.emitters, pred)
        pairs = match(sim.emitters, pred)
        found = np.zeros(len(sim.emitters), bool)
        found[pairs.truth_index] = True
        z = sim.emitters.z_nm
        deep, focus = z < -500, np.abs(z) < 250
        in_frame, alone = _bounds(sim, loc.psf)
        overall = bound_profile(sim.emitters, pred, in_frame, alone, edges=(0.0, np.inf)).iloc[0]
        groups = bound_profile(sim.emitters, pred, in_frame, alone)
        isolated = groups.iloc[0]
        rows.append({"density": density, "tp": m.tp, "fp": m.fp, "fn": m.fn, "jaccard": m.jaccard, "rmse_lat_nm": m.rmse_lat_nm,
                     "rmse_ax_nm": m.rmse_ax_nm, "rmse_vol_nm": m.rmse_vol_nm,
                     "crlb_ratio": m.rmse_vol_nm / _crlb_vol_nm(snr, z[found], loc.psf) if found.any() else float("nan"),
                     "recall_deep": float(found[deep].mean()) if deep.any() else float("nan"),
                     "recall_focus": float(found[focus].mean()) if focus.any() else float("nan"),
                     "count_ratio": (float(loc.expected_counts(sim.frames).sum()) / len(sim.emitters)
                                     if head_name(loc.spec) == "mixture" and len(sim.emitters) else float("nan")),
                     "error_over_bound": float(overall.error_over_bound),
                     "rmse_vol_alone_nm": float(isolated.rmse_vol_nm), "share_alone": float(isolated.share),
                     "crowding": groups.to_dict(orient="records")})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="+", default=["grid", "mixture"], choices=sorted(RECIPES))
    parser.add_argument("--sampler", default="helix", choices=("csr", "helix"))
    parser.add_argument("--snr", default="high", choices=("high", "medium", "low"))
    parser.add_argument("--minutes", type=float, default=20.0, help="wall-time budget of each recipe")
    parser.add_argument("--points", type=float, nargs="+", default=[2, 5, 10, 20],
                        help="wall-time points (minutes) at which snapshots are scored")
    parser.add_argument("--densities", type=float, nargs="+", default=[0.1, 1.0, 5.0])
    parser.add_argument("--frames", type=int, default=300, help="MT0 test frames per density")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per recipe")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/convergence", help="directory for checkpoints, table and plot")
    parser.add_argument("--score-only", action="store_true", help="score existing snapshots, train nothing")
    parser.add_argument("--checkpoints", nargs="+", default=None,
                        help="score these checkpoints (e.g. the shipped models) instead, train nothing")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.time()
    if not (args.score_only or args.checkpoints):
        env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)}
        procs = [subprocess.Popen([sys.executable, __file__, "--worker", r, "--sampler", args.sampler, "--snr",
                                   args.snr, "--minutes", str(args.minutes), "--threads", str(args.threads),
                                   "--seed", str(args.seed), "--out", str(out), "--points", *map(str, args.points)],
                                  env=env) for r in args.recipes]
        if any(p.wait() for p in procs):
            print("a training process failed", file=sys.stderr)
            return 1
    import torch

    from structloc.train import snapshot_path

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    cache: dict = {}

    def test_sets(psf) -> dict:  # one simulation per PSF the checkpoints were trained on
        if psf not in cache:
            cache[psf] = _test_sets(args.snr, args.densities, args.frames, psf)
        return cache[psf]

    if args.checkpoints:
        runs = [(Path(p).stem, Path(p), None) for p in args.checkpoints]
    else:
        runs = [(r, snapshot_path(out / f"{r}.pt", m), m) for r in args.recipes for m in args.points]
    records = []
    for recipe, path, minutes in runs:
        if not path.exists():
            continue
        saved = torch.load(path, weights_only=True, map_location="cpu")
        minutes = saved["elapsed_s"] / 60 if minutes is None else minutes
        for row in score(path, test_sets, args.snr):
            records.append({"recipe": recipe, "minutes": minutes, "steps": int(saved["step"]), **row})
    (out / "convergence.json").write_text(json.dumps(records, indent=1) + "\n")
    print(f"\nMachine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          + (f"{len(args.checkpoints)} checkpoints scored, nothing trained; " if args.checkpoints else
             f"{args.threads} torch thread(s) per recipe, {len(args.recipes)} recipes side by side; ")
          + (f"{args.snr} SNR" if args.checkpoints else f"{args.sampler}/{args.snr}") + f", MT0 test {args.frames} frames seed 7; total {time.time() - start:.0f} s\n")
    print("| recipe | min | steps | density | TP | FP | FN | JI | RMSE lat | RMSE ax | RMSE vol | vol/CRLB | "
          "recall z<-500 | recall |z|<250 | count/truth | vol/bound | RMSE vol alone (share) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in records:
        print(f"| {r['recipe']} | {r['minutes']:.3g} | {r['steps']} | {r['density']:g} | {r['tp']} | {r['fp']} | "
              f"{r['fn']} | {r['jaccard']:.3f} | "
              f"{r['rmse_lat_nm']:.1f} | {r['rmse_ax_nm']:.1f} | {r['rmse_vol_nm']:.1f} | {r['crlb_ratio']:.2f} | "
              f"{r['recall_deep']:.2f} | {r['recall_focus']:.2f} | {r['count_ratio']:.2f} | "
              f"{r['error_over_bound']:.2f} | {r['rmse_vol_alone_nm']:.1f} ({r['share_alone']:.2f}) |")
    if args.checkpoints:
        _crowding_table(records)
    else:
        _plot(records, args, out / "convergence.png")
    return 0


def _crowding_table(records: list[dict]) -> None:
    """Print recall and accuracy by crowding group (:func:`structloc.evaluate.bound_profile`)."""
    print("\nBy crowding factor (bound in the frame / isolated bound of each true emitter):\n")
    print("| model | density | crowding | emitters | recall | RMSE vol | median bound | error/bound |")
    print("|---|---|---|---|---|---|---|---|")
    from structloc.evaluate import crowding_labels

    for r in records:
        for label, g in zip(crowding_labels(), r["crowding"]):
            print(f"| {r['recipe']} | {r['density']:g} | {label} | {g['share']:.2f} | "
                  f"{g['recall']:.2f} | {g['rmse_vol_nm']:.1f} | {g['median_bound_nm']:.1f} | "
                  f"{g['error_over_bound']:.2f} |")


def _plot(records: list[dict], args: argparse.Namespace, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for recipe in args.recipes:
        for density, style in zip(args.densities, ("-", "--", ":", "-.")):
            rows = [r for r in records if r["recipe"] == recipe and r["density"] == density]
            if not rows:
                continue
            t = [r["minutes"] for r in rows]
            axes[0].plot(t, [r["jaccard"] for r in rows], style, marker="o", label=f"{recipe}, {density:g}/um²")
            axes[1].plot(t, [r["rmse_vol_nm"] for r in rows], style, marker="o", label=f"{recipe}, {density:g}/um²")
    for ax, name in zip(axes, ("Jaccard index", "RMSE_vol (nm)")):
        ax.set_xscale("log")
        ax.set_xlabel("wall time (min)")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Time to quality on MT0 frames ({args.sampler}/{args.snr})")
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    sys.exit(main())
