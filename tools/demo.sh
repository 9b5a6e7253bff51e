#!/usr/bin/env bash
# The README's main command: set up the environment when needed, then run the CPU demo.
# Extra arguments go to tools/demo.py (e.g. --iters 100, --transparent for RGBA, --verbose).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/tools/env/setup.sh"
cd "$ROOT"
exec "${FASTGAN_VENV:-$ROOT/.venv}/bin/python" tools/demo.py "$@"
