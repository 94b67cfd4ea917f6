#!/usr/bin/env bash
# Create (or bring up to date) a virtualenv for ragsite and install the project into it with pip.
#
#   scripts/venv.sh [VENV_DIR]          default .venv
#
# Environment:
#   PYTHON=/path/to/python3.x   the interpreter to build the venv with (must be 3.11, 3.12 or 3.13)
#   PYTHON_VERSION=3.13         look for that version only (used by `make test-pythons`)
#   TORCH=cpu                   cpu (default): PyTorch's CPU build, or stop and say why not;
#                               cuda: PyPI's own build (on Linux x86_64 that is the CUDA build, GBs);
#                               auto: cpu when it can be had here, else PyPI's build (announced);
#                               a URL: an index to take torch from, e.g. .../whl/cu126
#   TORCH_CPU_INDEX             PyTorch's CPU wheel index (default below)
#
# Only pip is used: uv and poetry do not read pip's configuration (local wheel folders,
# constraints), so they would take a different torch.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${1:-.venv}
supported="3.11 3.12 3.13"
torch_choice=${TORCH:-cpu}
cpu_index=${TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}
# Packages earlier pins brought in that would clash with today's (both ship `cv2`).
retired="rapidocr-onnxruntime opencv-python"

say() { printf '%s\n' "venv.sh: $*" >&2; }
die() { say "$*"; exit 1; }

# major.minor of an interpreter that runs, else nothing (a pyenv shim for a version
# that is not selected fails, and so prints nothing).
version_of() {
    env -u PYTHONHOME -u PYTHONPATH "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' \
        2>/dev/null </dev/null || true
}
is_supported() { case " $supported " in *" $1 "*) return 0 ;; esac; return 1; }

pyenv_root() {
    if [ -n "${PYENV_ROOT:-}" ]; then echo "$PYENV_ROOT"
    elif command -v pyenv >/dev/null 2>&1; then pyenv root 2>/dev/null || true
    elif [ -d "$HOME/.pyenv" ]; then echo "$HOME/.pyenv"
    fi
}

# Candidate interpreters, most preferred first: python3 (the user's default), python3.11,
# python3.12, python3.13 on PATH, then pyenv's installed versions (newest patch first).
candidates() {
    local want=${PYTHON_VERSION:-} root v
    if [ -n "$want" ]; then echo "python$want"; else echo python3; for v in $supported; do echo "python$v"; done; fi
    root=$(pyenv_root)
    if [ -n "$root" ] && [ -d "$root/versions" ]; then
        for v in ${want:-$supported}; do
            ls -d "$root/versions/$v".* 2>/dev/null | grep -E "/$v\.[0-9]+$" | sort -t. -k3,3nr \
                | sed "s|\$|/bin/python$v|"
        done
    fi
}

check_named_python() {  # PYTHON=... given by hand: it must run and be a supported version
    local v
    v=$(version_of "$PYTHON")
    [ -n "$v" ] || die "PYTHON=$PYTHON does not run."
    is_supported "$v" || die "PYTHON=$PYTHON is Python $v; ragsite needs Python 3.11, 3.12 or 3.13."
    [ -z "${PYTHON_VERSION:-}" ] || [ "$v" = "$PYTHON_VERSION" ] \
        || die "PYTHON=$PYTHON is Python $v, not $PYTHON_VERSION."
}

find_python() {
    local c v
    if [ -n "${PYTHON:-}" ]; then echo "$PYTHON"; return; fi
    while read -r c; do
        v=$(version_of "$c")
        if [ -n "$v" ] && is_supported "$v" && { [ -z "${PYTHON_VERSION:-}" ] || [ "$v" = "$PYTHON_VERSION" ]; }; then
            echo "$c"; return
        fi
    done < <(candidates)
    return 1
}

