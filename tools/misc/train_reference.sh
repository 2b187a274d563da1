#!/usr/bin/env bash
# Reproduce a reference model of the zoo end to end on the CPU: collect the
# clean photos (registry packages only), make the demo data (its val and test
# splits validate and test), train with online rain synthesis, publish the
# weights (hash-named, weights only) and test them on the demo test split and,
# when ../shared/realdata exists, on its real pairs.
#
#   bash tools/misc/train_reference.sh [unirain-s|restormer-s] [WORK_DIR]
#
# A rerun resumes the training from the last checkpoint of WORK_DIR (default
# work_dirs/<config name>). The published file lands in
# work_dirs/<config name>/published/; copy it to checkpoints/ and update the
# metafile to change the zoo.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
MODEL=${1:-unirain-s}
case "$MODEL" in
    unirain-s) CONFIG=configs/unirain/unirain_s_synth_ft.py ;;
    restormer-s) CONFIG=configs/baselines/restormer_s_synth_ft.py ;;
    *) echo "unknown model $MODEL (unirain-s or restormer-s)" >&2; exit 2 ;;
esac
NAME=$(basename "$CONFIG" .py)
WORK_DIR=${2:-work_dirs/$NAME}
bash "$ROOT/scripts/setup_env.sh"
cd "$ROOT"
PY="${UNIRAIN_VENV:-$ROOT/.venv}/bin/python"

"$PY" tools/misc/collect_clean_photos.py data/clean_photos
"$PY" tools/misc/make_demo_data.py --root data/demo
RESUME=()
if ls "$WORK_DIR"/iter_*.pth > /dev/null 2>&1; then RESUME=(--resume); fi
"$PY" tools/train.py "$CONFIG" --work-dir "$WORK_DIR" "${RESUME[@]}"
LAST=$(cat "$WORK_DIR/last_checkpoint")
PUBLISHED=$("$PY" tools/misc/publish_model.py "$LAST" \
    "$WORK_DIR/published/${NAME}_$(date +%Y%m%d)")
"$PY" tools/test.py "$CONFIG" "$PUBLISHED" --work-dir "$WORK_DIR/test_demo"
for protocol in mmagic authors; do
    PROTOCOL=${protocol/mmagic/} bash tools/misc/test_realdata.sh "$CONFIG" \
        "$PUBLISHED" "$ROOT/../shared/realdata" \
        "$WORK_DIR/test_realdata_$protocol"
done
echo "published: $PUBLISHED"
