"""Run full-size configs as users run them, at narrow widths.

Every config is built as shipped except that its transformer and head widths
are divided by ``--width-divisor`` (depth, heads, token counts, input size,
per-GPU batch, pipeline, optimizer, schedule and AMP settings are kept). It
then trains ``--iters`` iterations through MMEngine's ``Runner`` on the demo
images (``make_demo_data.py``), cropped and resized by the config's own
pipeline to its real input size. On a CPU, ``AmpOptimWrapper`` becomes
:class:`CPUAmpOptimWrapper` (fp16 / bf16 autocast and a gradient scaler on
the CPU). Checked: the loss is finite and non-zero at every iteration, and
every parameter that requires a gradient receives a non-zero one.

    python tools/analysis/check_configs.py [CONFIG ...] [--iters 2]
        [--width-divisor 16] [--batch-size N] [--device cpu|cuda]

Without CONFIG every non-demo config under ``configs/`` is checked.
"""
import argparse
import math
import os.path as osp
import sys
import tempfile
import time
from typing import List, Optional

import torch
from mmengine.config import Config
from mmengine.hooks import Hook

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:  # run as a script: tools.* importable
    sys.path.insert(0, REPO_ROOT)
CONFIG_ROOT = osp.join(REPO_ROOT, 'configs')

from mmropim.engine.hooks import GradientAuditHook
from mmropim.utils.argument_types import existing_file, positive_int
from mmropim.utils.config_groups import full_size_configs
from mmropim.utils.model_narrowing import (narrow_model,
                                           without_stochastic_depth)
from mmropim.utils.run_config import load_config
from tools.analysis.cpu_amp import (map_amp_to_device,
                                    mmcv_ops_in_float32_on_cpu)
from tools.analysis.demo_training_sets import demo_dataset


def prepare_config(path: str,
                   work_dir: str,
                   demo_root: str,
                   iters: int = 2,
                   width_divisor: int = 16,
                   batch_size: Optional[int] = None,
                   device: str = 'cpu',
                   max_depth: Optional[int] = None,
                   seed: int = 0) -> Config:
    """Load a config and make it a short run of the narrow model on the demo
    data at the config's input size and per-GPU batch, seeded and without
    stochastic depth (see :func:`without_stochastic_depth`).

    Args:
        path (str): Config file.
        work_dir (str): Folder for the run's logs.
        demo_root (str): Root of ``make_demo_data.py``'s output.
        iters (int): Training iterations. Defaults to 2.
        width_divisor (int): See :func:`narrow_model`. Defaults to 16.
        batch_size (int, optional): Per-GPU batch; the config's when None.
        device (str): ``'cpu'`` or ``'cuda'``.
        max_depth (int, optional): See :func:`narrow_model`.
        seed (int): ``randomness.seed`` of the run. Defaults to 0.

    Returns:
        Config: Ready for ``Runner.from_cfg``.
    """
    cfg = load_config(path)
    scope = cfg.get('default_scope', 'mmpretrain')
    cfg.model = without_stochastic_depth(
        narrow_model(cfg.model, width_divisor, max_depth))
    cfg.randomness = dict(seed=seed)
    loader = cfg.train_dataloader
    batch_size = batch_size or loader.batch_size
    loader.batch_size = batch_size
    loader.dataset = demo_dataset(loader.dataset, scope, demo_root,
                                  batch_size * iters, work_dir)
    # on a CPU the workers would only compete with the model for the cores
    # (and each finished run's workers take seconds to shut down)
    loader.num_workers = 0 if device == 'cpu' else min(
        loader.get('num_workers', 0), 8)
    loader.persistent_workers = False
    loader.pin_memory = False
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters)
    for key in ('val_dataloader', 'val_evaluator', 'val_cfg',
                'test_dataloader', 'test_evaluator', 'test_cfg'):
        cfg[key] = None
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.optim_wrapper = map_amp_to_device(cfg.optim_wrapper, device)
    cfg.work_dir = work_dir
    cfg.launcher = 'none'
    cfg.load_from = None
    cfg.resume = False
    cfg.visualizer = dict(type=cfg.visualizer.type, vis_backends=[])
    cfg.log_level = 'WARNING'
    return cfg


