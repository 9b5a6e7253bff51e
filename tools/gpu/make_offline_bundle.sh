#!/usr/bin/env bash
# Fetch what the GPU machine lacks into one folder, for tools/gpu_check.sh --bundle DIR there
# (that machine reaches no package registry). Run here, with network:
#
#   bash tools/gpu/make_offline_bundle.sh [--python-version 3.12] [--out .gpu_bundle]
#
# It downloads each pin of tools/gpu/bundle_requirements.txt with `pip download --no-deps`:
# a wheel for CPython X.Y on x86_64 manylinux (glibc <= 2.28), and mmcv as its source archive
# (no wheel exists for current torch: gpu_check.sh compiles it there). The folder gets the
# files, PYTHON_VERSION (the target) and MANIFEST.txt (size and sha256 of each file). It is
# rebuilt from scratch each run and must stay under --max-mib (default 60): a device call
# carries at most 64 MiB, working tree included.
#
# --python-version 3.11 makes a bundle for this machine's Python (the offline dry run).
# PYTHON (default: the repo's .venv/bin/python, else python3) runs pip.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PINS="$ROOT/tools/gpu/bundle_requirements.txt"
PY_VERSION=3.12
OUT_DIR="$ROOT/.gpu_bundle"
MAX_MIB=60
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi

usage() {
  echo "usage: make_offline_bundle.sh [--python-version X.Y] [--out DIR] [--max-mib N]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --python-version) [ $# -ge 2 ] || usage; PY_VERSION=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || usage; OUT_DIR=$2; shift 2 ;;
    --max-mib) [ $# -ge 2 ] || usage; MAX_MIB=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "make_offline_bundle: unknown argument '$1'" >&2; usage ;;
  esac
done
[[ "$PY_VERSION" =~ ^3\.[0-9]+$ ]] || {
  echo "make_offline_bundle: --python-version must look like 3.12, not '$PY_VERSION'" >&2; exit 2; }

PART="$OUT_DIR.part"
rm -rf "$PART"
mkdir -p "$PART"
# pip matches a manylinux_2_N tag only when N is listed; 2.28 and older run on the image.
PLATFORMS=()
for tag in manylinux_2_28 manylinux_2_27 manylinux_2_24 manylinux_2_17 manylinux2014 manylinux1; do
  PLATFORMS+=(--platform "${tag}_x86_64")
done
export PIP_DISABLE_PIP_VERSION_CHECK=1

PINNED=0
while read -r pin; do
  case "$pin" in ''|'#'*) continue ;; esac
  [[ "$pin" =~ ^[A-Za-z0-9_.-]+==[A-Za-z0-9_.+-]+$ ]] || {
    echo "make_offline_bundle: '$pin' in $PINS is not NAME==VERSION" >&2; exit 1; }
  PINNED=$((PINNED + 1))
  echo "[bundle] $pin"
  if [ "${pin%%==*}" = mmcv ]; then
    # The source archive: pip reads its metadata with the local torch (no build isolation).
    "$PYTHON" -m pip download -q --no-deps --no-binary=:all: --no-build-isolation -d "$PART" "$pin"
  else
    "$PYTHON" -m pip download -q --no-deps --only-binary=:all: --python-version "$PY_VERSION" \
      --implementation cp "${PLATFORMS[@]}" -d "$PART" "$pin"
  fi
done < "$PINS"

FILES=$(find "$PART" -maxdepth 1 -type f | wc -l)
[ "$FILES" -eq "$PINNED" ] || {
  echo "make_offline_bundle: $PINNED pins gave $FILES files in $PART" >&2; exit 1; }
echo "$PY_VERSION" > "$PART/PYTHON_VERSION"
(cd "$PART" && for f in *.whl *.tar.gz; do
   printf '%s %s %s\n' "$(stat -c %s "$f")" "$(sha256sum "$f" | cut -d' ' -f1)" "$f"
 done) > "$PART/MANIFEST.txt"
BYTES=$(du -cb "$PART" | tail -1 | cut -f1)
MIB=$(( (BYTES + 1048575) / 1048576 ))
rm -rf "$OUT_DIR"
mv "$PART" "$OUT_DIR"
echo "[bundle] $OUT_DIR: $FILES files for CPython $PY_VERSION, $BYTES bytes ($MIB MiB)"
if [ "$MIB" -gt "$MAX_MIB" ]; then
  echo "make_offline_bundle: the bundle is $MIB MiB, over the limit of $MAX_MIB MiB" >&2
  exit 1
fi
