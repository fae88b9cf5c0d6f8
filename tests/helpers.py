"""Helpers shared by the tests (import them from here, not from conftest):
paths, the tiny configs, running a tool as a user does, reading a run's
logged scalars."""
import glob
import json
import os.path as osp
import subprocess
import sys

TESTS_DIR = osp.dirname(osp.abspath(__file__))
REPO_ROOT = osp.dirname(TESTS_DIR)
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from tools.analysis import check_configs  # noqa: E402,F401

ROPIM_TINY_CFG = osp.join(REPO_ROOT, 'configs', 'ropim',
                          'ropim_beit-mini-p8_1xb32-coslr-20e_demo-64px.py')
PRMIM_TINY_CFG = osp.join(REPO_ROOT, 'configs', 'prmim',
                          'prmim_vit-mini-p8_1xb32-coslr-20e_demo-64px.py')
ITERS_PER_EPOCH = 14  # 14 classes x 32 crops / batch 32


def run_tool(*args):
    """Run ``python ARGS...`` from the repository root; assert it succeeds
    and return its stdout + stderr."""
    result = subprocess.run([sys.executable, *args],
                            cwd=REPO_ROOT,
                            capture_output=True,
                            text=True,
                            timeout=900)
    assert result.returncode == 0, \
        result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def logged_scalars(work_dir):
    """The rows of every ``vis_data/scalars.json`` of a work dir, one list
    per run, oldest first."""
    rows = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            rows.append([json.loads(line) for line in f])
    return rows


__all__ = [
    'TESTS_DIR', 'REPO_ROOT', 'ROPIM_TINY_CFG', 'PRMIM_TINY_CFG',
    'ITERS_PER_EPOCH', 'check_configs', 'run_tool', 'logged_scalars'
]
