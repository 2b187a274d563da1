#!/usr/bin/env bash
# Check that every pin of requirements/lock.txt and requirements/tests.txt
# resolves from the public package index alone: pip runs isolated and reads
# no configuration file, so no local wheel folder, extra index or constraint
# helps, and downloads each pinned file without its dependencies (for this
# machine's Python and platform). torch, a multi-gigabyte wheel on Linux, is
# only looked up, not downloaded.
#
#   bash tools/misc/check_pins.sh [INDEX_URL]    (default: PyPI's simple index)
#
# Exits non-zero and names every pin that does not resolve.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
INDEX=${1:-https://pypi.org/simple}
# The project's venv (scripts/setup_env.sh) unless PYTHON says otherwise.
if [ -n "${PYTHON:-}" ]; then PY=$PYTHON
elif [ -x "$ROOT/.venv/bin/python" ]; then PY=$ROOT/.venv/bin/python
else PY=python3; fi
DEST="$(mktemp -d)"
trap 'rm -rf "$DEST"' EXIT
PIP=(env PIP_CONFIG_FILE=/dev/null "$PY" -m pip --isolated
     --disable-pip-version-check)
# --isolated ignores PIP_CERT too: hand a configured CA bundle on explicitly
CERT=()
if [ -n "${PIP_CERT:-}" ]; then CERT=(--cert "$PIP_CERT"); fi

checked=0
failed=()
for pin in $(sed 's/#.*//' "$ROOT/requirements/lock.txt" \
        "$ROOT/requirements/tests.txt"); do
    checked=$((checked + 1))
    name=${pin%%==*}
    version=${pin#*==}
    if [ "$name" = torch ]; then
        if "${PIP[@]}" index versions torch --index-url "$INDEX" \
                "${CERT[@]}" 2>/dev/null | grep '^Available versions:' |
                cut -d: -f2 | tr ',' '\n' | tr -d ' ' | grep -qxF "$version"
        then
            echo "ok   $pin (looked up, not downloaded)"
        else
            echo "FAIL $pin"; failed+=("$pin")
        fi
    elif "${PIP[@]}" download --no-deps --quiet --index-url "$INDEX" \
            "${CERT[@]}" -d "$DEST" "$pin" >"$DEST/log" 2>&1; then
        echo "ok   $pin"
    else
        echo "FAIL $pin: $(tail -1 "$DEST/log")"; failed+=("$pin")
    fi
done
echo "$((checked - ${#failed[@]})) of $checked pins resolve from $INDEX" \
    "alone ($("$PY" -c 'import sys, sysconfig; print(
    "Python %d.%d" % sys.version_info[:2], sysconfig.get_platform())'))"
if [ ${#failed[@]} -gt 0 ]; then
    echo "not resolved: ${failed[*]}" >&2
    exit 1
fi
