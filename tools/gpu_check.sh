#!/usr/bin/env bash
# The GPU check in one command (docs/benchmarks.md, "GPU rows: how they are produced"):
#
#   bash tools/gpu_check.sh [--bundle DIR] [--out DIR] [--budget SECONDS]
#
# --bundle DIR  a folder made by tools/gpu/make_offline_bundle.sh, for a machine that reaches
#               no package registry: its wheels are installed with --no-index into a fresh
#               folder put first on PYTHONPATH, mmcv's CPU ops are compiled there from the
#               source archive (tools/env/build_mmcv.sh), and mmagic 1.2.0 gets its one-line
#               numpy 2 fix (tools/gpu/fix_mmagic_for_numpy2.py) when numpy is 2.x. Without
#               it the current environment is used as it is.
# --out DIR     where the report and a few files go (default: $OUT, else work_dirs/gpu_check):
#               report.md, sample_grid.png, reconstruction_grid.png, training_curves.png,
#               benchmark.json, sampling.json, logs.tar.gz (a device call returns at most 8).
# --budget S    seconds for the whole run (default 570, for a 600 s device call); each stage
#               has its own limit, cut to what is left, so that a slow stage cannot eat the
#               report.
#
# Stages: [install bundle, build mmcv ops], import check; then with CUDA: the CUDA tests
# (pytest -m cuda), 200 training iterations of configs/fastgan/fastgan_1024_pokemon.py at
# official widths with --amp on 64 drawn 1024 px images, the GPU benchmark rows
# (tools/benchmark.py: 256 and 1024 px, batch 8, fp32 / bf16 / channels_last /
# cudnn_benchmark / all three) and sampling throughput. Without CUDA the CUDA part is skipped
# with a message and, with --bundle, a CPU smoke (2 training iterations and one benchmark
# row, tiny sizes, same options) shows that the installed stack trains. Each stage's time is
# printed, then a budget line. Exit status: that of the first failed stage, else 0.
# PYTHON (default: python3) is the interpreter whose torch is used.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ARGS="$*"
PYTHON=${PYTHON:-python3}
BUNDLE=""
OUT_DIR=${OUT:-$ROOT/work_dirs/gpu_check}
BUDGET=570
INSTALL_TARGET=240  # install + build should fit 4 minutes on the GPU machine

usage() {
  echo "usage: gpu_check.sh [--bundle DIR] [--out DIR] [--budget SECONDS]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) [ $# -ge 2 ] || usage; BUNDLE=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || usage; OUT_DIR=$2; shift 2 ;;
    --budget) [ $# -ge 2 ] || usage; BUDGET=$2; shift 2 ;;
    -h|--help) sed -n '2,27p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "gpu_check: unknown argument '$1'" >&2; usage ;;
  esac
done
[[ "$BUDGET" =~ ^[0-9]+$ ]] && [ "$BUDGET" -ge 60 ] || {
  echo "gpu_check: --budget must be a number of seconds, at least 60, not '$BUDGET'" >&2; exit 2; }
PY_VERSION=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")') || {
  echo "gpu_check: cannot run PYTHON=$PYTHON" >&2; exit 2; }
if [ -n "$BUNDLE" ]; then
  [ -f "$BUNDLE/PYTHON_VERSION" ] && [ -f "$BUNDLE/MANIFEST.txt" ] || {
    echo "gpu_check: $BUNDLE is not a bundle (no PYTHON_VERSION / MANIFEST.txt): make one" \
         "with tools/gpu/make_offline_bundle.sh" >&2; exit 2; }
  BUNDLE="$(cd "$BUNDLE" && pwd)"
  [ "$(cat "$BUNDLE/PYTHON_VERSION")" = "$PY_VERSION" ] || {
    echo "gpu_check: $BUNDLE was made for Python $(cat "$BUNDLE/PYTHON_VERSION"), but $PYTHON" \
         "is $PY_VERSION: make it with tools/gpu/make_offline_bundle.sh --python-version" \
         "$PY_VERSION" >&2; exit 2; }
