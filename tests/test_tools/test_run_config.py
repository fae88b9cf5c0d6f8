import os.path as osp

import pytest
import torch

from mmropim.utils.run_config import load_run_config
from helpers import REPO_ROOT, raises_naming

TINY = osp.join(REPO_ROOT, 'configs', 'ropim',
                'ropim_beit-mini-p8_1xb32-coslr-20e_demo-64px.py')


def test_overrides_and_default_work_dir():
    cfg = load_run_config(TINY, cfg_options={'train_cfg.max_epochs': 3})
    assert cfg.train_cfg.max_epochs == 3
    assert cfg.work_dir == osp.join(
        './work_dirs', 'ropim_beit-mini-p8_1xb32-coslr-20e_demo-64px')
    assert load_run_config(TINY, work_dir='/tmp/x').work_dir == '/tmp/x'


def test_missing_config_is_named():
    with raises_naming(FileNotFoundError, 'configs/nope.py'):
        load_run_config('configs/nope.py')


@pytest.mark.skipif(torch.cuda.is_available(), reason='needs a CPU machine')
def test_gpu_only_options_fail_clearly_on_cpu():
    with raises_naming(RuntimeError, '--amp', 'CUDA'):
        load_run_config(TINY, amp=True)
    with raises_naming(RuntimeError, '--launcher slurm', 'CUDA',
                       '--launcher pytorch'):
        load_run_config(TINY, launcher='slurm')
