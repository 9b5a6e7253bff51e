#!/usr/bin/env bash
# Set up (or check) the isolated environment that fastgan_plugin runs in.
#
#   bash tools/env/setup.sh          # idempotent: seconds when everything is in place
#
# Steps: virtual environment -> torch -> runtime packages -> mmagic -> mmcv (compiled ops)
# -> fastgan_plugin (the checkout, on the path) and test tools -> import check.
# mmcv 2.1.0 has no wheel for current torch on PyPI: it is built once from the PyPI source
# archive and the wheel is cached outside the checkout, keyed by the mmcv, torch, Python
# and CPU/CUDA versions, so later set-ups (and CI on a clean clone) install it in seconds.
#
# Environment variables:
#   FASTGAN_VENV   where the virtual environment lives   (default: <repo>/.venv)
#   FASTGAN_CACHE  where downloads and built wheels live (default: ~/.cache/fastgan_plugin)
#   PYTHON         interpreter that creates the venv     (default: python3.11, else python3)
#   FORCE_CUDA     1 builds mmcv's CUDA ops too (default: only when torch sees a GPU and
#                  nvcc is on PATH); 0 never does.
#   MAX_JOBS       parallel compile jobs for the mmcv build (default: number of cores)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${FASTGAN_VENV:-$ROOT/.venv}"
CACHE="${FASTGAN_CACHE:-$HOME/.cache/fastgan_plugin}"
MMCV_VERSION=2.1.0
PY_BIN="$VENV/bin/python"
export PIP_DISABLE_PIP_VERSION_CHECK=1

SETUP_START=$(date +%s)
STEP_NO=0
STEP_TOTAL=7

log() { printf '[setup] %s\n' "$*"; }

# run_step NAME HINT FUNCTION: runs FUNCTION, prints its duration; on failure names the
# step and what to do, then exits.
run_step() {
  local name="$1" hint="$2" fn="$3" start rc
  STEP_NO=$((STEP_NO + 1))
  start=$(date +%s)
  log "step $STEP_NO/$STEP_TOTAL: $name ..."
  set +e
  ( set -e; "$fn" )
  rc=$?
  set -e
  if [ $rc -ne 0 ]; then
    log "FAILED at step $STEP_NO/$STEP_TOTAL ($name), exit code $rc."
    log "what to do: $hint"
    exit $rc
  fi
  log "step $STEP_NO/$STEP_TOTAL: $name done in $(( $(date +%s) - start )) s"
}

pip_install() { "$PY_BIN" -m pip install --quiet "$@"; }

step_venv() {
  if [ -x "$PY_BIN" ]; then log "using $VENV"; return; fi
  local py="${PYTHON:-}"
  if [ -z "$py" ]; then
    if command -v python3.11 >/dev/null; then py=python3.11; else py=python3; fi
  fi
  "$py" -c 'import sys; assert sys.version_info[:2] >= (3, 9), sys.version' \
    || { log "$py is older than Python 3.9"; return 1; }
  "$py" -m venv "$VENV"
  pip_install --upgrade "pip>=24,<26"
}

step_torch() {
  if "$PY_BIN" -c 'import torch, torchvision' 2>/dev/null; then
    log "found torch $("$PY_BIN" -c 'import torch; print(torch.__version__)')"
    return
  fi
  pip_install -r "$ROOT/requirements/torch.txt"
}

step_runtime() { pip_install -r "$ROOT/requirements/runtime.txt"; }

step_mmagic() { pip_install --no-deps -r "$ROOT/requirements/mmagic.txt"; }

# Prints the cache key of the mmcv wheel for this environment.
mmcv_key() {
  "$PY_BIN" - "$MMCV_VERSION" "$(want_cuda)" <<'EOF'
import sys, platform, torch
mmcv, cuda = sys.argv[1], sys.argv[2]
flavour = f"cu{torch.version.cuda}" if cuda == "1" else "cpu"
print(f"mmcv{mmcv}-torch{torch.__version__.split('+')[0]}-"
      f"py{sys.version_info[0]}{sys.version_info[1]}-{platform.machine()}-{flavour}")
EOF
}

