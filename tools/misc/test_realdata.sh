#!/usr/bin/env bash
# Evaluate a checkpoint on the real paired samples of ../shared/realdata
# (Rain100H, HQ-NightRain and RainDrop samples; not part of the project):
# converts them with the generic converter (symlinks) and runs tools/test.py,
# saving the tables and the restored images with comparison grids.
#
#   bash tools/misc/test_realdata.sh CONFIG CKPT [REALDATA_DIR] [OUT_DIR]
#
# PROTOCOL=authors evaluates with the authors' convention instead
# (tools/test.py --protocol authors: centre crop to a multiple of 16,
# PSNR-RGB, pyiqa's SSIM).
#
# Exits 0 with a message when REALDATA_DIR (default ../shared/realdata) is
# absent, as it is on a user's machine.
set -euo pipefail
CONFIG=${1:?usage: test_realdata.sh CONFIG CKPT [REALDATA_DIR] [OUT_DIR]}
CKPT=${2:?usage: test_realdata.sh CONFIG CKPT [REALDATA_DIR] [OUT_DIR]}
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
REAL=${3:-$ROOT/../shared/realdata}
OUT=${4:-work_dirs/realdata}
# The project's venv (scripts/setup_env.sh) unless PYTHON says otherwise.
if [ -n "${PYTHON:-}" ]; then PY=$PYTHON
elif [ -x "$ROOT/.venv/bin/python" ]; then PY=$ROOT/.venv/bin/python
else PY=python; fi
if [ ! -d "$REAL" ]; then
    echo "no real samples at $REAL: nothing to test"; exit 0
fi
CONVERT="$PY $ROOT/tools/dataset_converters/convert_rain_datasets.py \
    --dataset generic --out $OUT/data --input-dir input --target-dir gt"
$CONVERT --src "$REAL/day_streak/rain100h_mspfn" --source rain100h_samples \
    --split Rain100H-samples --rain-type DRS
$CONVERT --src "$REAL/night_streak/hq_nightrain_cstnet" \
    --source hq_nightrain_samples --split HQ-NightRain-samples --rain-type NRS
$CONVERT --src "$REAL/day_raindrop/raindrop_qian_attentivegan" \
    --source raindrop_samples --split RainDrop-samples --rain-type DRD \
    --input-rule '{}_rain' --target-rule '{}_clean'
"$PY" "$ROOT/tools/test.py" "$CONFIG" "$CKPT" --data-root "$OUT/data" \
    --benchmarks Rain100H-samples:DRS HQ-NightRain-samples:NRS \
    RainDrop-samples:DRD --work-dir "$OUT" --save-dir "$OUT/images" \
    --save-grid ${PROTOCOL:+--protocol "$PROTOCOL"}
