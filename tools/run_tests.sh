#!/usr/bin/env bash
# The test command (README, and CI through .ci/run): set up the environment when needed,
# lint, then run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/tools/env/setup.sh"
PY="${FASTGAN_VENV:-$ROOT/.venv}/bin/python"
cd "$ROOT"
echo "[test] ruff check"
"$PY" -m ruff check .
# Tests against the official code need the official-format fixtures: without them they are
# reported as not run (FASTGAN_REQUIRE_FIXTURES=1, set by .ci/run, fails them instead).
echo "[test] official fixtures: ${FASTGAN_FIXTURES:-$ROOT/../shared/fixtures/official}" \
  "(required: ${FASTGAN_REQUIRE_FIXTURES:-0})"
echo "[test] pytest"
"$PY" -m pytest "$@"
