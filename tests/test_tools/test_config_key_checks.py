"""Config typos are refused when the run is built, naming the key and what
it is close to: a top-level key nothing reads (silently ignored before) and
a checkpoint hook argument (before: a TypeError at the first save)."""
import glob
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config

import mmropim  # noqa: F401
from mmropim.engine import SafeCheckpointHook
from mmropim.utils.config_checks import (ConfigKeyError, check_config_keys,
                                         check_top_level_keys)
from helpers import REPO_ROOT, ROPIM_TINY_CFG

SHORT_RUN = ['train_dataloader.dataset.indices=32', 'train_cfg.max_epochs=1']


def train(tmp_path, demo_root, config, *options):
    return subprocess.run(
        [sys.executable, 'tools/train.py', config, '--work-dir',
         str(tmp_path / 'work'), '--cfg-options',
         f'train_dataloader.dataset.data_root={demo_root}', *SHORT_RUN,
         *options], cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=900)


def test_checkpoint_hook_typo_is_refused_before_training(tmp_path,
                                                         demo_root):
    result = train(tmp_path, demo_root, ROPIM_TINY_CFG,
                   'default_hooks.checkpoint.max_keep_ckpt=1')
    assert result.returncode != 0
    assert "SafeCheckpointHook has no argument 'max_keep_ckpt'; did you " \
        "mean 'max_keep_ckpts'?" in result.stderr
    assert 'Epoch(train)' not in result.stdout + result.stderr


def test_top_level_typo_is_refused(tmp_path, demo_root):
    config = tmp_path / 'typo.py'
    config.write_text(f'_base_ = [{ROPIM_TINY_CFG!r}]\n'
                      'trian_cfg = dict(max_epochs=1)\n')
    result = train(tmp_path, demo_root, str(config))
    assert result.returncode != 0
    assert "ConfigKeyError: the config sets 'trian_cfg', which nothing " \
        "reads; did you mean 'train_cfg'?" in result.stderr
    assert 'Epoch(train)' not in result.stdout + result.stderr


def test_hook_arguments_are_checked_when_built():
    with pytest.raises(TypeError, match="has no argument 'intervall'; did "
                       "you mean 'interval'"):
        SafeCheckpointHook(intervall=2)
    with pytest.raises(TypeError, match="no argument 'save_random_state'"):
        SafeCheckpointHook(save_random_state=False)
    hook = SafeCheckpointHook(interval=2, max_keep_ckpts=1, save_best='auto',
                              published_keys=['meta', 'state_dict'])
    assert hook.max_keep_ckpts == 1
    with pytest.raises(TypeError, match="CheckpointHook has no argument "
                       "'save_optimiser'; did you mean 'save_optimizer'"):
        check_config_keys(Config(dict(default_hooks=dict(checkpoint=dict(
            type='CheckpointHook', save_optimiser=False)))))


@pytest.mark.parametrize('key,meant', [('work_dirs', 'work_dir'),
                                       ('default_hook', 'default_hooks'),
                                       ('param_schedulers', 'param_scheduler'),
                                       ('val_evaluater', 'val_evaluator')])
def test_close_top_level_keys_are_refused(key, meant):
    with pytest.raises(ConfigKeyError, match=f"'{key}'.*'{meant}'"):
        check_top_level_keys({key: 1})


def test_config_variables_are_not_taken_for_typos():
    check_top_level_keys(dict.fromkeys([
        '_base_', 'custom_imports', 'dataset_type', 'data_root',
        'train_pipeline', 'test_pipeline', 'bgr_mean', 'bgr_std',
        'pretrained', 'mini_arch', 'num_classes', 'crop_size', 'img_scale',
        'backend_args', 'norm_cfg', 'image_size', 'batch_augments',
        'model_wrapper_cfg', 'tta_model', 'tta_pipeline', 'max_epochs',
        'val_interval', 'base_lr', 'vis_backends', 'metainfo'
    ]))


def test_every_shipped_config_passes():
    configs = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'),
                               recursive=True))
    configs = [c for c in configs if '/_base_/' not in c]
    assert len(configs) > 40
    for config in configs:
        check_config_keys(Config.fromfile(config))
