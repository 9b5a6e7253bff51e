#!/usr/bin/env bash
# The GPU check, in one command: bash tools/gpu_check.sh [OUT_DIR]
#
# On a CUDA machine it runs, in about 10 minutes on one H100-class GPU:
#   1. the CUDA-only tests (pytest -m cuda: float16 AMP with dynamic loss scaling, bfloat16,
#      channels_last, cudnn.benchmark, spectral norm under CUDA autocast, the NCCL
#      all-reduce of the non-finite check; SyncBatchNorm over NCCL with 2 GPUs);
#   2. 200 training iterations of configs/fastgan/fastgan_1024_pokemon.py at the official widths
#      (ngf = ndf = 64, batch 8) with float16 AMP, on a folder of generated 1024 px images
#      (LPIPS with a random VGG and no FID: nothing is downloaded);
#   3. the GPU rows of tools/benchmark.py: 256 / 512 / 1024 px x fp32 / fp16 AMP /
#      fp16 AMP + channels_last, with short timing windows;
# and writes one Markdown report, OUT_DIR/report.md (default: work_dirs/gpu_check).
# Each step has a time limit; a failed step is reported and the others still run; the
# exit status is that of the first failed step.
#
# Without CUDA it says so and exits 0, having run nothing.
# PYTHON (default: python) chooses the interpreter.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON=${PYTHON:-python}
OUT=${1:-$ROOT/work_dirs/gpu_check}

if ! "$PYTHON" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
  echo "gpu_check: no CUDA device is visible to torch on this machine, so nothing was run" \
       "and no report was written. Run tools/gpu_check.sh on a machine with an NVIDIA GPU."
  exit 0
fi

mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
REPORT="$OUT/report.md"
STATUS=0
cd "$ROOT"
# The inline Python below imports the tools' helpers (tools/tool_utils) as tool_utils.
TOOLS_PYTHONPATH="$ROOT/tools${PYTHONPATH:+:$PYTHONPATH}"

# run_step NAME LIMIT_SECONDS LOG COMMAND...: run with a time limit, record the outcome.
run_step() {
  local name=$1 limit=$2 log=$3
  shift 3
  local start=$SECONDS
  echo "gpu_check: $name (at most ${limit} s; log: $log)"
  timeout --kill-after=10 "$limit" "$@" > "$log" 2>&1
  local code=$?
  local took=$((SECONDS - start))
  local outcome="passed"
  if [ "$code" -eq 124 ] || [ "$code" -eq 137 ]; then
    outcome="TIMED OUT after ${limit} s"
  elif [ "$code" -ne 0 ]; then
    outcome="FAILED (exit $code)"
  fi
  [ "$code" -ne 0 ] && [ "$STATUS" -eq 0 ] && STATUS=$code
  printf '\n## %s\n\n%s in %d s. Log: `%s`\n\n' "$name" "$outcome" "$took" "$log" >> "$REPORT"
  echo "gpu_check: $name: $outcome in ${took} s"
}

{
  echo "# GPU check"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), \`bash tools/gpu_check.sh\` at commit" \
       "\`$(git rev-parse --short HEAD 2>/dev/null || echo unknown)\`."
  echo
  "$PYTHON" - <<'EOF'
import torch
names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
print(f'- GPUs: {len(names)} x {names[0]}' if len(set(names)) == 1 else f'- GPUs: {names}')
nccl = torch.cuda.nccl.version()
nccl = '.'.join(map(str, nccl)) if isinstance(nccl, tuple) else nccl
print(f'- torch {torch.__version__}, CUDA {torch.version.cuda}, '
      f'cuDNN {torch.backends.cudnn.version()}, NCCL {nccl}')
EOF
} > "$REPORT"

# 1. CUDA-only tests.
run_step "CUDA tests (pytest -m cuda)" 180 "$OUT/tests.log" \
  "$PYTHON" -m pytest tests/test_cuda -m cuda -q -rs -p no:cacheprovider
{
  echo '```'
  grep -E '^(PASSED|FAILED|ERROR|SKIPPED)|passed|failed|error' "$OUT/tests.log" | tail -20
  echo '```'
} >> "$REPORT"

# 2. 200 iterations at 1024 px, official widths, float16 AMP.
PYTHONPATH="$TOOLS_PYTHONPATH" "$PYTHON" -c \
  "from tool_utils.demo_data import make_demo_images as m; m('$OUT/images', 64, size=1024)" \
  > /dev/null
rm -rf "$OUT/train"
run_step "Training: configs/fastgan/fastgan_1024_pokemon.py, 200 iterations, fp16 AMP" 240 \
  "$OUT/train.log" \
  "$PYTHON" tools/train.py configs/fastgan/fastgan_1024_pokemon.py --amp --amp-dtype float16 \
  --data-root "$OUT/images" --work-dir "$OUT/train" --no-report \
  --cfg-options train_cfg.max_iters=200 train_cfg.val_interval=1000000 \
  val_dataloader=None val_cfg=None val_evaluator=None \
  test_dataloader=None test_cfg=None test_evaluator=None \
  model.rec_loss.pretrained=False default_hooks.logger.interval=20 \
  default_hooks.checkpoint.interval=200 default_hooks.checkpoint.save_best=None \
  default_hooks.checkpoint.rule=None custom_hooks.0.interval=100 custom_hooks.1.interval=100
{
  echo "Log lines (loss terms, seconds per iteration, \`memory\`: peak MiB allocated):"
  echo
  echo '```'
  grep -E 'Iter\(train\)' "$OUT/train.log" | tail -4
  grep -E 'Error|error:' "$OUT/train.log" | tail -5
  echo '```'
  echo
  echo "Sample and reconstruction grids (look at them):"
  echo
  find "$OUT/train" -name '*.png' | sort | tail -4 | sed 's/^/- /'
} >> "$REPORT"

# 3. Benchmark rows (tools/benchmark.py, docs/benchmarks.md explains the columns).
run_step "Benchmark: tools/benchmark.py, GPU rows" 300 "$OUT/benchmark.log" \
  "$PYTHON" tools/benchmark.py --sizes 256 512 1024 --batch-sizes 8 \
  --variants fp32 fp16 fp16+channels_last --rec-loss lpips --parts runner bare sample \
  --warmup 2 --windows 2 --window-iters 3 --out "$OUT/benchmark.json" \
  --tmp-dir "$OUT/benchmark_tmp"
if [ -f "$OUT/benchmark.json" ]; then
  PYTHONPATH="$TOOLS_PYTHONPATH" "$PYTHON" - "$OUT/benchmark.json" >> "$REPORT" <<'EOF'
import json, sys
from tool_utils.benchmarking import format_table
print(format_table(json.load(open(sys.argv[1]))['results']))
EOF
fi

echo "gpu_check: report in $REPORT"
exit $STATUS
