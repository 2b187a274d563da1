#!/usr/bin/env bash
# Wheels for tools/analysis/gpu_check.sh: the pinned packages that the lent
# GPU machine's image lacks (it holds torch, numpy 2, opencv-headless, onnx
# and onnxruntime of its own and reaches no package index), for its
# Python 3.12, into .whl/ (ignored by git). Run here, where pip works.
#   bash tools/analysis/gpu_wheels.sh
# Neither numpy nor opencv travels: the image's scipy needs its numpy 2
# (seen 2026-12-04), and opencv's 50 MB wheel with the tracked files exceeds
# what the device tool carries. gpu_check.sh restores np.bool8 for mmagic.
# transformers, tokenizers and huggingface-hub travel at the lock's versions:
# diffusers 0.24 (imported by mmagic) needs the old hub, the image's
# transformers the new one.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
grep -qxF '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
NEEDED="mmengine mmcv-lite mmagic mmpretrain addict yapf termcolor lmdb lpips
resize-right albumentations albucore pydantic pydantic-core annotated-types
typing-inspection simsimd stringzilla mat4py modelindex model-index
ordered-set diffusers lazy-importer
importlib-metadata platformdirs huggingface-hub transformers tokenizers"
pins=()
for name in $NEEDED; do
    pin=$(grep -iE "^${name}==" requirements/lock.txt | sed 's/ .*//')
    [ -n "$pin" ] || { echo "not in the lock: $name" >&2; exit 1; }
    pins+=("$pin")
done
rm -rf .whl && mkdir -p .whl
PY="${UNIRAIN_VENV:-$ROOT/.venv}/bin/python"
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 \
    --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform manylinux1_x86_64 \
    --platform any -d .whl "${pins[@]}"
du -sh .whl
echo "the device tool carries at most 64 MiB with the working tree"
