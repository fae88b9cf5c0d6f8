"""Evaluate a checkpoint with an OpenMMLab config (MMPretrain, MMSeg or MMDet).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out FILE]
        [--amp] [--cfg-options key=value ...] [--launcher pytorch]
"""
import argparse
import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

import mmropim  # noqa: F401  (registers components)
from mmropim.datasets import check_class_folders, check_class_folders_fit_model
from mmropim.utils.config_checks import check_config_keys
from mmropim.utils.model_checkpoint import check_checkpoint_fits_model
from tools.argument_types import existing_file, output_file
from tools.run_config import (parse_run_arguments, run_config_from_args,
                              run_parser)

METRICS_FORMATS = ('.json', '.yaml', '.yml', '.pkl', '.pickle')


def metrics_file(text: str) -> str:
    """``--out``: a file name with an extension ``mmengine.dump`` writes,
    checked before the evaluation rather than after it."""
    if osp.splitext(text)[1].lower() not in METRICS_FORMATS:
        raise argparse.ArgumentTypeError(
            f'{text!r} has no metrics file extension; use one of '
            f'{", ".join(METRICS_FORMATS)}')
    return output_file(text)


def parse_args(argv=None):
    parser = run_parser('Test a checkpoint', 'testing',
                        'folder for the evaluation log')
    parser.add_argument(
        'checkpoint', type=existing_file, help='checkpoint file')
    parser.add_argument(
        '--out',
        type=metrics_file,
        help='dump the metrics to this file (.json, .yaml or .pkl)')
    return parse_run_arguments(parser, argv)


def main():
    args = parse_args()
    cfg = run_config_from_args(args)
    if cfg.get('test_dataloader') is None:
        raise KeyError(f'{args.config} has no test_dataloader: pre-training '
                       'configs cannot be tested, use a fine-tuning config')
    cfg.load_from = args.checkpoint
    check_config_keys(cfg)
    check_class_folders(cfg)
    runner = Runner.from_cfg(cfg)
    model = (runner.model.module
             if is_model_wrapper(runner.model) else runner.model)
    # MMEngine loads load_from with strict=False: a checkpoint lacking
    # weights (a pre-training one: no head) would be tested untrained
    checked = check_checkpoint_fits_model(model, args.checkpoint)
    # the train split check_class_folders compares with is often absent
    # when testing: the classes the checkpoint was trained on are the
    # reference (else the count of the head's)
    check_class_folders_fit_model(
        cfg, checked['meta'], args.checkpoint,
        num_classes=getattr(getattr(model, 'head', None), 'num_classes',
                            None),
        splits=('test_dataloader', ))
    metrics = runner.test()
    if args.out:
        import mmengine
        mmengine.dump(metrics, args.out)


if __name__ == '__main__':
    main()
