#!/usr/bin/env bash
# Set everything up (first run only) and run the test suite on the CPU.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
bash "$ROOT/scripts/setup_env.sh"
cd "$ROOT"
exec "${UNIRAIN_VENV:-$ROOT/.venv}/bin/python" -m pytest "$@"
