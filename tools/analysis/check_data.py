"""List the images of a config's data sets that cannot be decoded.

    python tools/analysis/check_data.py CONFIG [--cfg-options ...]
        [--workers N] [--splits train val test]

An unreadable image otherwise stops a run when the data loader first
reaches it (MMCV's ``failed to load image: PATH``), possibly hours in, or
at the first validation; this reads every image of each configured data
loader (train, val and test by default; a test set configured as the val
set is read once) the way its pipeline's loader does (MMCV's
``LoadImageFromFile`` or a subclass, or
:class:`~mmropim.datasets.LoadImageWithPillow`, which ``tools/train.py
--data-root`` puts in its place), before any training, and names every bad
file at once, one a line under its data loader. ``tools/train.py
--check-data`` runs it on the splits training reads before building the
runner; a pipeline with neither loader is an error, not a pass.
"""
import argparse
import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmengine.config import DictAction

from mmropim.datasets import check_run_images
from mmropim.datasets.image_checks import SPLITS
from mmropim.utils.argument_types import existing_file, positive_int
from mmropim.utils.run_config import load_config


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', type=existing_file, help='config file')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. '
        'train_dataloader.dataset.data_root=DIR')
    parser.add_argument(
        '--workers', type=positive_int, default=8, help='decoding threads')
    parser.add_argument(
        '--splits',
        nargs='+',
        choices=SPLITS,
        default=list(SPLITS),
        help='the data loaders to read (those not configured are skipped)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    counts = check_run_images(cfg, args.workers, args.splits)
    if not counts:
        raise SystemExit(f'{args.config} configures none of the data '
                         f'loaders {[f"{s}_dataloader" for s in args.splits]}')
    for key, count in counts.items():
        print(f'{key}: all {count} images can be read' if isinstance(
            count, int) else f'{key}: the dataset of {count}, read with it')


if __name__ == '__main__':
    main()
