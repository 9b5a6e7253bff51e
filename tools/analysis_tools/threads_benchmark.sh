#!/usr/bin/env bash
# Training speed of the demo model (runner it/s) with 2 threads, 1 thread and 2 threads with
# OMP_WAIT_POLICY=PASSIVE, alone and beside one busy single-threaded process
# (docs/benchmarks.md, "Threads"). Usage: bash tools/analysis_tools/threads_benchmark.sh OUTDIR
set -u
OUT=$1; mkdir -p "$OUT"
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
PY=.venv/bin/python
bench() { # name size ngf threads env...
  local name=$1 size=$2 ngf=$3 threads=$4; shift 4
  env "$@" $PY -W ignore tools/benchmark.py --config configs/fastgan/fastgan_demo_cpu.py \
    --sizes $size --batch-sizes 4 --variants fp32 --ngf $ngf --ndf $ngf --rec-loss l1 \
    --parts runner --warmup 3 --windows 3 --window-iters 5 --threads $threads \
    --out "$OUT/$name.json" > "$OUT/$name.log" 2>&1
  echo "$name: $(grep "^| " "$OUT/$name.log" | tail -1)"
}
for load in alone busy; do
  if [ $load = busy ]; then python3 -c 'while True: pass' & HOG=$!; sleep 1; fi  # the other process
  for size in 128 256; do
    bench ${load}_${size}_t2 $size 16 2 PLAIN=1
    bench ${load}_${size}_t1 $size 16 1 PLAIN=1
    bench ${load}_${size}_t2_passive $size 16 2 OMP_WAIT_POLICY=PASSIVE
  done
  if [ $load = busy ]; then kill $HOG; fi
done
