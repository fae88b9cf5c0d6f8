"""A small real-data version of the papers' comparisons.

Pre-trains the same small ViT (96-d, 4 layers, patch 8, 64 px) on the demo
images (real photos shipped by scikit-image and scikit-learn) with MAE,
plain partial reconstruction (throw ratio 0.5, random throw, no aggregator),
PR-MIM (throw ratio 0.5, furthest sampling + aggregator), SimMIM and ROPIM,
all through tools/train.py, and compares them with random initialisation:

- k-NN (k = 10, cosine) and a linear probe (logistic regression) on frozen,
  mean-pooled features of the held-out split;
- a short end-to-end fine-tune (tools/train.py), its last validation top-1.

It prints one table and writes it as JSON and Markdown.

    python tools/benchmarks/small_scale.py --quick      # 2 CPU cores, minutes
    python tools/benchmarks/small_scale.py              # longer, for a GPU
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from PIL import Image

import mmropim  # noqa: F401
from mmpretrain.registry import MODELS, TRANSFORMS
from mmropim.datasets import write_imagenet_style
from mmropim.utils import load_backbone_weights
from mmropim.utils.flops import count_flops

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PRMIM_CFG = 'configs/prmim/prmim_vit-mini-p8_1xb32-coslr-20e_demo-64px.py'
SIMMIM_CFG = ('configs/prmim/'
              'prmim-simmim_vit-mini-p8_1xb32-coslr-20e_demo-64px.py')
ROPIM_CFG = 'configs/ropim/ropim_vit-mini-p8_1xb32-coslr-20e_demo-64px.py'
FINETUNE_CFG = 'configs/prmim/benchmarks/vit-mini-p8_1xb32-coslr-10e_demo-64px.py'
SAMPLING = 'train_dataloader.dataset.pipeline.3'
# method -> (config, --cfg-options)
METHODS = {
    'MAE': (PRMIM_CFG, [f'{SAMPLING}.throw_ratio=0.0']),
    'partial (γ 0.5)': (PRMIM_CFG, [f'{SAMPLING}.mode=random',
                                    'model.head.aggregator=None']),
    'PR-MIM (γ 0.5)': (PRMIM_CFG, []),
    'SimMIM': (SIMMIM_CFG, [f'{SAMPLING}.throw_ratio=0.0']),
    'ROPIM': (ROPIM_CFG, []),
}
ARCH = dict(embed_dims=96, num_layers=4, num_heads=3, feedforward_channels=384)
MEAN = np.array([123.675, 116.28, 103.53])
STD = np.array([58.395, 57.12, 57.375])


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


def parse_value(text):
    """A --cfg-options value: None, a number, or the string itself."""
    if text == 'None':
        return None
    try:
        return float(text)
    except ValueError:
        return text


def pretrain_gflops_per_image(config, options):
    """Forward + backward GFLOPs of one pre-training image (batch of 2)."""
    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.merge_from_dict(
        {key: parse_value(value)
         for key, value in (option.split('=', 1) for option in options)})
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
    """Mean-pooled final tokens of each split, from one ViT loaded
    (strictly) from ``checkpoint``, or randomly initialized once."""
    init_default_scope('mmpretrain')
    torch.manual_seed(0)  # the random-init baseline is reproducible
    vit = MODELS.build(
        dict(type='VisionTransformer', arch=ARCH, img_size=64, patch_size=8,
             out_type='featmap', final_norm=True,
             norm_cfg=dict(type='LN', eps=1e-6),
             init_cfg=[  # the pre-training configs' initialization
                 dict(type='TruncNormal', layer='Linear', std=0.02, bias=0.),
                 dict(type='Constant', layer='LayerNorm', val=1., bias=0.)
             ]))
    vit.init_weights()
    if checkpoint:
        load_backbone_weights(vit, checkpoint)
    vit.eval()
    features = []
    with torch.no_grad():
        for images in splits:
            maps = torch.cat([vit(chunk)[0] for chunk in images.split(64)])
            features.append(maps.mean(dim=(2, 3)).numpy())
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


def finetune_accuracy(checkpoint, work_dir, data_root, epochs):
    init = (f'model.backbone.init_cfg.checkpoint={checkpoint}'
            if checkpoint else 'model.backbone.init_cfg=None')
    train(FINETUNE_CFG, work_dir, [
        init, f'train_cfg.max_epochs={epochs}',
        f'train_cfg.val_interval={epochs}',
        f'default_hooks.checkpoint.interval={epochs}',
        *[f'{split}_dataloader.dataset.data_root={data_root}'
          for split in ('train', 'val', 'test')]
    ])
    scalars = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                        'scalars.json')))[-1]
    with open(scalars) as f:
        rows = [json.loads(line) for line in f]
    return [r['accuracy/top1'] for r in rows if 'accuracy/top1' in r][-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true',
                        help='20 pre-training and 5 fine-tuning epochs')
    parser.add_argument('--data', default='data/demo/imagenet')
    parser.add_argument('--out-dir', default='work_dirs/small_scale')
    args = parser.parse_args()
    pretrain_epochs, finetune_epochs = (20, 5) if args.quick else (200, 50)
    MMLogger.get_instance('small_scale', log_level='WARNING')
    data_root = osp.abspath(osp.join(ROOT, args.data)) + '/'
    if not osp.isdir(osp.join(data_root, 'train')):
        write_imagenet_style(data_root)
    out_dir = osp.abspath(osp.join(ROOT, args.out_dir))
    os.makedirs(out_dir, exist_ok=True)
    train_x, train_y = load_split(data_root, 'train')
    test_x, test_y = load_split(data_root, 'val')
    num_train = len(train_y)

    rows = []
    for name, (config, options) in [('random init', (None, []))] + list(
            METHODS.items()):
        row = dict(method=name, pretrain_gflops=0.0, pretrain_s=0.0)
        checkpoint = None
        if config:
            tag = name.split()[0].lower().replace('-', '')
            work_dir = osp.join(out_dir, f'pretrain_{tag}')
            row['pretrain_s'] = train(config, work_dir, [
                *options, f'train_cfg.max_epochs={pretrain_epochs}',
                f'train_dataloader.dataset.data_root={data_root}',
                f'default_hooks.checkpoint.interval={pretrain_epochs}'
            ])
            checkpoint = osp.join(work_dir, f'epoch_{pretrain_epochs}.pth')
            row['pretrain_gflops'] = pretrain_gflops_per_image(
                config, options) * num_train * pretrain_epochs
        features_train, features_test = frozen_features(
            checkpoint, train_x, test_x)
        row['knn_top1'] = knn_accuracy(features_train, train_y,
                                       features_test, test_y)
        row['linear_top1'] = linear_probe_accuracy(features_train, train_y,
                                                   features_test, test_y)
        row['finetune_top1'] = finetune_accuracy(
            checkpoint,
            osp.join(out_dir, f'finetune_{len(rows)}'), data_root,
            finetune_epochs)
        rows.append(row)
        print(f'{name}: {row}', flush=True)

    header = ('| method | pre-training TFLOPs | pre-training s | k-NN top-1 '
              '| linear top-1 | fine-tune top-1 |\n|---|---|---|---|---|---|')
    lines = [header] + [
        f'| {r["method"]} | {r["pretrain_gflops"] / 1e3:.2f} | '
        f'{r["pretrain_s"]:.0f} | {r["knn_top1"]:.1f} | '
        f'{r["linear_top1"]:.1f} | {r["finetune_top1"]:.1f} |' for r in rows
    ]
    table = '\n'.join(lines)
    setting = (f'{pretrain_epochs} pre-training epochs, {finetune_epochs} '
               f'fine-tuning epochs, {num_train} training / {len(test_y)} '
               f'held-out images, torch {torch.__version__}, '
               f'{torch.get_num_threads()} threads')
    print(setting)
    print(table)
    with open(osp.join(out_dir, 'small_scale.json'), 'w') as f:
        json.dump(dict(setting=setting, rows=rows), f, indent=2)
    with open(osp.join(out_dir, 'small_scale.md'), 'w') as f:
        f.write(setting + '\n\n' + table + '\n')


if __name__ == '__main__':
    main()
