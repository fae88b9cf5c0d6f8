"""One row of the small-scale comparisons (``small_scale.py``,
``ropim_evidence.py``): pre-training through tools/train.py, read-outs of
frozen features and a fine-tune, all seeded; the rows both scripts share.
Imported by them, not run itself."""
import sys

if __name__ == '__main__':
    sys.exit('tools/benchmarks/readout_rows.py is imported by the benchmark '
             'scripts and runs nothing itself; run one of them, e.g. python '
             'tools/benchmarks/small_scale.py --help')

import argparse
import glob
import json
import os
import os.path as osp
import re
import time

import numpy as np
from mmengine.config import Config, DictAction
from mmengine.dataset import default_collate
from mmengine.registry import init_default_scope

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from mmpretrain.registry import MODELS, TRANSFORMS

import mmropim  # noqa: F401
from mmropim.evaluation import (StoppableProcesses, count_flops, knn_accuracy,
                                linear_probe_accuracy, seeded, token_readouts)
from mmropim.models.backbones import trunc_normal_vit_init
from mmropim.utils import load_backbone_weights

PRMIM_CFG = 'configs/prmim/prmim_vit-mini-p8_1xb32-coslr-20e_demo-64px.py'
SIMMIM_CFG = ('configs/prmim/'
              'prmim-simmim_vit-mini-p8_1xb32-coslr-20e_demo-64px.py')
ROPIM_CFG = 'configs/ropim/ropim_beit-mini-p8_1xb32-coslr-20e_demo-64px.py'
# SimMIM-style masking on ROPIM's BEiT-style ViT (ropim_evidence.py)
SIMMIM_BEIT_CFG = ('configs/ropim/ablations/'
                   'simmim-noagg_beit-mini-p8_1xb32-coslr-20e_demo-64px.py')
VIT_FINETUNE_CFG = ('configs/prmim/benchmarks/'
                    'vit-mini-p8_1xb32-coslr-10e_demo-64px.py')
BEIT_FINETUNE_CFG = ('configs/ropim/benchmarks/'
                     'beit-mini-p8_1xb32-coslr-10e_demo-64px.py')
PIPELINE = 'train_dataloader.dataset.pipeline'
# pre-training, fine-tuning epochs; --quick --seeds 3 on 2 CPU cores:
# docs/results.md
QUICK_EPOCHS = (5, 4)
FULL_EPOCHS = (100, 20)
# the accuracy columns of the tables, each compared with random init
COLUMNS = ('knn_cls', 'linear_cls', 'knn_mean', 'linear_mean',
           'finetune_top1')


def option_dict(options):
    """``--cfg-options`` as tools/train.py parses them (MMEngine's
    ``DictAction``): key -> value."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(['--cfg-options', *options]).cfg_options


def row_config(config, options=()):
    """``config`` (relative to the repository root) with ``--cfg-options``
    merged as tools/train.py merges them."""
    cfg = Config.fromfile(osp.join(ROOT, config))
    if options:
        cfg.merge_from_dict(option_dict(options))
    return cfg


def pipeline_index(config, transform):
    """Index of the first ``transform`` in the training pipeline."""
    types = [step['type'] for step in
             row_config(config).train_dataloader.dataset.pipeline]
    if transform not in types:
        raise ValueError(f'{config} has no {transform} in its training '
                         f'pipeline {types}')
    return types.index(transform)


def mask_sampler(config):
    """The --cfg-options prefix of the config's FurthestSampling."""
    return f'{PIPELINE}.{pipeline_index(config, "FurthestSampling")}'


# The ROPIM authors' pre-training lr is 1.5e-4 per 512 images, MAE's (and
# PR-MIM's) 1.5e-4 per 256: ROPIM runs at half the tiny MAE config's lr.
ROPIM_LR = 0.5 * row_config(PRMIM_CFG).optim_wrapper.optimizer.lr


def lr_option(scale):
    """--cfg-options of ``scale`` times the ROPIM authors' lr (relative to
    MAE's, ``ROPIM_LR``)."""
    return f'optim_wrapper.optimizer.lr={scale * ROPIM_LR}'