fi

mkdir -p "$OUT_DIR" && OUT_DIR="$(cd "$OUT_DIR" && pwd)" || exit 2
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fastgan_gpu_check.XXXXXX")
SITE="$WORK/site"
LOGS="$WORK/logs"
mkdir -p "$LOGS"
rm -f "$OUT_DIR"/{report.md,sample_grid.png,reconstruction_grid.png,training_curves.png} \
  "$OUT_DIR"/{benchmark.json,sampling.json,logs.tar.gz}
cd "$ROOT"

# The environment of every stage: the bundle first, then the checkout; no network.
if [ -n "$BUNDLE" ]; then export PYTHONPATH="$SITE:$ROOT${PYTHONPATH:+:$PYTHONPATH}"
else export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"; fi
# albumentations asks PyPI for updates on import; transformers and diffusers import jax
# when flax is installed (the image has both): neither is needed.
export NO_ALBUMENTATIONS_UPDATE=1 USE_TF=0 USE_FLAX=0 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHON

START=$SECONDS
DEADLINE=$((START + BUDGET))
RESERVE=15  # kept for the report after the last stage
STATUS=0
INSTALL_SECONDS=0
printf '| stage | outcome | seconds | limit |\n| --- | --- | --- | --- |\n' > "$WORK/stages.md"
: > "$WORK/details.md"

write_report() {
  {
    cat "$WORK/header.md" 2>/dev/null
    echo
    echo "## Stages"
    echo
    cat "$WORK/stages.md"
    echo
    echo "Budget: $((SECONDS - START)) s of $BUDGET s used$([ -n "$BUNDLE" ] && echo \
      "; install + build $INSTALL_SECONDS s (target: at most $INSTALL_TARGET s)")."
    cat "$WORK/details.md"
  } > "$OUT_DIR/report.md"
  tar -czf "$OUT_DIR/logs.tar.gz" -C "$WORK" logs 2>/dev/null
}

# stage NAME LIMIT LOG COMMAND...: runs COMMAND with LIMIT seconds at most (less when the
# budget is short), records the outcome; returns the command's exit status.
stage() {
  local name=$1 limit=$2 log=$3
  shift 3
  local left=$((DEADLINE - SECONDS - RESERVE))
  [ "$left" -lt "$limit" ] && limit=$left
  if [ "$limit" -lt 10 ]; then
    echo "gpu_check: $name: SKIPPED, the budget of $BUDGET s is spent"
    echo "| $name | skipped: budget spent | 0 | - |" >> "$WORK/stages.md"
    [ "$STATUS" -eq 0 ] && STATUS=124
    write_report
    return 124
  fi
  echo "gpu_check: $name (at most $limit s) ..."
  local begin=$SECONDS
  timeout --kill-after=10 "$limit" "$@" > "$LOGS/$log" 2>&1
  local code=$? outcome=passed
  local took=$((SECONDS - begin))
  if [ "$code" -eq 124 ] || [ "$code" -eq 137 ]; then outcome="TIMED OUT"
  elif [ "$code" -ne 0 ]; then outcome="FAILED (exit $code)"; fi
  [ "$code" -ne 0 ] && [ "$STATUS" -eq 0 ] && STATUS=$code
  echo "gpu_check: $name: $outcome in $took s (log: logs/$log)"
  [ "$code" -ne 0 ] && tail -15 "$LOGS/$log" | sed 's/^/    /'
  echo "| $name | $outcome | $took | $limit |" >> "$WORK/stages.md"
  write_report
  return "$code"
}