want_cuda() {
  if [ -n "${FORCE_CUDA:-}" ]; then echo "$FORCE_CUDA"; return; fi
  if command -v nvcc >/dev/null && "$PY_BIN" -c 'import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    echo 1
  else
    echo 0
  fi
}

mmcv_usable() {
  "$PY_BIN" - <<'EOF' 2>/dev/null
from packaging.version import Version
import mmcv, mmcv.ops  # mmcv.ops needs the compiled extension mmcv._ext
assert Version("2.0.0") <= Version(mmcv.__version__) < Version("2.2.0"), mmcv.__version__
EOF
}

build_mmcv_wheel() {
  local wheel_dir="$1" cuda="$2"
  mkdir -p "$CACHE/downloads"
  local archive="$CACHE/downloads/mmcv-$MMCV_VERSION.tar.gz"
  if [ ! -s "$archive" ]; then
    log "downloading the mmcv $MMCV_VERSION source archive from PyPI"
    "$PY_BIN" -m pip download --quiet --no-deps --no-binary :all: --no-build-isolation \
      "mmcv==$MMCV_VERSION" -d "$CACHE/downloads" >/dev/null 2>&1 || true
    if [ ! -s "$archive" ]; then
      # pip download runs mmcv's setup.py to read metadata; fetch the file itself instead.
      local url
      url=$(curl -fsSL "https://pypi.org/simple/mmcv/" \
        | grep -o "href=\"[^\"]*mmcv-$MMCV_VERSION.tar.gz[^\"]*\"" | head -1 \
        | sed 's/^href="//; s/"$//')
      [ -n "$url" ] || { log "mmcv-$MMCV_VERSION.tar.gz not found on PyPI"; return 1; }
      curl -fsSL -o "$archive.part" "$url" && mv "$archive.part" "$archive"
    fi
  fi
  local jobs="${MAX_JOBS:-$(nproc)}"
  # 77 C++ sources at about 7.6 core-seconds each (-O0 -g0: 291 s on 2 cores, docs/benchmarks.md).
  log "compiling mmcv $MMCV_VERSION ops ($( [ "$cuda" = 1 ] && echo 'CPU+CUDA, much longer' || echo 'CPU only'), MAX_JOBS=$jobs): about $(( (77 * 76 / 10 / jobs + 59) / 60 )) min"
  pip_install ninja
  FORCE_CUDA="$cuda" MAX_JOBS="$jobs" PYTHON="$PY_BIN" \
    bash "$ROOT/tools/env/build_mmcv.sh" "$archive" "$wheel_dir.part"
  mkdir -p "$wheel_dir"
  mv "$wheel_dir.part"/mmcv-*.whl "$wheel_dir/"
  rm -rf "$wheel_dir.part"
}

step_mmcv() {
  if mmcv_usable; then
    log "found a compatible mmcv with compiled ops: $("$PY_BIN" -c 'import mmcv; print(mmcv.__version__)')"
    return
  fi
  local cuda key wheel_dir
  cuda=$(want_cuda)
  key=$(mmcv_key)
  wheel_dir="$CACHE/wheels/$key"
  if ! ls "$wheel_dir"/mmcv-*.whl >/dev/null 2>&1; then
    log "no cached wheel for $key: building it"
    build_mmcv_wheel "$wheel_dir" "$cuda"
  else
    log "using the cached wheel $wheel_dir"
  fi
  pip_install --no-deps --force-reinstall "$wheel_dir"/mmcv-*.whl
  mmcv_usable || { log "mmcv installed but mmcv.ops does not import"; return 1; }
}

