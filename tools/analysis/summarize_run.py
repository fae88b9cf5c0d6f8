"""Print a short summary of a training run from its work dir.

    python tools/analysis/summarize_run.py WORK_DIR
"""
import argparse
import glob
import json
import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmropim.utils.argument_types import existing_dir


def summarize(work_dir: str) -> dict:
    """Collect the loss curve, checkpoints and log of the latest run.

    Args:
        work_dir (str): The run's ``--work-dir``.

    Returns:
        dict: first/last logged loss, iterations, checkpoints, log path.
    """
    runs = sorted(glob.glob(osp.join(glob.escape(work_dir), '*', 'vis_data',
                                     'scalars.json')))
    if not runs:
        raise FileNotFoundError(f'no training log (*/vis_data/scalars.json) '
                                f'under {work_dir}')
    with open(runs[-1]) as f:
        rows = [json.loads(line) for line in f]
    losses = [(row['iter'], row['loss']) for row in rows if 'loss' in row]
    if not losses:
        raise ValueError(f'{runs[-1]} logs no loss yet: the run stopped '
                         'before its first logging interval')
    run_dir = osp.dirname(osp.dirname(runs[-1]))
    return dict(
        first_iter=losses[0][0],
        first_loss=losses[0][1],
        last_iter=losses[-1][0],
        last_loss=losses[-1][1],
        checkpoints=sorted(glob.glob(osp.join(glob.escape(work_dir), '*.pth')),
                           key=osp.getmtime),
        log=(glob.glob(osp.join(glob.escape(run_dir), '*.log')) or [None])[0])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dir', type=existing_dir,
                        help='work dir of a tools/train.py run')
    args = parser.parse_args(argv)
    summary = summarize(args.work_dir)
    print('=' * 60)
    print(f'loss: {summary["first_loss"]:.4f} at iter {summary["first_iter"]}'
          f' -> {summary["last_loss"]:.4f} at iter {summary["last_iter"]} '
          f'({summary["last_loss"] / summary["first_loss"]:.2f}x)')
    print('checkpoint: ' + (summary['checkpoints'] or ['none saved'])[-1])
    print(f'log: {summary["log"]}')
    print('=' * 60)


if __name__ == '__main__':
    main()
