#!/usr/bin/env bash
# Sets up everything tb-perclass needs on a fresh machine; safe to run again (it only adds what
# is missing). Python packages go to a virtual environment in .venv (override with VENV=...).
#   bash scripts/setup.sh           Python side: the package, PyTorch (CPU), TensorFlow (CPU)
#   bash scripts/setup.sh --tests   also the frontend toolchain (npm ci) and Debian's chromium
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)

# PyTorch first and pinned: an unpinned `torch` requirement resolves to a multi-GB CUDA build.
"${PIP[@]}" "torch==2.13.0"
"${PIP[@]}" "tensorflow-cpu>=2.16" -e ".[torch,dev]"

if [ "${1:-}" = "--tests" ]; then
  npm ci --prefix frontend --no-audit --no-fund --loglevel=error
  if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
      echo "The browser tests need Debian's chromium: sudo apt-get install -y chromium" >&2
      exit 1
    fi
  fi
fi
