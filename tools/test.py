"""Evaluate a checkpoint with an OpenMMLab config (MMPretrain, MMSeg or MMDet).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out FILE]
        [--show-dir DIR [--interval N]] [--tta] [--amp]
        [--cfg-options key=value ...] [--launcher pytorch]

``--show-dir`` and ``--tta`` work as in MMPretrain's own tools/test.py, on
MMPretrain configs.
"""
import argparse
import copy
import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmengine.config import Config, ConfigDict
from mmengine.evaluator import DumpResults
from mmengine.model import BaseTTAModel, is_model_wrapper
from mmengine.runner import Runner

import mmropim  # noqa: F401  (registers components)
from mmropim.datasets import (check_class_folders,
                              check_class_folders_fit_model, check_data_roots)
from mmropim.utils.argument_types import (existing_file, output_dir,
                                          output_file, positive_int)
from mmropim.utils.config_checks import check_config_keys
from mmropim.utils.model_checkpoint import check_checkpoint_fits_model
from mmropim.utils.run_config import (parse_run_arguments,
                                      run_config_from_args, run_parser)

PICKLE_FORMATS = ('.pkl', '.pickle')
METRICS_FORMATS = ('.json', '.yaml', '.yml') + PICKLE_FORMATS
OUT_ITEMS = ('metrics', 'pred')


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
        help='dump the metrics (.json, .yaml or .pkl) or, with --out-item '
        'pred, the predictions (.pkl) to this file')
    parser.add_argument(
        '--out-item',
        choices=OUT_ITEMS,
        default='metrics',
        help='with --out: what to dump, the metrics (default) or every '
        'test sample\'s prediction (MMEngine\'s DumpResults), as '
        'MMPretrain\'s tools/test.py')
    parser.add_argument(
        '--show-dir',
        type=output_dir,
        help='draw the test images with their predicted and true classes '
        'into this folder (MMPretrain configs)')
    parser.add_argument(
        '--interval',
        type=positive_int,
        default=1,
        help='with --show-dir: draw every N-th test image (default: 1)')
    parser.add_argument(
        '--tta',
        action='store_true',
        help='test-time augmentation (MMPretrain configs): the config\'s '
        'tta_model and tta_pipeline, else flip TTA averaging the scores of '
        'the image and its mirror image')
    args = parse_run_arguments(parser, argv)
    if args.out_item == 'pred' and args.out and not args.out.endswith(
            PICKLE_FORMATS):
        parser.error(f'--out-item pred dumps the predictions as a pickle: '
                     f'--out {args.out} needs a {" or ".join(PICKLE_FORMATS)}'
                     ' name')
    return args


def _unwrapped(model):
    """The model inside the distributed and the TTA wrappers (the one the
    checkpoint loads into)."""
    while is_model_wrapper(model) or isinstance(model, BaseTTAModel):
        model = model.module
    return model


def apply_show_and_tta(cfg: Config, args: argparse.Namespace) -> None:
    """``--show-dir`` / ``--interval`` and ``--tta``, as MMPretrain's
    tools/test.py applies them: the config's VisualizationHook switched on
    (pictures written as ``<image name>_0.png``), and the model wrapped in
    the config's ``tta_model`` (default ``AverageClsScoreTTA``) with its
    ``tta_pipeline`` (default: the test pipeline ending in a flip and no
    flip).

    Raises:
        ValueError: A flag on a config of another codebase (its own tools
            draw and augment otherwise), or ``--show-dir`` with ``--tta``.
        KeyError: ``--show-dir`` on a config without the
            ``default_hooks.visualization`` hook.
    """
    show = args.show_dir is not None
    if not (show or args.tta):
        return
    flag = '--tta' if args.tta else '--show-dir'
    scope = cfg.get('default_scope', 'mmpretrain')
    if scope != 'mmpretrain':
        raise ValueError(
            f'{flag} covers MMPretrain configs; {args.config} is an {scope} '
            f'config: test it with {scope}\'s own tools/test.py, which '
            'takes the flag')
    if show and args.tta:
        raise ValueError(
            '--show-dir with --tta: each image comes as several views, '
            'which MMPretrain\'s VisualizationHook cannot draw; use one of '
            'them per run')
    if show:
        hooks = cfg.get('default_hooks') or {}
        if 'visualization' not in hooks:
            raise KeyError(
                f'--show-dir: {args.config} has no default_hooks.'
                'visualization; add visualization=dict(type='
                '"VisualizationHook")')
        hooks.visualization.update(
            enable=True, out_dir=args.show_dir, interval=args.interval)
        return
    if 'tta_model' not in cfg:
        cfg.tta_model = dict(type='mmpretrain.AverageClsScoreTTA')
    if 'tta_pipeline' not in cfg:
        test_pipeline = cfg.test_dataloader.dataset.pipeline
        cfg.tta_pipeline = copy.deepcopy(test_pipeline)
        cfg.tta_pipeline[-1] = dict(
            type='TestTimeAug',
            transforms=[[
                dict(type='RandomFlip', prob=1.),
                dict(type='RandomFlip', prob=0.)
            ], [test_pipeline[-1]]])
    cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline


def main(argv=None):
    args = parse_args(argv)
    cfg = run_config_from_args(args)
    if cfg.get('test_dataloader') is None:
        raise KeyError(f'{args.config} has no test_dataloader: pre-training '
                       'configs cannot be tested, use a fine-tuning config')
    apply_show_and_tta(cfg, args)
    cfg.load_from = args.checkpoint
    check_config_keys(cfg)
    check_data_roots(cfg, ('test_dataloader', ))
    check_class_folders(cfg)
    runner = Runner.from_cfg(cfg)
    model = _unwrapped(runner.model)
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
    if args.out and args.out_item == 'pred':
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))
    metrics = runner.test()
    if args.out and args.out_item == 'metrics':
        import mmengine
        mmengine.dump(metrics, args.out)


if __name__ == '__main__':
    main()
