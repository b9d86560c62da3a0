#!/usr/bin/env bash
# Sets up everything tb-perclass needs on a fresh machine; safe to run again (it only adds what
# is missing). Python packages go to a virtual environment this script creates and owns:
#   bash scripts/setup.sh           Python side: the package, PyTorch (CPU), TensorFlow (CPU)
#   bash scripts/setup.sh --tests   also the frontend toolchain (npm ci) and Debian's chromium
#
# VENV    where the virtual environment is (default: .venv in this checkout, the scripts' own).
#         Another path is installed into only when it is new or this script made it for this
#         checkout (it leaves a marker file, .tb-perclass-setup, in it). An existing environment
#         it did not make (yours, another project's, another checkout's) is refused: installing
#         would change its packages (torch, tensorflow-cpu, this checkout's package in editable
#         mode). TB_PERCLASS_USE_VENV=1 installs into it anyway, because you say so.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${VENV:-.venv}"  # a relative path is from the checkout's root
MARKER="$VENV/.tb-perclass-setup"
CHECKOUT="$(pwd -P)"
if [ -e "$VENV" ] && [ ! -x "$VENV/bin/python" ]; then
  echo "setup.sh: VENV=$VENV exists but is not a virtual environment (no $VENV/bin/python);" \
    "pass a new path or an environment made by this script" >&2
  exit 1
fi
if [ -x "$VENV/bin/python" ]; then
  owner="$(cat "$MARKER" 2>/dev/null || true)"
  # the default .venv of this checkout is the scripts' own (made before the marker existed)
  if [ -z "$owner" ] && [ "$(cd "$VENV" && pwd -P)" = "$CHECKOUT/.venv" ]; then
    owner="$CHECKOUT"
  fi
  if [ "$owner" != "$CHECKOUT" ] && [ "${TB_PERCLASS_USE_VENV:-}" != "1" ]; then
    if [ -z "$owner" ]; then
      why="an existing environment this script did not create"
    else
      why="the environment this script made for another checkout ($owner)"
    fi
    echo "setup.sh: VENV=$VENV is $why. Installing into it would change its packages" \
      "(torch, tensorflow-cpu, tb-perclass in editable mode from $CHECKOUT). Nothing was" \
      "changed. Pass a new path (e.g. VENV=.venv, the default), or TB_PERCLASS_USE_VENV=1" \
      "to install into this one anyway." >&2
    exit 1
  fi
else
  python3 -m venv "$VENV"
fi
echo "$CHECKOUT" > "$MARKER"
PIP=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)

# PyTorch first and pinned: an unpinned `torch` requirement resolves to a multi-GB CUDA build.
"${PIP[@]}" "torch==2.13.0"
# Everything else at the versions of scripts/constraints.txt (what CI last passed with).
"${PIP[@]}" -c scripts/constraints.txt "tensorflow-cpu>=2.16" -e ".[torch,dev]"

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
