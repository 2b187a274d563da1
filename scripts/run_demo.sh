#!/usr/bin/env bash
# The main job on a fresh machine, CPU only: set up, generate the demo data,
# pack its training split into LMDB, train the demo UniRain, then benchmark
# it per rain type against the input.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
bash "$ROOT/scripts/setup_env.sh"
cd "$ROOT"
PY="${UNIRAIN_VENV:-$ROOT/.venv}/bin/python"
CONFIG=configs/unirain/unirain_demo_cpu.py
WORK_DIR=${WORK_DIR:-work_dirs/unirain_demo_cpu}

"$PY" tools/misc/make_demo_data.py --root data/demo
# training reads LMDB, as with the full data (resumes / skips when packed)
"$PY" tools/dataset_converters/pack_lmdb.py --layout data/demo --split train \
    --out data/demo/lmdb/train
"$PY" tools/train.py "$CONFIG" --work-dir "$WORK_DIR"
"$PY" tools/test.py "$CONFIG" "$WORK_DIR/iter_1800.pth" --work-dir "$WORK_DIR"