def check_config(path: str, work_dir: str, demo_root: str,
                 **options) -> dict:
    """Train the narrow model of a config for a few iterations.

    Args:
        path, work_dir, demo_root, **options: See :func:`prepare_config`.

    Returns:
        dict: ``losses`` per iteration, ``without_gradient`` (trainable
        parameters that never got a non-zero gradient), ``batch_size``,
        ``input_shape`` of the first batch, ``optim_wrapper`` type,
        ``amp_dtype`` and ``seconds``.
    """
    from mmengine.runner import Runner
    cfg = prepare_config(path, work_dir, demo_root, **options)
    audit = GradientAuditHook()
    shapes = []

    class InputShapeHook(Hook):

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            inputs = data_batch['inputs']
            if isinstance(inputs, (list, tuple)) and inputs[0].dim() == 4:
                inputs = inputs[0]  # MultiView: one (B, C, H, W) per view
            shapes.append((len(inputs), ) + tuple(inputs[0].shape))

    start = time.perf_counter()
    runner = Runner.from_cfg(cfg)
    runner.register_hook(audit, priority='LOWEST')
    runner.register_hook(InputShapeHook(), priority='LOWEST')
    with mmcv_ops_in_float32_on_cpu():
        runner.train()
    wrapper = runner.optim_wrapper
    return dict(
        losses=audit.losses,
        without_gradient=audit.without_gradient(),
        batch_size=cfg.train_dataloader.batch_size,
        input_shape=shapes[0],
        optim_wrapper=type(wrapper).__name__,
        amp_dtype=str(getattr(wrapper, 'cast_dtype', None)),
        seconds=time.perf_counter() - start)


def problems(result: dict) -> List[str]:
    """What is wrong with a :func:`check_config` result (empty when fine)."""
    found = []
    for i, loss in enumerate(result['losses']):
        if not math.isfinite(loss) or loss == 0:
            found.append(f'loss {loss} at iteration {i + 1}')
    if result['without_gradient']:
        found.append('no non-zero gradient: ' +
                     ', '.join(result['without_gradient']))
    return found


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument(
        'configs',
        nargs='*',
        type=existing_file,
        help='configs (default: all non-demo configs under configs/)')
    parser.add_argument('--iters', type=positive_int, default=2,
                        help='training iterations per config (default: 2)')
    parser.add_argument(
        '--width-divisor',
        type=positive_int,
        default=16,
        help='divide every channel width and attention head count of the '
        'models (default: 16)')
    parser.add_argument('--max-depth', type=positive_int,
                        help='cap encoder / decoder depths (default: keep)')
    parser.add_argument(
        '--batch-size',
        type=positive_int,
        help='per-GPU batch (default: the config\'s)')
    parser.add_argument('--device', choices=['cpu', 'cuda'],
                        default='cuda' if torch.cuda.is_available() else 'cpu',
                        help='where to train (default: cuda when present)')
    parser.add_argument('--demo-root', default='data/demo',
                        help='output of make_demo_data.py')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Check the configs; 1 when any failed (each named), else 0."""
    args = parse_args(argv)
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for path in args.configs or full_size_configs(CONFIG_ROOT):
            try:
                result = check_config(
                    path, osp.join(tmp, osp.basename(path)), args.demo_root,
                    iters=args.iters, width_divisor=args.width_divisor,
                    batch_size=args.batch_size, device=args.device,
                    max_depth=args.max_depth)
            except Exception as error:  # report it, check the next config
                failed += 1
                print(f'FAIL {osp.relpath(path, CONFIG_ROOT)}: '
                      f'{type(error).__name__}: {error}')
                continue
            found = problems(result)
            failed += bool(found)
            print(f'{"FAIL" if found else "ok  "} '
                  f'{osp.relpath(path, CONFIG_ROOT)}: batch '
                  f'{result["input_shape"]}, {result["optim_wrapper"]} '
                  f'{result["amp_dtype"]}, losses '
                  f'{[round(v, 4) for v in result["losses"]]}, '
                  f'{result["seconds"]:.1f} s' +
                  ''.join(f'\n     {p}' for p in found))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
