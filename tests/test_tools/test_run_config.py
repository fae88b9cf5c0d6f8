import os.path as osp

import pytest
import torch

from mmropim.utils.run_config import load_run_config
from helpers import REPO_ROOT, raises_naming, run_tool_process

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


FULL_AMP = osp.join(REPO_ROOT, 'configs', 'ropim',
                    'ropim_beit-base-p16_8xb256-amp-coslr-300e_in1k.py')


def test_no_amp_turns_an_amp_config_into_fp32():
    """Before: MMEngine's AmpOptimWrapper refused the CPU, and switching
    its type by hand then failed on loss_scale."""
    from mmengine.optim import OptimWrapper
    cfg = load_run_config(FULL_AMP)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    cfg = load_run_config(FULL_AMP, no_amp=True)
    assert cfg.optim_wrapper.type == 'OptimWrapper'
    # what is left builds the fp32 wrapper
    kept = {k: v for k, v in cfg.optim_wrapper.items()
            if k not in ('type', 'optimizer', 'constructor', 'paramwise_cfg')}
    OptimWrapper(torch.optim.SGD([torch.zeros(1, requires_grad=True)], 0.1),
                 **kept)
    with raises_naming(ValueError, '--amp', '--no-amp'):
        load_run_config(FULL_AMP, amp=True, no_amp=True)


def test_a_stock_collate_scope_is_dropped_before_workers_start():
    """A config inheriting mmpretrain::... gets _scope_ in its collate_fn,
    which MMEngine's Runner passed to default_collate as an argument (a
    TypeError inside a data-loader worker)."""
    from mmengine.dataset import default_collate
    from mmengine.registry import FUNCTIONS
    cfg = load_run_config(TINY, cfg_options={
        'train_dataloader.collate_fn': dict(type='default_collate',
                                            _scope_='mmpretrain')})
    assert dict(cfg.train_dataloader.collate_fn) == dict(
        type='default_collate')
    assert FUNCTIONS.get(cfg.train_dataloader.collate_fn.type) is \
        default_collate


def test_train_runs_an_amp_config_in_fp32_on_a_cpu(
        small_demo_root, tmp_path):
    """tools/train.py --no-amp on a config with MMEngine's AmpOptimWrapper
    (as every full-size config has) trains on a CPU."""
    result = run_tool_process(
        'tools/train.py', TINY, '--no-amp', '--work-dir',
        str(tmp_path / 'work'), '--cfg-options',
        f'train_dataloader.dataset.data_root={small_demo_root}',
        'train_cfg.max_epochs=1', 'optim_wrapper.type=AmpOptimWrapper',
        'optim_wrapper.loss_scale=dynamic', timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / 'work' / 'epoch_1.pth').exists()
