"""The rows of a small-scale comparison over seeds (``small_scale.py``,
``ropim_evidence.py``): the flags both take, the data, every row of every
seed run side by side, and the table of means ± standard deviations.
Imported by them, not run itself."""
import sys

if __name__ == '__main__':
    sys.exit('tools/benchmarks/seed_table.py is imported by the benchmark '
             'scripts and runs nothing itself; run one of them, e.g. python '
             'tools/benchmarks/small_scale.py --help')

import functools
import glob
import json
import os
import os.path as osp
import platform

import numpy as np
import torch
from PIL import Image

from mmropim.evaluation import (compare_means, mean_std_text, run_side_by_side,
                                seed_means)
from mmropim.utils.argument_types import positive_int
from tools.benchmarks.readout_rows import (BASELINES, COLUMNS, FULL_EPOCHS,
                                           PROCESSES, QUICK_EPOCHS, ROOT,
                                           baseline_of,
                                           pretrain_gflops_per_image, run_row,
                                           slug)

MEAN = np.array([123.675, 116.28, 103.53])
STD = np.array([58.395, 57.12, 57.375])


def usable_cores():
    """The CPU cores this process may run on."""
    if hasattr(os, 'sched_getaffinity'):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def default_jobs():
    """One row per usable core on a CPU-only machine; one at a time where
    a GPU trains (the pre-training times are then those of one run)."""
    return 1 if torch.cuda.is_available() else usable_cores()


def machine():
    if torch.cuda.is_available():
        return torch.cuda.get_device_name()
    return (f'{platform.processor() or platform.machine()} CPU, '
            f'{usable_cores()} cores')


def add_run_arguments(parser, seeds, seeds_help, jobs_help, epochs_note=''):
    """``--quick``, ``--pretrain-epochs``, ``--finetune-epochs``,
    ``--seeds`` (default ``seeds``) and ``--jobs``, with the scripts' own
    help texts; check them with :func:`check_epochs`."""
    parser.add_argument('--quick', action='store_true',
                        help=f'{QUICK_EPOCHS[0]} pre-training and '
                        f'{QUICK_EPOCHS[1]} fine-tuning epochs')
    parser.add_argument('--pretrain-epochs', type=positive_int,
                        help='override the pre-training epochs' + epochs_note)
    parser.add_argument('--finetune-epochs', type=positive_int,
                        help='override the fine-tuning epochs' + epochs_note)
    parser.add_argument('--seeds', type=positive_int, default=seeds,
                        help=seeds_help)
    parser.add_argument('--jobs', type=positive_int, default=default_jobs(),
                        help=jobs_help)


def check_epochs(parser, args):
    """Refuse fewer than 2 epochs (warm-up, then the cosine decay)."""
    for name in ('pretrain_epochs', 'finetune_epochs'):
        value = getattr(args, name)
        if value is not None and value < 2:
            parser.error(f'--{name.replace("_", "-")} must be >= 2 (warm-up '
                         f'epochs, then the cosine decay), got {value}')
    return args


def epochs(args):
    """(pre-training, fine-tuning) epochs of the parsed flags."""
    pretrain_epochs, finetune_epochs = (
        QUICK_EPOCHS if args.quick else FULL_EPOCHS)
    return (args.pretrain_epochs or pretrain_epochs, args.finetune_epochs
            or finetune_epochs)


def row_plan(rows, slugs):
    """The rows of one seed in table order: (name, (pre-training config or
    None, --cfg-options, fine-tuning config)); first the random inits of the
    ViTs the chosen rows fine-tune, then the rows of ``rows`` (name -> plan)
    whose slugs are in ``slugs``, in the order of ``rows``."""
    wanted = set(slugs)
    chosen = [(name, plan) for name, plan in rows.items()
              if slug(name) in wanted]
    needed = {baseline_of(plan[2]) for _, plan in chosen}
    baselines = [(name, (None, [], config))
                 for name, config in BASELINES.items() if name in needed]
    return baselines + chosen


def load_split(root, split):
    """Normalized images (N, 3, H, W) and labels of an ImageNet-style
    split; classes are the sorted folder names."""
    images, labels = [], []
    classes = sorted(os.listdir(osp.join(root, split)))
    for label, name in enumerate(classes):
        folder = glob.escape(osp.join(root, split, name))
        for path in sorted(glob.glob(osp.join(folder, '*.png'))):
            image = np.asarray(Image.open(path).convert('RGB'), np.float64)
            images.append((image - MEAN) / STD)
            labels.append(label)
    tensor = torch.tensor(np.stack(images), dtype=torch.float32)
    return tensor.permute(0, 3, 1, 2), np.array(labels)


