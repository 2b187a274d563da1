#!/usr/bin/env bash
# The prepared GPU check: one Markdown report, meant to finish in under 8
# minutes on one CUDA GPU.
#
#   bash tools/analysis/gpu_check.sh [OUT_DIR]        (default work_dirs/gpu_check)
#
# 1. the tests that need CUDA (they skip elsewhere);
# 2. 100 iterations of configs/unirain/unirain_all.py and of Restormer's
#    config through tools/dist_train.sh CONFIG 1 (NCCL), with and without
#    --amp, on the generated demo data: iterations/s and peak memory;
# 3. tools/analysis/benchmark_speed.py --device cuda at 256x256, 512x512 and
#    1920x1080 (UniRain fp32, UniRain bf16, Restormer fp32);
# 4. the whole test suite on the GPU machine, for the time left of
#    GPU_CHECK_BUDGET_S (default 480 s) counted from the start.
#
# Packages the GPU machine lacks travel as wheels in .whl/ (made here by
# tools/analysis/gpu_wheels.sh, without opencv, which is too large to
# travel); they are installed to /tmp/site first, and the image's numpy 2
# and opencv are used, with np.bool8 (which mmagic 1.2.0 still uses)
# restored for this check only (a sitecustomize.py in /tmp/site).
# GPU_CHECK_SMOKE=1 runs the same steps tiny, on the CPU with gloo, to test
# this script on a machine without a GPU (the report then says so).
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
OUT_DIR=${1:-work_dirs/gpu_check}
REPORT="$OUT_DIR/gpu_check.md"
SMOKE=${GPU_CHECK_SMOKE:-0}
mkdir -p "$OUT_DIR"
if [ -z "${PYTHON:-}" ]; then
    if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON="$ROOT/.venv/bin/python"
    else PYTHON=python3; fi