no_python_message() {
    local what=${PYTHON_VERSION:-"3.11, 3.12 or 3.13"}
    cat >&2 <<EOF
venv.sh: ragsite needs Python $what, and none was found
  (looked for python3, python3.11, python3.12, python3.13 on PATH and in pyenv's versions).
  Get one from your distribution (Debian 12: python3.11; Ubuntu 24.04: python3.12; Fedora 41:
  python3.13), python.org, or pyenv (\`pyenv install 3.13\`), then run
  \`make venv PYTHON=/path/to/python3.13\` (any of 3.11-3.13).
EOF
}

# --- the interpreter and the venv -------------------------------------------------------------
py="$venv/bin/python"
if [ -n "${PYTHON:-}" ]; then check_named_python; fi
if [ -x "$py" ]; then
    have=$(version_of "$py")
    is_supported "$have" || die "$venv uses Python ${have:-?(does not run)}; ragsite needs 3.11-3.13. Remove $venv or choose another VENV."
    if [ -n "${PYTHON:-}" ] && [ "$(version_of "$PYTHON")" != "$have" ]; then
        die "$venv is Python $have but PYTHON=$PYTHON is $(version_of "$PYTHON"): remove $venv first, or use VENV=<another dir>."
    fi
    if [ -n "${PYTHON_VERSION:-}" ] && [ "$PYTHON_VERSION" != "$have" ]; then
        die "$venv is Python $have, not $PYTHON_VERSION: remove it first."
    fi
else
    base=$(find_python) || { no_python_message; exit 2; }
    say "creating $venv with $base (Python $(version_of "$base"))"
    env -u PYTHONHOME -u PYTHONPATH "$base" -m venv "$venv"
fi
pip=("$py" -m pip --disable-pip-version-check)

# --- torch, first and on purpose --------------------------------------------------------------
torch_pin=$(sed -n 's/^ *"torch==\([^"]*\)".*/\1/p' pyproject.toml | head -n1)
[ -n "$torch_pin" ] || die "no exact torch pin (\"torch==X\") in pyproject.toml"
installed=$("$py" -c 'import importlib.metadata as m; print(m.version("torch"))' 2>/dev/null || true)

index_answers() {  # does a PEP 503 index give a page for torch within 15 s?
    "$py" - "$1" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
urllib.request.urlopen(sys.argv[1].rstrip("/") + "/torch/", timeout=15).read(1)
EOF
}

# Would `pip install torch==PIN` (with these extra args) bring a CUDA build? Prints the
# torch version it would take and, on stdout's second line, "cuda" or "cpu".
torch_plan() {
    local report
    report=$(mktemp)
    "${pip[@]}" install --dry-run --quiet --ignore-installed --report "$report" "$@" "torch==$torch_pin" >/dev/null 2>&1 \
        || { rm -f "$report"; return 1; }
    "$py" - "$report" <<'EOF'
import json, sys
items = json.load(open(sys.argv[1]))["install"]
names = {i["metadata"]["name"].lower(): i["metadata"]["version"] for i in items}
cuda = any(n.startswith(("nvidia-", "cuda-")) for n in names) or "+cu" in names.get("torch", "")
print(names.get("torch", "?"))
print("cuda" if cuda else "cpu")
EOF
    rm -f "$report"
}

install_torch() {
    local args=() plan version kind
    case "$torch_choice" in
        cpu | auto)
            if index_answers "$cpu_index"; then
                args=(--extra-index-url "$cpu_index")
            fi
            if plan=$(torch_plan "${args[@]}"); then
                version=$(sed -n 1p <<<"$plan"); kind=$(sed -n 2p <<<"$plan")
            else
                version="none"; kind="none"
            fi
            if [ "$kind" != cpu ]; then
                if [ "$torch_choice" = auto ] && plan=$(torch_plan); then
                    say "no CPU build of torch $torch_pin for Python $("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])') here ($cpu_index did not answer, no local wheel):"
                    say "TORCH=auto takes PyPI's build, torch $(sed -n 1p <<<"$plan") ($(sed -n 2p <<<"$plan"); the CUDA build is about 5 GB in the venv)."
                    args=()
                else
                    cat >&2 <<EOF
venv.sh: cannot install the CPU build of torch $torch_pin here:
  PyTorch's CPU index ($cpu_index) did not answer, and pip found no local CPU wheel for
  this Python (pip would take: torch $version, $kind build).
  Choose one:  TORCH=cuda  PyPI's build (on Linux x86_64 the CUDA build: about 3 GB to download,
                           about 5 GB in the venv; it also runs on a machine without a GPU)
               TORCH_CPU_INDEX=<url>  a mirror of PyPI's CPU index for torch
               or put a torch-$torch_pin+cpu wheel in a folder and name it in PIP_FIND_LINKS.
EOF
                    exit 3
                fi
            fi
            ;;
        cuda) args=() ;;
        http://* | https://* | file://*) args=(--extra-index-url "$torch_choice") ;;
        *) die "TORCH=$torch_choice: expected cpu, cuda, auto or an index URL." ;;
    esac
    say "installing torch==$torch_pin ${args[*]}"
    "${pip[@]}" install "${args[@]}" "torch==$torch_pin"
}

if [ "${installed%%+*}" = "$torch_pin" ]; then
    say "torch $installed is installed already"
else
    install_torch
fi

# --- the project ------------------------------------------------------------------------------
dist_version() { "$py" -c "import importlib.metadata as m; print(m.version('$1'))" 2>/dev/null; }
removed=""
for dist in $retired; do
    if dist_version "$dist" >/dev/null; then
        "${pip[@]}" uninstall -y "$dist"
        removed=yes
    fi
done
# opencv-python and opencv-python-headless share the `cv2` folder: removing one took files of the other.
if [ -n "$removed" ] && headless=$(dist_version opencv-python-headless); then
    "${pip[@]}" install --force-reinstall --no-deps "opencv-python-headless==$headless"
fi
"${pip[@]}" install -e '.[dev]'
say "$venv ready: $("$py" -c 'import sys, torch; print("Python %d.%d.%d" % sys.version_info[:3], "torch", torch.__version__, "CUDA build" if torch.version.cuda else "CPU build")')"