# The checkout itself is the installed package: a .pth file puts it on the venv's path, and
# fastgan_plugin/.mim links to its configs and tools (setup.py's add_mim_extension). Not
# `pip install -e`: MMEngine looks for an installed distribution's configs in site-packages
# (get_installed_path), where an editable install has no package folder, so
# `fastgan_plugin::` config paths would not resolve. The .pth is written before an earlier
# install is removed, so the package stays importable throughout.
step_project() {
  local site
  site=$("$PY_BIN" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  printf '%s\n' "$ROOT" > "$site/fastgan_plugin_checkout.pth"
  if "$PY_BIN" -m pip show --quiet fastgan_plugin >/dev/null 2>&1; then
    "$PY_BIN" -m pip uninstall --quiet --yes fastgan_plugin
  fi
  (cd "$ROOT" && "$PY_BIN" -c 'import setup; setup.add_mim_extension(link=True)')
  pip_install -r "$ROOT/requirements/tests.txt"
  install_chromium
}

# The training report's browser test (tests/test_tools/test_report.py) opens pages in the
# system Chromium, driven by Playwright (whose own browser download is not used). Installed
# from Debian's packages when missing and running as root; otherwise, or if apt fails, the
# test reports that it did not run and how to install Chromium (CI requires it).
install_chromium() {
  if [ -n "${FASTGAN_CHROMIUM:-}" ] || command -v chromium >/dev/null \
     || command -v chromium-browser >/dev/null; then
    return
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing Chromium (apt-get install chromium) for the report's browser test"
    if DEBIAN_FRONTEND=noninteractive apt-get update -qq \
       && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
          chromium >/dev/null; then
      return
    fi
  fi
  log "warning: Chromium is not installed: the report's browser test will not run" \
      "(as root: apt-get install chromium)"
}

step_check() {
  "$PY_BIN" - <<'EOF'
import fastgan_plugin  # first: it tells albumentations (imported by mmagic) not to ask PyPI
import mmcv, mmengine, mmagic, torch
from mmagic.utils import register_all_modules
register_all_modules()
print(f"[setup] torch {torch.__version__}, mmengine {mmengine.__version__}, "
      f"mmcv {mmcv.__version__}, mmagic {mmagic.__version__}, "
      f"fastgan_plugin {fastgan_plugin.__version__}")
EOF
}

# Fast path: nothing to do when the requirement files are unchanged since the last
# complete set-up and the stack still imports.
STAMP="$VENV/.fastgan_setup_stamp"
fingerprint() {
  cat "$ROOT"/requirements/*.txt "$ROOT/setup.py" "$ROOT/tools/env/setup.sh" | sha256sum | cut -d' ' -f1
}
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(fingerprint)" ] \
   && "$PY_BIN" -c 'import mmagic, mmcv.ops, fastgan_plugin' 2>/dev/null; then
  exit 0
fi

log "setting up $VENV (cache: $CACHE)"
run_step "virtual environment" "install Python 3.9+ with venv (Debian: apt-get install python3-venv), or set PYTHON=/path/to/python" step_venv
run_step "torch + torchvision" "check that pip reaches PyPI (or your local wheel store); GPU users may pre-install their own torch build into $VENV" step_torch
run_step "runtime packages" "see the pip error above; requirements/runtime.txt lists the verified versions" step_runtime
run_step "mmagic" "check that pip reaches PyPI" step_mmagic
run_step "mmcv with compiled ops" "the build needs gcc/g++ and Python headers (Debian: apt-get install build-essential python3-dev); GPU users can install a prebuilt mmcv 2.1.0 into $VENV instead (README, 'GPU')" step_mmcv
run_step "fastgan_plugin (the checkout) and test tools" "see the pip error above" step_project
run_step "import check" "a package above is missing or of the wrong version; delete $VENV and run again" step_check
fingerprint > "$STAMP"
log "ready in $(( $(date +%s) - SETUP_START )) s: $VENV"
