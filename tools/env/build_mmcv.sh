#!/usr/bin/env bash
# Build mmcv's compiled ops (mmcv._ext) from its source archive into a wheel:
#
#   bash tools/gpu/build_mmcv.sh mmcv-2.1.0.tar.gz WHEEL_DIR
#
# mmcv 2.1.0 hard-codes -std=c++17; torch's headers name the standard they need in ATen.h
# ("C++NN or later"): that one is used, with -O0 -g0 (FastGAN calls no mmcv op, and
# optimising 77 sources costs minutes). CPU ops only unless FORCE_CUDA=1: mmcv's setup.py
# also compiles the CUDA ops whenever torch sees a GPU, so the GPU is hidden from the build.
# MAX_JOBS (default: all cores) parallel compilations through ninja. PYTHON (default
# python3) is the interpreter whose torch the ops are built against. At the end it prints
# the compile time of each source from ninja's log, summed, to size the build elsewhere.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: build_mmcv.sh MMCV_SOURCE_ARCHIVE WHEEL_DIR" >&2; exit 2; }
ARCHIVE=$1
WHEEL_DIR=$2
PYTHON=${PYTHON:-python3}
[ -s "$ARCHIVE" ] || { echo "build_mmcv: no source archive at $ARCHIVE" >&2; exit 2; }
# torch's cpp_extension builds in parallel only when `ninja` is on PATH; the pip package
# puts it beside the interpreter.
PATH="$(dirname "$("$PYTHON" -c 'import sys; print(sys.executable)')"):$PATH"
command -v ninja >/dev/null || echo "build_mmcv: warning: no ninja: the sources compile one by one"

SRC=$(mktemp -d)
trap 'rm -rf "$SRC"' EXIT
tar xzf "$ARCHIVE" -C "$SRC"
SRC=$(echo "$SRC"/mmcv-*)
STD=$("$PYTHON" - <<'EOF'
import pathlib, re, torch
header = pathlib.Path(torch.__file__).parent / 'include' / 'ATen' / 'ATen.h'
found = re.search(r'C\+\+(\d+) or later', header.read_text()) if header.exists() else None
print(f'c++{found.group(1)}' if found else 'c++17')
EOF
)
"$PYTHON" - "$SRC/setup.py" "$STD" <<'EOF'
import sys
path, std = sys.argv[1:]
text = open(path).read()
cxx = "extra_compile_args['cxx'] = ['-std=c++17']"
nvcc = "extra_compile_args['nvcc'] += ['-std=c++17']"
if text.count(cxx) != 1 or text.count(nvcc) != 1:
    sys.exit(f'build_mmcv: {path} is not laid out as mmcv 2.1.0\'s: cannot set the C++ standard')
text = text.replace(cxx, f"extra_compile_args['cxx'] = ['-std={std}', '-O0', '-g0']")
open(path, 'w').write(text.replace(nvcc, f"extra_compile_args['nvcc'] += ['-std={std}']"))
EOF

export MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)}
if [ "${FORCE_CUDA:-0}" = 1 ]; then
  OPS="CPU and CUDA"
else
  OPS="CPU"
  export FORCE_CUDA=0 CUDA_VISIBLE_DEVICES=""
fi
echo "build_mmcv: $(basename "$ARCHIVE"), $OPS ops, -std=$STD -O0 -g0, MAX_JOBS=$MAX_JOBS"
START=$SECONDS
mkdir -p "$WHEEL_DIR"
(cd "$SRC" && "$PYTHON" -m pip wheel --no-deps --no-build-isolation --no-index \
   --disable-pip-version-check -w "$WHEEL_DIR" .)
WALL=$((SECONDS - START))
NINJA_LOG=$(find "$SRC/build" -name .ninja_log 2>/dev/null | head -1)
"$PYTHON" - "${NINJA_LOG:-}" "$WALL" "$MAX_JOBS" <<'EOF'
import sys
log, wall, jobs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
seconds = []
if log:
    for line in open(log):
        fields = line.split('\t')
        if len(fields) == 5 and fields[3].endswith('.o'):
            seconds.append((int(fields[1]) - int(fields[0])) / 1000)
if seconds:
    total = sum(seconds)
    print(f'build_mmcv: {len(seconds)} sources compiled in {wall} s wall with {jobs} jobs; '
          f'compile time per source {total / len(seconds):.1f} s mean, {max(seconds):.1f} s '
          f'longest, {total:.0f} s summed (the wall time on N cores is about summed / N)')
else:
    print(f'build_mmcv: built in {wall} s wall with {jobs} jobs (no ninja log to itemise)')
EOF
