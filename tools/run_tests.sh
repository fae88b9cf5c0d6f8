#!/usr/bin/env bash
# Set up the environment and run the test suite (CPU).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash tools/setup_env.sh
PY=${MMROPIM_VENV:-$ROOT/.venv}/bin/python
"$PY" -m pytest tests -q -p no:cacheprovider "$@"