# method -> (pre-training config, --cfg-options, fine-tuning config)
METHODS = {
    'MAE': (PRMIM_CFG, [f'{mask_sampler(PRMIM_CFG)}.throw_ratio=0.0',
                        'model.head.aggregator=None'], VIT_FINETUNE_CFG),
    'partial (γ 0.5)': (PRMIM_CFG, [f'{mask_sampler(PRMIM_CFG)}.mode=random',
                                    'model.head.aggregator=None'],
                        VIT_FINETUNE_CFG),
    'PR-MIM (γ 0.5)': (PRMIM_CFG, [], VIT_FINETUNE_CFG),
    'SimMIM': (SIMMIM_CFG, [f'{mask_sampler(SIMMIM_CFG)}.throw_ratio=0.0',
                            'model.neck.aggregator=None'], VIT_FINETUNE_CFG),
    # the authors' backbone: BEiT-style layers (relative position bias,
    # layer scale, no absolute position embedding), the authors' init
    'ROPIM (BEiT)': (ROPIM_CFG, [lr_option(1)], BEIT_FINETUNE_CFG),
}
# random-init baselines: each method is compared with the random
# initialization of the ViT it fine-tunes (baseline -> fine-tuning config)
BASELINES = {
    'random init': VIT_FINETUNE_CFG,
    'random init (BEiT)': BEIT_FINETUNE_CFG,
}


def baseline_of(finetune_config):
    """The random-init row of the ViT that ``finetune_config`` fine-tunes."""
    for name, config in BASELINES.items():
        if config == finetune_config:
            return name
    raise ValueError(f'no random-init baseline fine-tunes {finetune_config}; '
                     f'they are {BASELINES}')


def no_flip(config):
    """--cfg-options turning off the flip (digits are not mirror-symmetric)."""
    return f'{PIPELINE}.{pipeline_index(config, "RandomFlip")}.prob=0.0'


def seed_option(seed):
    return f'randomness.seed={seed}'


