"""Short real runs through tools/train.py and tools/test.py on the demo
images: the loss falls, checkpoints are written, --resume continues, and the
checkpoint fine-tunes in MMPretrain's BEiTViT without key surgery."""
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

import mmropim  # noqa: F401
from mmropim.utils import load_local_checkpoint
from helpers import (ITERS_PER_EPOCH, REPO_ROOT,
                     assert_test_reproduces_validation, logged_scalars,
                     run_tool)

FINETUNE_CFG = osp.join(REPO_ROOT, 'configs', 'ropim', 'benchmarks',
                        'beit-mini-p8_1xb32-coslr-10e_demo-64px.py')


def test_pretraining_loss_falls_and_checkpoints_are_written(pretrain_run):
    work_dir = pretrain_run['work_dir']
    first_run = logged_scalars(work_dir)[0]
    losses = [row['loss'] for row in first_run if 'loss' in row]
    assert len(losses) >= 6
    assert sum(losses[-3:]) / 3 < 0.9 * sum(losses[:2]) / 2, losses
    for epoch in (4, 6):
        assert osp.isfile(osp.join(work_dir, f'epoch_{epoch}.pth'))


def test_resume_continues_where_the_run_stopped(pretrain_run):
    resumed = logged_scalars(pretrain_run['work_dir'])[1]
    iters = [row['iter'] for row in resumed if 'loss' in row]
    assert iters and min(iters) > 4 * ITERS_PER_EPOCH
    assert max(iters) == 6 * ITERS_PER_EPOCH


def test_run_checkpoint_loads_with_the_safe_unpickler(pretrain_run):
    """SafeCheckpointHook writes the message hub as plain data: the
    checkpoint that --resume read loads with weights_only=True."""
    path = osp.join(pretrain_run['work_dir'], 'epoch_4.pth')
    checkpoint = torch.load(path, weights_only=True)
    assert checkpoint['meta']['epoch'] == 4
    assert any(k.startswith('backbone.') for k in checkpoint['state_dict'])
    assert 'train/loss' in checkpoint['message_hub']['log_scalars']


def test_checkpoint_loads_into_beitvit_without_key_surgery(pretrain_run):
    path = osp.join(pretrain_run['work_dir'], 'epoch_6.pth')
    source = load_local_checkpoint(path)['state_dict']
    cfg = Config.fromfile(FINETUNE_CFG)
    cfg.model.backbone.init_cfg.checkpoint = path
    init_default_scope('mmpretrain')
    classifier = MODELS.build(cfg.model)
    classifier.init_weights()
    shared_table = source['backbone.rel_pos_bias.relative_position_bias_table']
    checked = 0
    for key, value in classifier.backbone.state_dict().items():
        if key.endswith('attn.relative_position_bias_table'):
            torch.testing.assert_close(value, shared_table)
        elif key.startswith('ln2.') or key.endswith('relative_position_index'):
            continue  # fc_norm is new; index buffers are rebuilt
        else:
            torch.testing.assert_close(value, source['backbone.' + key])
        checked += 1
    assert checked > 30


@pytest.mark.slow
def test_finetune_and_test_tools_run_on_the_pretrained_checkpoint(
        pretrain_run, demo_root, tmp_path):
    pretrained = osp.join(pretrain_run['work_dir'], 'epoch_6.pth')
    work_dir = str(tmp_path / 'finetune')
    data_options = [
        f'train_dataloader.dataset.data_root={demo_root}',
        f'val_dataloader.dataset.data_root={demo_root}',
        f'test_dataloader.dataset.data_root={demo_root}',
    ]
    # the config's PretrainedWeightsCheckHook stops a run whose backbone
    # the checkpoint does not fill (the loading itself: the test above)
    run_tool('tools/train.py', FINETUNE_CFG, '--work-dir', work_dir,
             '--cfg-options',
             f'model.backbone.init_cfg.checkpoint={pretrained}',
             'train_cfg.max_epochs=1', *data_options)
    out = str(tmp_path / 'metrics.json')
    run_tool('tools/test.py', FINETUNE_CFG,
             osp.join(work_dir, 'epoch_1.pth'), '--work-dir', work_dir,
             '--out', out, '--cfg-options', *data_options)
    with open(out) as f:
        metrics = json.load(f)
    assert_test_reproduces_validation(work_dir, metrics, ['accuracy/top1'])


def test_prmim_tiny_pretraining_loss_falls(prmim_run):
    work_dir = prmim_run['work_dir']
    losses = [row['loss'] for row in logged_scalars(work_dir)[0]
              if 'loss' in row]
    assert len(losses) == 6
    assert sum(losses[-2:]) / 2 < 0.8 * sum(losses[:2]) / 2, losses
    assert osp.isfile(osp.join(work_dir, 'epoch_3.pth'))
