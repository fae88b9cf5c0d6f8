"""The LGP-ROPIM demo chain through tools/train.py on a cut demo set: tiny
ROPIM pre-training -> the LGP contrastive stage grafted on its checkpoint
-> the ROPIM fine-tuning config on the grafted checkpoint, one epoch
each; then the grafted checkpoint in the ROPIM UPerNet and Mask R-CNN
demo configs as they are (no key surgery)."""
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
DOWNSTREAM = osp.join(REPO_ROOT, 'configs', 'downstream')
UPERNET_CFG = osp.join(DOWNSTREAM, 'ade20k', 'upernet_ropim-beit-mini-p8_'
                       '1xb4-40iter_demo-nuclei-128px.py')
MASK_RCNN_CFG = osp.join(DOWNSTREAM, 'coco', 'mask-rcnn_ropim-beit-mini-p8_'
                         'simple-fpn_1xb2-2e_demo-nuclei-128px.py')


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

    # transfer: a few iterations of each downstream demo config
    from mmropim.datasets.demo import write_ade20k_style, write_coco_style
    ade, coco = str(tmp_path / 'ade20k'), str(tmp_path / 'coco')
    write_ade20k_style(ade)
    write_coco_style(coco)
    grafted_init = f'model.backbone.init_cfg.checkpoint={checkpoint}'
    seg_dir, det_dir = str(tmp_path / 'seg'), str(tmp_path / 'det')
    run_tool('tools/train.py', UPERNET_CFG, '--work-dir', seg_dir,
             '--cfg-options', grafted_init, 'train_cfg.max_iters=2',
             'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2',
             *[f'{split}_dataloader.dataset.data_root={ade}'
               for split in ('train', 'val', 'test')])
    assert osp.isfile(osp.join(seg_dir, 'iter_2.pth'))
    run_tool('tools/train.py', MASK_RCNN_CFG, '--work-dir', det_dir,
             '--cfg-options', grafted_init, 'train_cfg.max_epochs=1',
             'train_cfg.val_interval=1',
             *[f'{split}_dataloader.dataset.data_root={coco}/'
               for split in ('train', 'val', 'test')],
             *[f'{split}_evaluator.ann_file='
               f'{coco}/annotations/instances_val.json'
               for split in ('val', 'test')])
    assert osp.isfile(osp.join(det_dir, 'epoch_1.pth'))
