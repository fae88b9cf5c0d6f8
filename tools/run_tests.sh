#!/usr/bin/env bash
# Set up the environment and run the test suite (CPU).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash tools/setup_env.sh
PY=${MMROPIM_VENV:-$ROOT/.venv}/bin/python
# lint first (settings in setup.cfg): flake8 and isort, OpenMMLab's 79 columns
"$PY" -m flake8 .
"$PY" -m isort --check-only --diff .
"$PY" -m pytest tests -q -p no:cacheprovider "$@"