def schedule_options(epochs):
    """--cfg-options that fit the configs' [LinearLR warmup, cosine]
    schedule to ``epochs``: a tenth of them (at least one) warms up."""
    warmup_epochs = max(1, epochs // 10)
    return [
        f'train_cfg.max_epochs={epochs}',
        f'param_scheduler.0.end={warmup_epochs}',
        f'param_scheduler.1.begin={warmup_epochs}',
        f'param_scheduler.1.T_max={epochs - warmup_epochs}',
        f'param_scheduler.1.end={epochs}',
        f'default_hooks.checkpoint.interval={epochs}',
    ]


# the training processes of the rows running side by side
PROCESSES = StoppableProcesses()


def train(config, work_dir, options, threads=0):
    """Run tools/train.py with ``threads`` intra-op threads (0: torch's
    default); return wall seconds."""
    start = time.time()
    returncode, stderr = PROCESSES.run(
        [sys.executable, 'tools/train.py', config, '--work-dir', work_dir,
         '--cfg-options', *options], threads, cwd=ROOT)
    if returncode:
        raise RuntimeError(f'{config} failed:\n{stderr[-3000:]}')
    return time.time() - start


def pretrain_gflops_per_image(config, options):
    """Forward + backward GFLOPs of one pre-training image (batch of 2)."""
    cfg = row_config(config, options)
    init_default_scope('mmpretrain')
    model = MODELS.build(cfg.model)
    model.init_weights()
    pipeline = [
        TRANSFORMS.build(t) for t in cfg.train_dataloader.dataset.pipeline[1:]
    ]
    samples = []
    for _ in range(2):
        results = dict(img=np.random.randint(0, 255, (64, 64, 3), np.uint8))
        for transform in pipeline:
            results = transform(results)
        samples.append(results)
    data = model.data_preprocessor(default_collate(samples), training=True)
    return count_flops(
        lambda: model(**data, mode='loss')['loss'].backward()) / 2e9


def frozen_features(checkpoint, finetune_config, seed, *splits):
    """Frozen read-outs (``token_readouts``) of each split from the
    fine-tuning config's backbone: all tokens of the final-normed last
    block, no stochastic depth, loaded (strictly) from ``checkpoint`` or, for
    the random-init baselines, drawn from ``seed`` with the plain
    pre-training configs' truncated-normal initialization (for the
    BEiT-style ViT too, without BEiT's +-1 std cut and output rescale)."""
    cfg = row_config(finetune_config).model.backbone
    cfg.update(out_type='raw', final_norm=True, drop_path_rate=0.0,
               init_cfg=trunc_normal_vit_init())
    with seeded(seed):  # no other row draws between seed and init
        init_default_scope('mmpretrain')
        vit = MODELS.build(cfg)
        vit.init_weights()
        if checkpoint:
            load_backbone_weights(vit, checkpoint)
    vit.eval()
    return token_readouts(vit, splits)


def finetune_accuracy(config, checkpoint, work_dir, data_root, num_classes,
                      epochs, seed, threads=0):
    """Held-out top-1 after fine-tuning ``config`` through tools/train.py
    from ``checkpoint`` (or the pre-training initialization), with
    ``threads`` intra-op threads."""
    cfg = row_config(config)
    if checkpoint:
        init_cfg = dict(cfg.model.backbone.init_cfg, checkpoint=checkpoint)
    else:  # start where pre-training starts, as the frozen baseline does
        init_cfg = trunc_normal_vit_init()
    # written to a config file: --cfg-options cannot express a list of dicts
    cfg.model.backbone.init_cfg = init_cfg
    written = osp.join(work_dir, 'finetune_config.py')
    os.makedirs(work_dir, exist_ok=True)
    cfg.dump(written)
    train(written, work_dir, [
        no_flip(config), *schedule_options(epochs), seed_option(seed),
        f'train_cfg.val_interval={epochs}',
        f'model.head.num_classes={num_classes}',
        f'model.data_preprocessor.num_classes={num_classes}',
        *[f'{split}_dataloader.dataset.data_root={data_root}'
          for split in ('train', 'val', 'test')]
    ], threads)
    scalars = sorted(glob.glob(osp.join(glob.escape(work_dir), '*', 'vis_data',
                                        'scalars.json')))[-1]
    with open(scalars) as f:
        rows = [json.loads(line) for line in f]
    return [r['accuracy/top1'] for r in rows if 'accuracy/top1' in r][-1]


def slug(name):
    """A row's name as a folder and a command-line name: 'PR-MIM (γ 0.5)'
    -> 'pr-mim-0-5'."""
    return re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')


def run_row(seed, name, plan, out_dir, data_root, splits, pretrain_epochs,
            finetune_epochs, gflops, threads=0, pretrain_options=()):
    """One row for one seed: pre-training (if any; ``plan`` is (pre-training
    config or None, --cfg-options, fine-tuning config)), the frozen read-outs
    and the fine-tune, all seeded with ``seed`` (the random-init baseline is
    drawn from it), in folders named by the row's slug; compared with the
    random init of the ViT it fine-tunes. ``pretrain_options`` are
    --cfg-options given to the pre-training after all others (e.g. a
    checkpoint every epoch)."""
    config, options, finetune_config = plan
    train_x, train_y, test_x, test_y = splits
    row = dict(method=name, seed=seed, pretrain_gflops=0.0, pretrain_s=0.0,
               baseline=baseline_of(finetune_config) if config else None)
    checkpoint = None
    if config:
        work_dir = osp.join(out_dir, f'seed{seed}', f'pretrain_{slug(name)}')
        row['pretrain_s'] = train(config, work_dir, [
            *options, no_flip(config), seed_option(seed),
            *schedule_options(pretrain_epochs),
            f'train_dataloader.dataset.data_root={data_root}',
            *pretrain_options,
        ], threads)
        checkpoint = osp.join(work_dir, f'epoch_{pretrain_epochs}.pth')
        row['pretrain_gflops'] = gflops[name]
    features = frozen_features(checkpoint, finetune_config, seed, train_x,
                               test_x)
    for readout, (features_train, features_test) in features.items():
        row[f'knn_{readout}'] = knn_accuracy(features_train, train_y,
                                             features_test, test_y)
        row[f'linear_{readout}'] = linear_probe_accuracy(
            features_train, train_y, features_test, test_y)
    row['finetune_top1'] = finetune_accuracy(
        finetune_config, checkpoint,
        osp.join(out_dir, f'seed{seed}', f'finetune_{slug(name)}'), data_root,
        int(train_y.max()) + 1, finetune_epochs, seed, threads)
    print(f'seed {seed}, {name}: {row}', flush=True)
    return row