def prepare(data_dir, write_dataset, out_dir):
    """The data root (``data_dir`` under the repository root, written by
    ``write_dataset`` first if it has no ``train`` split), the output folder
    (made) and (train images, labels, held-out images, labels)."""
    data_root = osp.abspath(osp.join(ROOT, data_dir)) + '/'
    if not osp.isdir(osp.join(data_root, 'train')):
        write_dataset(data_root)
    out_dir = osp.abspath(osp.join(ROOT, out_dir))
    os.makedirs(out_dir, exist_ok=True)
    splits = (*load_split(data_root, 'train'), *load_split(data_root, 'val'))
    return data_root, out_dir, splits


def run_rows(plan, args, data_root, out_dir, splits, threads=None,
             by_seed=False, pretrain_options=()):
    """Every row of ``plan`` for seeds 0 .. ``args.seeds`` - 1, ``args.jobs``
    at a time, each training process with ``threads`` intra-op threads
    (default: the cores // jobs). The costliest pre-trainings first (within
    each seed with ``by_seed``), the random-init rows (fine-tune only) last,
    so that the last runs end close together.

    Returns:
        tuple: One list of rows per seed in the order of ``plan``, then the
        jobs and threads used.
    """
    pretrain_epochs, finetune_epochs = epochs(args)
    gflops = {
        name: pretrain_gflops_per_image(config, options) * len(splits[1]) *
        pretrain_epochs
        for name, (config, options, _) in plan if config
    }
    jobs = min(args.jobs, args.seeds * len(plan))
    threads = threads or max(1, usable_cores() // jobs)
    torch.set_num_threads(threads)  # the frozen read-outs, side by side too
    order = sorted(((seed, index) for seed in range(args.seeds)
                    for index in range(len(plan))),
                   key=lambda key: (key[0] if by_seed else 0,
                                    -gflops.get(plan[key[1]][0], 0.0)))
    results = run_side_by_side({
        (seed, index): functools.partial(
            run_row, seed, *plan[index], out_dir, data_root, splits,
            pretrain_epochs, finetune_epochs, gflops, threads,
            pretrain_options=pretrain_options)
        for seed, index in order
    }, jobs, PROCESSES)
    runs = [[results[seed, index] for index in range(len(plan))]
            for seed in range(args.seeds)]
    return runs, jobs, threads


def summarize(runs):
    """Per row, the mean and sample standard deviation over seeds of every
    measured value (``runs``: one list of rows per seed)."""
    summary = []
    for rows in zip(*runs):
        row = dict(method=rows[0]['method'], seeds=len(rows),
                   baseline=rows[0]['baseline'])
        row.update(seed_means(rows, ('pretrain_gflops', 'pretrain_s') +
                              COLUMNS))
        summary.append(row)
    return summary


def markdown_table(rows):
    header = ('| method | pre-training TFLOPs | pre-training s '
              '| k-NN (cls) | linear (cls) | k-NN (mean) | linear (mean) '
              '| fine-tune |\n' + '|---' * 8 + '|')
    lines = [header] + [
        f'| {r["method"]} | {r["pretrain_gflops"] / 1e3:.2f} | '
        f'{r["pretrain_s"]:.0f} | ' +
        ' | '.join(mean_std_text(r, column) for column in COLUMNS) + ' |'
        for r in rows
    ]
    return '\n'.join(lines)


def column_verdicts(row, other):
    """``row`` against ``other`` on every column: 'knn_cls above (+1.0 ±
    0.3), ...' (``compare_means``)."""
    results = []
    for column in COLUMNS:
        word, difference, error = compare_means(row, other, column)
        results.append(f'{column} {word} ({difference:+.1f} ± {error:.1f})')
    return ', '.join(results)


def setting(args, splits, data_dir, jobs, threads):
    """The first line of a report, up to the time taken."""
    pretrain_epochs, finetune_epochs = epochs(args)
    return (f'{args.seeds} seed(s), mean ± std; {pretrain_epochs} '
            f'pre-training epochs, {finetune_epochs} fine-tuning epochs, '
            f'{len(splits[1])} training / {len(splits[3])} held-out images '
            f'from {data_dir}, {machine()}, torch {torch.__version__}, '
            f'{jobs} run(s) side by side with {threads} thread(s) each, ')


def report(out_dir, name, setting_line, rows, runs, verdicts):
    """Print the setting, the table and the verdicts; write them as
    ``name``.json and ``name``.md in ``out_dir``."""
    table = markdown_table(rows)
    print(setting_line)
    print(table)
    print('\n'.join(verdicts), flush=True)
    with open(osp.join(out_dir, f'{name}.json'), 'w') as f:
        json.dump(dict(setting=setting_line, rows=rows, runs=runs,
                       verdicts=verdicts), f, indent=2)
    with open(osp.join(out_dir, f'{name}.md'), 'w') as f:
        f.write(setting_line + '\n\n' + table + '\n\n' +
                '\n'.join(f'- {line}' for line in verdicts) + '\n')
