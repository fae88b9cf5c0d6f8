#!/usr/bin/env bash
# The main job: set up the environment, write the demo images from real
# photos shipped by scikit-image / scikit-learn, pre-train a small ROPIM ViT
# on the CPU, and print a summary (loss, checkpoint, log).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash tools/setup_env.sh --pretrain-only
PY=${MMROPIM_VENV:-$ROOT/.venv}/bin/python
WORK_DIR=${WORK_DIR:-work_dirs/ropim_demo}
"$PY" tools/dataset_converters/make_demo_data.py --out data/demo
"$PY" tools/train.py configs/ropim/ropim_beit-mini-p8_1xb32-coslr-20e_demo-64px.py \
  --work-dir "$WORK_DIR" "$@"
"$PY" tools/analysis/summarize_run.py "$WORK_DIR"
