"""Train a model from an OpenMMLab config (MMPretrain, MMSeg or MMDet).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--auto-scale-lr] [--cfg-options key=value ...] [--launcher pytorch]
"""
import os
import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

import mmropim  # noqa: F401  (registers components)
from mmropim.datasets import (check_class_folders, check_data_roots,
                              check_run_images)
from mmropim.engine.run_state import claim_work_dir, find_resume_checkpoint
from mmropim.models import check_pipeline_mask_config
from mmropim.utils.argument_types import (existing_dir, high_bit_range,
                                          positive_int)
from mmropim.utils.config_checks import check_config_keys, check_custom_keys
from mmropim.utils.run_config import (parse_run_arguments,
                                      run_config_from_args, run_parser,
                                      switch_on_pictures,
                                      train_on_image_folder)


def parse_args(argv=None):
    parser = run_parser('Train a model', 'training',
                        'folder for logs and checkpoints')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or from the latest one in '
        'the work dir when no path is given')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the actual total batch size '
        '(the config\'s auto_scale_lr.base_batch_size is the reference)')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='skip validation during training')
    parser.add_argument(
        '--data-root',
        type=existing_dir,
        help='pre-train on every image below this folder (nested folders, '
        'any format Pillow reads, no labels) through the config\'s pipeline, '
        'with the backbone\'s in_channels (1 gray, 3 color, 4 color + alpha)')
    parser.add_argument(
        '--high-bit-range',
        type=high_bit_range,
        default='full',
        help='with --data-root: how 16-bit images map to 8 bits: "full" '
        '(0..65535, the default), "image" (each image\'s own min..max) or '
        'the bits the values use, e.g. 12')
    parser.add_argument(
        '--vis-interval',
        type=positive_int,
        metavar='N',
        help='draw reconstruction pictures every N iterations into the '
        'visualizer\'s backends (MIMVisualizationHook, found by type or '
        'added; off in every config)')
    parser.add_argument(
        '--check-data',
        action='store_true',
        help='decode every image training reads (train and val sets) '
        'before training and name all the unreadable ones '
        '(tools/analysis/check_data.py)')
    return parse_run_arguments(parser, argv)


def main():
    args = parse_args()
    cfg = run_config_from_args(args)
    if args.data_root:
        train_on_image_folder(cfg, args.data_root, args.high_bit_range)
    elif args.high_bit_range != 'full':
        raise ValueError('--high-bit-range applies to --data-root, which '
                         'was not given')
    check_pipeline_mask_config(cfg)
    if args.vis_interval:
        switch_on_pictures(cfg, args.vis_interval)
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None
    if args.resume == 'auto':
        cfg.resume = True
        # last_checkpoint's file, or this work dir's own copy of it
        cfg.load_from = find_resume_checkpoint(cfg.work_dir)
    elif args.resume is not None:
        if not os.path.isfile(args.resume):
            raise FileNotFoundError(
                f'--resume checkpoint {args.resume} does not exist')
        cfg.resume = True
        cfg.load_from = args.resume
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg:
            raise KeyError('--auto-scale-lr needs `auto_scale_lr = dict('
                           'base_batch_size=...)` in the config')
        cfg.auto_scale_lr.enable = True

    # typos, and splits numbering their classes differently, stop the run
    # here rather than silently or hours in
    check_config_keys(cfg)
    # the data loaders training builds (validation: unless --no-validate)
    check_data_roots(cfg, ('train_dataloader', 'val_dataloader'))
    check_class_folders(cfg, ('train_dataloader', 'val_dataloader'))
    if args.check_data:  # any image loader, LoadImageWithPillow included
        # what Runner.train reads: val too, unless --no-validate dropped it
        check_run_images(cfg, splits=('train', 'val'))
    # one run at a time in the work dir, and not over another run's
    # checkpoints: checked before the runner writes its config copy and
    # log folder there
    lock = claim_work_dir(cfg)
    runner = Runner.from_cfg(cfg)
    try:
        # a custom key in no parameter's name: checked on the built model,
        # before the optim wrapper and training
        check_custom_keys(
            runner.model.module
            if is_model_wrapper(runner.model) else runner.model,
            cfg.get('optim_wrapper'), cfg.get('default_scope', 'mmpretrain'))
        runner.train()
    finally:
        if lock is not None:
            lock.release()


if __name__ == '__main__':
    main()
