#!/usr/bin/env bash
# Install ragsite into one venv per Python version (.venv-py3.11, .venv-py3.12, .venv-py3.13) and
# run pytest in each; a version with no interpreter on this machine is skipped, and said so.
#
#   scripts/test-pythons.sh [pytest args]     e.g. tests/knowledge tests/chat
#
# Environment: PYTHONS (default "3.11 3.12 3.13"), TORCH (passed to scripts/venv.sh; `make
# test-pythons` sets auto). Exit status: 0 only if every version found installed and passed.
set -uo pipefail
cd "$(dirname "$0")/.."

pythons=${PYTHONS:-3.11 3.12 3.13}
summary=()
status=0
for v in $pythons; do
    venv=".venv-py$v"
    echo "=== Python $v: $venv ==="
    start=$SECONDS
    PYTHON_VERSION=$v PYTHON= bash scripts/venv.sh "$venv"
    rc=$?
    if [ "$rc" = 2 ]; then
        summary+=("Python $v: skipped (no interpreter found)")
        continue
    elif [ "$rc" != 0 ]; then
        summary+=("Python $v: install FAILED (exit $rc)")
        status=1
        continue
    fi
    installed=$((SECONDS - start))
    start=$SECONDS
    HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@" \
        2>&1 | tee "$venv/pytest.log"
    rc=${PIPESTATUS[0]}
    last=$(grep -E '^=* ?[0-9]+ (passed|failed|errors?|skipped|deselected)' "$venv/pytest.log" | tail -n1 | tr -d '=')
    [ "$rc" = 0 ] || status=1
    summary+=("Python $("$venv/bin/python" -V 2>&1 | cut -d' ' -f2): install ${installed}s, pytest exit $rc:${last:- no summary line} (log: $venv/pytest.log)")
done
echo "=== test-pythons summary ==="
printf '%s\n' "${summary[@]}"
exit $status
