"""The LGP-ROPIM demo chain through tools/train.py on a cut demo set: tiny
ROPIM pre-training -> the LGP contrastive stage grafted on its checkpoint
-> the ROPIM fine-tuning config on the grafted checkpoint, one epoch
each."""
import os.path as osp

import pytest
import torch

from mmropim.utils import load_local_checkpoint
from helpers import REPO_ROOT, ROPIM_TINY_CFG, logged_scalars, run_tool

# three trainings
pytestmark = pytest.mark.slow

LGP_DEMO_CFG = osp.join(REPO_ROOT, 'configs', 'ropim', 'lgp',
                        'lgp-ropim_beit-mini-p8_1xb32-coslr-10e_demo-64px.py')
FINETUNE_CFG = osp.join(REPO_ROOT, 'configs', 'ropim', 'benchmarks',
                        'beit-mini-p8_1xb32-coslr-10e_demo-64px.py')


def train(config, work_dir, *options):
    return run_tool('tools/train.py', config, '--work-dir', work_dir,
                    '--cfg-options', 'train_cfg.max_epochs=1', *options)


def test_ropim_lgp_finetune_chain_runs(small_demo_root, tmp_path):
    data = [
        f'{loader}.dataset.data_root={small_demo_root}'
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader')
    ]
    ropim_dir, lgp_dir, tune_dir = (str(tmp_path / name)
                                    for name in ('ropim', 'lgp', 'tune'))
    train(ROPIM_TINY_CFG, ropim_dir, data[0])
    ropim = osp.join(ropim_dir, 'epoch_1.pth')

    log = train(LGP_DEMO_CFG, lgp_dir, data[0],
                f'model.backbone.init_cfg.checkpoint={ropim}')
    assert f'{ropim} grafted into the base and the momentum encoder' in log
    assert "'head.predictor.fc0.weight'" in log
    losses = [row['loss'] for row in logged_scalars(lgp_dir)[0]
              if 'loss' in row]
    assert losses and all(0 < loss < float('inf') for loss in losses)
    grafted = load_local_checkpoint(osp.join(lgp_dir,
                                             'epoch_1.pth'))['state_dict']
    source = load_local_checkpoint(ropim)['state_dict']
    backbone = {k for k in grafted if k.startswith('backbone.')}
    assert backbone == {k for k in source if k.startswith('backbone.')}
    # the stage trained the encoder: its upper blocks moved
    key = 'backbone.layers.3.attn.qkv.weight'
    assert not torch.equal(grafted[key], source[key])

    checkpoint = osp.join(lgp_dir, 'epoch_1.pth')
    log = train(FINETUNE_CFG, tune_dir, *data,
                f'model.backbone.init_cfg.checkpoint={checkpoint}')
    assert f'backbone weights from {checkpoint}' in log
    assert osp.isfile(osp.join(tune_dir, 'epoch_1.pth'))