fi
export PYTHON PYTHONUNBUFFERED=1
if [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile \
        --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
    echo 'import numpy; numpy.bool8 = numpy.bool_' > /tmp/site/sitecustomize.py
    export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi
# no network there: skip the version and model-cache checks that try it
export NO_ALBUMENTATIONS_UPDATE=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
BUDGET=${GPU_CHECK_BUDGET_S:-480}
if [ "$SMOKE" = 1 ]; then
    ITERS=4; LOG_EVERY=1; SHAPES="64x64"; SUITE=(tests/test_models/test_editors/test_unirain)
    DEVICE=cpu; GPUS_NOTE="smoke run on the CPU (GPU_CHECK_SMOKE=1)"
    SIZE_OPTS=(model.generator.dim=8)
else
    ITERS=100; LOG_EVERY=10; SHAPES="256x256 512x512 1920x1080"; SUITE=(tests)
    DEVICE=cuda; GPUS_NOTE="one CUDA GPU"
    SIZE_OPTS=()
fi
UNIRAIN=configs/unirain/unirain_all.py
RESTORMER=configs/baselines/restormer_all.py
T0=$(date +%s)
step() { echo; echo "== $* ($(( $(date +%s) - T0 )) s)"; }

{
    echo "# GPU check ($(date -u +%Y-%m-%dT%H:%MZ), $GPUS_NOTE)"
    echo
    echo '```'
    nvidia-smi --query-gpu=name,memory.total,driver_version \
        --format=csv,noheader 2>/dev/null || echo "nvidia-smi: none"
    "$PYTHON" -c "import torch; print('torch', torch.__version__, 'cuda', \
torch.version.cuda, 'available', torch.cuda.is_available())"
    echo "git $(git rev-parse --short HEAD 2>/dev/null)"
    "$PYTHON" -c "import numpy, cv2; print('numpy', numpy.__version__, 'opencv', cv2.__version__)"
    echo '```'
} > "$REPORT"

step "1. CUDA tests"
timeout 120 "$PYTHON" -m pytest -q -rs -p no:cacheprovider tests -k cuda \
    > "$OUT_DIR/tests_cuda.log" 2>&1
rc=$?
{ echo; echo "## 1. Tests that need CUDA: pytest tests -k cuda (exit $rc)"
  echo; echo '```'; tail -n 12 "$OUT_DIR/tests_cuda.log"; echo '```'; } >> "$REPORT"

step "2. training steps"
DATA="$OUT_DIR/data"
"$PYTHON" tools/misc/make_demo_data.py --root "$DATA" > "$OUT_DIR/data.log" 2>&1
"$PYTHON" tools/dataset_converters/pack_lmdb.py --layout "$DATA" \
    --split train --out "$DATA/lmdb/train" >> "$OUT_DIR/data.log" 2>&1
{ echo; echo "## 2. $ITERS training iterations, tools/dist_train.sh CONFIG 1"
  echo; echo "| model | precision | s/iter (median, last half) | iter/s | peak memory (MiB) | exit |"
  echo "|---|---|---|---|---|---|"; } >> "$REPORT"
for cfg in "$UNIRAIN" "$RESTORMER"; do
    for amp in "" "--amp"; do
        name="$(basename "$cfg" .py)${amp:+_amp}"
        [ "$SMOKE" = 1 ] && [ -n "$amp" ] && continue  # --amp needs CUDA
        wd="$OUT_DIR/train_$name"
        PORT=$((29500 + RANDOM % 1000)) timeout 150 bash tools/dist_train.sh \
            "$cfg" 1 $amp --no-validate --work-dir "$wd" --data-root "$DATA" \
            --cfg-options train_cfg.max_iters=$ITERS \
            default_hooks.logger.interval=$LOG_EVERY \
            default_hooks.checkpoint.interval=100000 "${SIZE_OPTS[@]}" \
            > "$OUT_DIR/train_$name.log" 2>&1
        rc=$?
        "$PYTHON" - "$wd" "$name" "$amp" "$rc" >> "$REPORT" <<'EOF'
import glob, json, statistics, sys
wd, name, amp, rc = sys.argv[1:]
rows = []
for path in glob.glob(f'{wd}/*/vis_data/scalars.json'):
    with open(path) as f:
        rows += [json.loads(line) for line in f if '"time"' in line]
times = [r['time'] for r in rows[len(rows) // 2:]]
mem = max((r.get('memory', 0) for r in rows), default=0)
model = name.replace('_amp', '')
prec = 'AMP (fp16)' if amp else 'fp32'
if times:
    t = statistics.median(times)
    print(f'| {model} | {prec} | {t:.4f} | {1 / t:.2f} | {mem} | {rc} |')
else:
    print(f'| {model} | {prec} | - | - | - | {rc} (no log) |')
EOF
    done
done

step "3. inference speed"
"$PYTHON" tools/analysis/benchmark_speed.py --device "$DEVICE" \
    --variant unirain=$UNIRAIN --variant unirain_bf16=$UNIRAIN,dtype=bf16 \
    --variant restormer=$RESTORMER --reference restormer \
    --shapes $SHAPES --warmup 1 --repeats 3 --out "$OUT_DIR/speed" \
    > "$OUT_DIR/speed.log" 2>&1
rc=$?
{ echo; echo "## 3. benchmark_speed.py --device $DEVICE (exit $rc)"; echo
  cat "$OUT_DIR/speed.md" 2>/dev/null || tail -n 20 "$OUT_DIR/speed.log"; } >> "$REPORT"

step "4. whole test suite"
LEFT=$(( BUDGET - ($(date +%s) - T0) ))
if [ "$LEFT" -gt 30 ]; then
    timeout "$LEFT" "$PYTHON" -m pytest -q -p no:cacheprovider "${SUITE[@]}" \
        > "$OUT_DIR/tests.log" 2>&1
    rc=$?
    [ "$rc" = 124 ] && rc="124: stopped after ${LEFT} s, the rest of the budget"
    { echo; echo "## 4. Whole test suite (exit $rc)"; echo; echo '```'
      grep -E '^(FAILED|ERROR)' "$OUT_DIR/tests.log" | head -n 20
      tail -n 3 "$OUT_DIR/tests.log"; echo '```'; } >> "$REPORT"
else
    { echo; echo "## 4. Whole test suite: not run, ${LEFT} s of the budget left"; } >> "$REPORT"
fi
echo "Total: $(( $(date +%s) - T0 )) s" >> "$REPORT"
echo "Report: $REPORT"
cat "$REPORT"
