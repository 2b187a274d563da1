#!/usr/bin/env bash
# Create .venv (if needed) and install the pinned stack plus unirain_mm.
# Idempotent: skips pip when the requirement files have not changed since the
# last successful install. Usage: source-free, `bash scripts/setup_env.sh`.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${UNIRAIN_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
    echo "[setup] creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
STAMP="$VENV/.unirain_requirements.sha256"
WANT="$(cat "$ROOT/requirements/lock.txt" "$ROOT/requirements/tests.txt" \
    "$ROOT/setup.py" | sha256sum | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; then
    echo "[setup] $VENV is up to date"
    exit 0
fi
echo "[setup] installing the pinned requirements (about 1.5 minutes)"
# --no-deps: the lock is complete; mmagic 1.2.0's declared deps are broken.
"$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps \
    -r "$ROOT/requirements/lock.txt" -r "$ROOT/requirements/tests.txt"
"$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps \
    --no-build-isolation -e "$ROOT"
"$VENV/bin/python" -c "import unirain_mm; unirain_mm.register_all_modules(); print('[setup] ok: unirain_mm', unirain_mm.__version__)"
echo "$WANT" > "$STAMP"
