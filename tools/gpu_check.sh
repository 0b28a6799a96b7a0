#!/usr/bin/env bash
# The device check, prepared to fit one short lease of a GPU machine (about 10 minutes):
#   1. the CUDA tests (tests/test_gpu.py: simulation, bf16/fp16 training, checkpoints across
#      devices, inference on CUDA vs the CPU);
#   2. the model benchmark on CUDA (inference and training frames/s, small and large presets);
#   3. a short CUDA training of the small helix/high model (TRAIN_MINUTES, default 3), then its
#      test on sparse MT0 frames, as in models/README.md.
# Everything it prints is also written under $OUT (default /tmp/gpu_check).
#
#   bash tools/gpu_check.sh            # from the repository root, on a machine with a GPU
#
# Needs python3 with torch (CUDA), numpy, scipy, pandas, tqdm, tifffile, matplotlib, pytest and
# hypothesis; the package is used from the working tree (no install).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu_check}
TRAIN_MINUTES=${TRAIN_MINUTES:-3}
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 MPLBACKEND=Agg
status=0

step() { echo; echo "== $1 ($(date -u +%H:%M:%S))"; }

step "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee "$OUT/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0))" \
    2>&1 | tee -a "$OUT/gpu.txt"

step "CUDA tests"
python3 -m pytest -q -p no:cacheprovider tests/test_gpu.py -rs 2>&1 | tee "$OUT/test_gpu.log" || status=1

step "model benchmark on CUDA"
python3 benchmarks/bench_model.py --device cuda --presets small large --batches 1 16 64 256 \
    --train-batch 64 --repeats 5 2>&1 | tee "$OUT/bench_model_cuda.md" || status=1

step "CUDA training, small helix/high, $TRAIN_MINUTES minutes"
python3 -m structloc train --sampler helix --snr high --preset small --minutes "$TRAIN_MINUTES" --seed 0 \
    --device cuda --batch-size 64 --no-progress --restart --out "$OUT/helix_high_cuda.pt" 2>&1 \
    | tee "$OUT/train.log" || status=1

step "its test on MT0 frames at 0.1 /um^2 (300 frames, seed 7)"
python3 -m structloc simulate --frames 300 --sampler mt0 --density 0.1 --snr high --seed 7 --device cuda \
    --quiet --out "$OUT/mt0_high" > /dev/null && \
python3 -m structloc localize --model "$OUT/helix_high_cuda.pt" --frames "$OUT/mt0_high/frames.tif" --device cuda \
    --no-progress --out "$OUT/loc.csv" && \
python3 -m structloc evaluate --truth "$OUT/mt0_high/ground_truth.csv" --pred "$OUT/loc.csv" --by-depth 2>&1 \
    | tee "$OUT/evaluate.txt" || status=1
rm -rf "$OUT/mt0_high"

step "done, status $status"
exit $status
