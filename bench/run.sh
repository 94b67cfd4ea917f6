#!/usr/bin/env bash
# Run every benchmark in bench/: each module bench/NAME.py with a `__main__` guard and each
# package bench/NAME/ with a __main__.py, as `python -m bench.NAME`. Helper modules are skipped.
# Exits non-zero if any benchmark failed, after running all of them.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
# Models ship inside packages; no hub is reachable, so never try one.
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1}
failed=()
for path in bench/*.py bench/*/__main__.py; do
	[ -f "$path" ] || continue
	case "$path" in
	*/__main__.py) name=$(basename "$(dirname "$path")") ;;
	*) grep -q '^if __name__ == "__main__":' "$path" || continue
		name=$(basename "$path" .py) ;;
	esac
	echo "### bench.$name"
	"$PY" -m "bench.$name" || failed+=("$name")
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "failed: ${failed[*]}" >&2
	exit 1
fi
