#!/usr/bin/env bash
# Sets up everything (Python packages, npm packages from the lockfile, chromium), then runs the
# whole test suite: Python unit and integration tests, plugin routes against real tensorboard
# processes, frontend unit tests and bundle freshness, and the browser end-to-end tests.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k curves`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests
exec "${VENV:-.venv}/bin/python" -m pytest "$@"