# detail TITLE TEXT...: a section of the report.
detail() {
  local title=$1
  shift
  { echo; echo "## $title"; echo; printf '%s\n' "$@"; } >> "$WORK/details.md"
}
# stop_unless_passed CODE WHY: ends the check with the report when a stage that the
# others need has failed.
stop_unless_passed() {
  [ "$1" -eq 0 ] && return
  detail "Stopped" "$2: nothing after it can run."
  write_report
  echo "gpu_check: STOPPED: $2"
  echo "gpu_check: report in $OUT_DIR/report.md"
  rm -rf "$WORK"
  exit "$STATUS"
}
# The Markdown table rows printed by tools/benchmark.py, each once.
tables_in() { grep -E '^\|' "$1" 2>/dev/null | awk '!seen[$0]++'; }
logged() { echo '```'; grep -E "$1" "$2" 2>/dev/null | tail -"${3:-8}"; echo '```'; }

install_bundle() {
  # every file as make_offline_bundle.sh wrote it (MANIFEST.txt: size, sha256, name)
  (cd "$BUNDLE" && awk '{print $2 "  " $3}' MANIFEST.txt | sha256sum --check --quiet) &&
  rm -rf "$SITE" &&
  "$PYTHON" -m pip install --no-index --no-deps --no-compile --no-cache-dir --target "$SITE" \
    "$BUNDLE"/*.whl &&
  if "$PYTHON" -c 'import numpy, sys; sys.exit(int(numpy.__version__.split(".")[0]) < 2)'; then
    "$PYTHON" "$ROOT/tools/gpu/fix_mmagic_for_numpy2.py" "$SITE"
  fi
}
build_mmcv() {
  bash "$ROOT/tools/env/build_mmcv.sh" "$BUNDLE"/mmcv-*.tar.gz "$WORK/mmcv_wheel" &&
  "$PYTHON" -m pip install --no-index --no-deps --no-compile --no-cache-dir --target "$SITE" \
    "$WORK"/mmcv_wheel/mmcv-*.whl
}
export -f install_bundle build_mmcv
export BUNDLE SITE WORK ROOT

# Header: where and with what.
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
"$PYTHON" - "$ARGS" "$COMMIT" > "$WORK/header.md" <<'EOF'
import os, platform, sys, time
import numpy, torch
command = ' '.join(['bash tools/gpu_check.sh'] + sys.argv[1:2]).strip()
print('# GPU check\n')
print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, `{command}`, "
      f"commit `{sys.argv[2]}`.\n")
if torch.cuda.is_available():
    gpu = f'{torch.cuda.device_count()} x {torch.cuda.get_device_name(0)}'
    cuda = f'CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}'
else:
    gpu, cuda = 'none visible to torch', 'no CUDA'
print(f'- GPU: {gpu}; {os.cpu_count()} CPU cores ({platform.processor() or platform.machine()})')
print(f'- Python {platform.python_version()} ({sys.executable}), torch {torch.__version__} '
      f'({cuda}), numpy {numpy.__version__}')
EOF
cat "$WORK/header.md"
HAS_CUDA=0
"$PYTHON" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' && HAS_CUDA=1

if [ -n "$BUNDLE" ]; then
  stage "install the bundle (pip --no-index)" 60 install.log bash -c install_bundle
  CODE=$?
  detail "Install" \
    "$(logged 'Successfully installed|fix_mmagic|ERROR|FAILED|checksum' "$LOGS/install.log" 6)"
  stop_unless_passed "$CODE" "the bundle did not install (logs/install.log)"
  # 210 s on the GPU machine's 16 cores; the compilation is parallel, so fewer cores get
  # proportionally longer (the offline dry run on 2 cores).
  stage "compile mmcv ops (CPU, $(nproc) jobs)" $((210 * 16 / ($(nproc) < 16 ? $(nproc) : 16))) \
    build.log bash -c build_mmcv
  CODE=$?
  detail "mmcv build" "$(logged '^build_mmcv|rror' "$LOGS/build.log" 6)"
  stop_unless_passed "$CODE" "mmcv's ops did not compile (logs/build.log)"
  INSTALL_SECONDS=$((SECONDS - START))
  echo "gpu_check: install + build took $INSTALL_SECONDS s (target: at most $INSTALL_TARGET s)"
fi

stage "import check" 90 import.log "$PYTHON" - <<'EOF'
import importlib, sys
from distutils import errors  # noqa: F401 mmengine's runner needs it; on 3.12 from setuptools
import mmcv.ops  # the compiled extension mmcv._ext
from mmagic.registry import MODELS
from mmagic.utils import register_all_modules
register_all_modules()
import fastgan_plugin  # noqa: F401
print(f'mmagic registered {len(MODELS.module_dict)} models; fastgan_plugin imported')
for name in ('torch', 'torchvision', 'numpy', 'cv2', 'scipy', 'pandas', 'PIL', 'setuptools',
             'mmcv', 'mmengine', 'mmagic', 'diffusers', 'transformers', 'huggingface_hub',
             'tokenizers', 'accelerate', 'albumentations', 'lpips', 'fastgan_plugin'):
    try:
        module = sys.modules.get(name) or importlib.import_module(name)
    except ImportError:
        print(f'- {name}: not installed')
        continue
    print(f'- {name} {getattr(module, "__version__", "?")}: {module.__file__}')
EOF
IMPORT_STATUS=$?
detail "Import check: versions and where they come from" \
  "$(grep -E '^- |registered|Error' "$LOGS/import.log" | tail -25)"
stop_unless_passed "$IMPORT_STATUS" "the stack does not import (logs/import.log)"

# The training options of the check (validation and FID off: nothing is downloaded).
TRAIN_OPTIONS=(train_cfg.val_interval=1000000 val_dataloader=None val_cfg=None
  val_evaluator=None test_dataloader=None test_cfg=None test_evaluator=None
  model.rec_loss.pretrained=False default_hooks.checkpoint.save_best=None
  default_hooks.checkpoint.rule=None)
draw_images() {  # draw_images DIR COUNT SIZE
  PYTHONPATH="$ROOT/tools:$PYTHONPATH" "$PYTHON" -c \
    "from tool_utils.demo_data import make_demo_images as m; m('$1', $2, size=$3)"
}
export -f draw_images
# copy_grids WORK_DIR: the last sample and reconstruction grids and the loss curves into the
# output folder.
copy_grids() {
  local fake recon
  fake=$(find "$1" -name 'fake_img_*.png' 2>/dev/null | sort -V | tail -1)
  recon=$(find "$1" -name 'reconstruction_*.png' 2>/dev/null | sort -V | tail -1)
  [ -n "$fake" ] && cp "$fake" "$OUT_DIR/sample_grid.png"
  [ -n "$recon" ] && cp "$recon" "$OUT_DIR/reconstruction_grid.png"
  [ -f "$1/training_curves.png" ] && cp "$1/training_curves.png" "$OUT_DIR/"
}

if [ "$HAS_CUDA" -eq 0 ]; then
  SKIP="CUDA part SKIPPED: torch sees no CUDA device on this machine, so the CUDA tests, the \
1024 px training, the GPU benchmark rows and sampling throughput did not run. Run \
tools/gpu_check.sh on a machine with an NVIDIA GPU (docs/benchmarks.md)."
  if [ -n "$BUNDLE" ]; then
    draw_images "$WORK/images" 8 128
    stage "CPU smoke: 2 training iterations (demo config, 128 px)" 180 smoke_train.log \
      "$PYTHON" tools/train.py configs/fastgan/fastgan_demo_cpu.py --data-root "$WORK/images" \
      --work-dir "$WORK/smoke" --no-report --cfg-options train_cfg.max_iters=2 \
      "${TRAIN_OPTIONS[@]}" default_hooks.checkpoint.interval=2 custom_hooks.0.interval=2 \
      custom_hooks.1.interval=2 train_dataloader.num_workers=0 \
      train_dataloader.persistent_workers=False
    detail "CPU smoke: training" "$(logged 'Iter\(train\)|Error' "$LOGS/smoke_train.log" 3)"
    copy_grids "$WORK/smoke"
    stage "CPU smoke: one benchmark row (128 px, ngf 8)" 180 smoke_benchmark.log \
      "$PYTHON" tools/benchmark.py --sizes 128 --batch-sizes 2 --ngf 8 --ndf 8 --rec-loss l1 \
      --variants fp32 --parts runner bare sample --warmup 1 --windows 1 --window-iters 1 \
      --num-workers 0 --out "$OUT_DIR/benchmark.json" --tmp-dir "$WORK"
    detail "CPU smoke: benchmark" "$(tables_in "$LOGS/smoke_benchmark.log")"
  fi
  detail "CUDA part" "$SKIP"
  write_report
  echo "gpu_check: $SKIP"
else
  stage "CUDA tests (pytest -m cuda)" 120 tests.log \
    "$PYTHON" -m pytest tests/test_cuda -m cuda -q -rs -p no:cacheprovider
  detail "CUDA tests" \
    "$(logged '^(PASSED|FAILED|ERROR|SKIPPED)| passed| failed|error' "$LOGS/tests.log" 15)"

  stage "draw 64 training images (1024 px)" 60 images.log \
    bash -c 'draw_images "$@"' _ "$WORK/images" 64 1024
  stage "train 200 iterations: fastgan_1024_pokemon.py, official widths, --amp" 150 train.log \
    "$PYTHON" tools/train.py configs/fastgan/fastgan_1024_pokemon.py --amp \
    --data-root "$WORK/images" --work-dir "$WORK/train" --no-report --cfg-options \
    train_cfg.max_iters=200 "${TRAIN_OPTIONS[@]}" default_hooks.logger.interval=20 \
    default_hooks.checkpoint.interval=200 custom_hooks.0.interval=200 \
    custom_hooks.1.interval=200 train_dataloader.num_workers=8
  copy_grids "$WORK/train"
  detail "Training: 200 iterations at 1024 px, batch 8, ngf = ndf = 64, --amp" \
    "Log lines (loss terms, seconds per iteration, memory: peak MiB allocated):" "" \
    "$(logged 'Iter\(train\)|autocast|Error|error:' "$LOGS/train.log" 6)" "" \
    "Images: sample_grid.png (EMA generator, fixed noise), reconstruction_grid.png," \
    "training_curves.png."

  stage "benchmark rows: 1024 and 256 px, batch 8" 170 benchmark.log \
    "$PYTHON" tools/benchmark.py --sizes 1024 256 --batch-sizes 8 \
    --variants fp32 bf16 channels_last cudnn_benchmark bf16+channels_last+cudnn_benchmark \
    --rec-loss lpips --parts runner bare sample --warmup 3 --windows 3 --window-iters 4 \
    --out "$OUT_DIR/benchmark.json" --tmp-dir "$WORK"
  detail "Benchmark (tools/benchmark.py; columns in docs/benchmarks.md)" \
    "$(tables_in "$LOGS/benchmark.log")"

  stage "sampling throughput: 1024 px, batch 1 and 64" 60 sampling.log \
    "$PYTHON" tools/benchmark.py --sizes 1024 --batch-sizes 1 64 --variants fp32 bf16 \
    --parts sample --warmup 3 --windows 3 --window-iters 5 --out "$OUT_DIR/sampling.json" \
    --tmp-dir "$WORK"
  detail "Sampling throughput (EMA generator; 'sample img/s')" "$(tables_in "$LOGS/sampling.log")"
fi

write_report
echo "gpu_check: budget: $((SECONDS - START)) s of $BUDGET s used$([ -n "$BUNDLE" ] && echo \
  "; install + build $INSTALL_SECONDS s of $INSTALL_TARGET s")"
echo "gpu_check: report in $OUT_DIR/report.md"
rm -rf "$WORK"
exit $STATUS
