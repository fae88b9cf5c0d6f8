"""GPU smoke and cost benchmark of the full-size pre-training configs.

1. Smoke: every full-size pre-training config trains ``--iters`` steps on one
   device at its per-GPU batch with its own optimizer wrapper (AMP included;
   ``CPUAmpOptimWrapper`` on a CPU) at the optimizer's base learning rate
   (no warm-up, so that the loss moves within a few steps). Images are
   synthetic (``smooth_images``, a pool of 256) passed through the
   config's own pipeline after ``LoadImageFromFile``. Reported per setting:
   first / last loss (finite, non-zero, falling: on average below the loss
   of the same batch ``NUM_BATCHES`` steps earlier, as the batches cycle and
   differ in difficulty), images/s (median step) and
   ``torch.cuda.max_memory_allocated``. Configs that differ only in their
   schedule (learning rate, warm-up, epochs) share one run.
2. MMPretrain's stock MAE ViT-B/16 config vs plain partial reconstruction
   vs PR-MIM at throw ratios 0.25 / 0.5 / 0.65 (our ablation configs, the
   same recipe), at the PR-MIM configs' per-GPU batch, each with its own AMP
   optimizer wrapper, timed round-robin in one run: step time, images/s and
   peak memory above the resident models, with ratios to MAE.
3. ROPIM ViT-B/16 vs MMPretrain's MAE ViT-B/16 at ROPIM's per-GPU batch.

    python tools/benchmarks/gpu_smoke.py [--iters 20] [--configs CFG ...]
        [--parts smoke compare] [--out gpu_smoke.json]
    python tools/benchmarks/gpu_smoke.py --device cpu --tiny   # CPU check

``--width-divisor`` and ``--max-depth`` make the models smaller (``--tiny``
divides widths by 16).
"""
import os.path as osp
import statistics
import sys

import numpy as np
import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.optim import build_optim_wrapper
from mmpretrain.registry import MODELS

import mmropim  # noqa: F401
from mmropim.datasets.demo import smooth_images
from mmropim.evaluation import (interleaved_median_ms,
                                peak_memory_above_resident_mb,
                                pipeline_batches, timed_ms)
from mmropim.utils.argument_types import existing_file, positive_int
from mmropim.utils.config_groups import full_size_configs, group_by_setting
from tools.analysis.cpu_amp import map_amp_to_device
from tools.benchmarks.common import (CONFIG_ROOT, benchmark_parser,
                                     model_config, start_benchmark,
                                     write_out_json)

PRETRAIN_TYPES = ('ROPIM', 'PRMIM', 'PRMIMSimMIM')
PRMIM_CONFIG = 'prmim/prmim_vit-base-p16_8xb512-amp-coslr-100e_in1k.py'
ROPIM_CONFIG = 'ropim/ropim_beit-base-p16_8xb256-amp-coslr-300e_in1k.py'
ABLATION = ('prmim/ablations/'
            '{}-g{:03d}_vit-base-p16_8xb512-amp-coslr-100e_in1k.py')
THROW_RATIOS = (0.25, 0.5, 0.65)
# MMPretrain's own MAE recipe (model, augmentation, AMP optimizer wrapper)
MAE_CONFIG = 'mmpretrain::mae/mae_vit-base-p16_8xb512-amp-coslr-300e_in1k.py'


def build_setting(model_cfg: dict, optim_wrapper_cfg: dict,
                  device: torch.device, size: tuple):
    """Model (initialized, on ``device``, made smaller by ``size``: the
    width divisor and maximum depth of ``model_config``) and its optimizer
    wrapper."""
    model = MODELS.build(model_config(model_cfg, *size))
    model.init_weights()
    model.to(device).train()
    optim_wrapper = build_optim_wrapper(
        model, map_amp_to_device(optim_wrapper_cfg, device.type))
    return model, optim_wrapper


def train_step_fn(model, optim_wrapper, batch, log=None):
    """One training step; its logged losses go to ``log`` when given."""

    def step():
        log_vars = model.train_step(batch, optim_wrapper)
        if log is not None:
            log.append(float(torch.as_tensor(log_vars['loss']).detach()))

    return step


def smoke_groups(paths: list) -> list:
    """Pre-training configs grouped by ``setting_key`` (schedule variants
    share one run): (config of the first, relative paths of all)."""
    groups = []
    for group in group_by_setting(paths):
        cfg = Config.fromfile(group[0])
        if cfg.model.type in PRETRAIN_TYPES:
            groups.append(
                (cfg, [osp.relpath(p, CONFIG_ROOT) for p in group]))
    return groups


#: smoke batches, cycled: a batch comes back every NUM_BATCHES steps
NUM_BATCHES = 2


def smoke(cfg: Config, device: torch.device, iters: int, batch_size: int,
          size: tuple, pool: list) -> dict:
    """Train ``iters`` steps of one config's setting; see the module doc."""
    model, optim_wrapper = build_setting(cfg.model, cfg.optim_wrapper, device,
                                         size)
    batches = pipeline_batches(cfg.train_dataloader.dataset.pipeline, pool,
                               batch_size, num_batches=NUM_BATCHES)
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    losses, seconds = [], []
    for i in range(iters):
        seconds.append(timed_ms(
            train_step_fn(model, optim_wrapper, batches[i % len(batches)],
                          losses), device) / 1000)
    steady = seconds[min(3, len(seconds) - 1):]
    # each loss against the same batch's, NUM_BATCHES steps earlier
    changes = [
        losses[i] - losses[i - NUM_BATCHES]
        for i in range(NUM_BATCHES, len(losses))
    ]
    row = dict(
        losses=losses,
        finite=all(np.isfinite(losses)),
        nonzero=all(v != 0 for v in losses),
        falling=statistics.mean(changes) < 0,
        step_ms=1000 * statistics.median(steady),
        images_per_s=batch_size / statistics.median(steady),
        peak_mb=torch.cuda.max_memory_allocated(device) / 2**20
        if device.type == 'cuda' else None,
        optim_wrapper=type(optim_wrapper).__name__,
        amp_dtype=str(getattr(optim_wrapper, 'cast_dtype', None)))
    del model, optim_wrapper, batches
    if device.type == 'cuda':
        torch.cuda.empty_cache()
    return row


def compare(settings: list, device: torch.device, batch_size: int,
            size: tuple, pool: list, repeats: int) -> list:
    """Step time and peak memory of several (name, model cfg, optim wrapper
    cfg, pipeline) settings at one batch, timed round-robin."""
    built = []
    for name, model_cfg, optim_cfg, pipeline in settings:
        model, optim_wrapper = build_setting(model_cfg, optim_cfg, device,
                                             size)
        batch = pipeline_batches(pipeline, pool, batch_size, num_batches=1)[0]
        built.append((name, train_step_fn(model, optim_wrapper, batch)))
    rows = []
    for name, step in built:
        step()  # warm-up, optimizer state allocated
        rows.append(dict(method=name, peak_above_resident_mb=(
            peak_memory_above_resident_mb(step, device))))
    step_ms = interleaved_median_ms([step for _, step in built], repeats,
                                    device)
    for row, ms in zip(rows, step_ms):
        row['step_ms'] = ms
        row['images_per_s'] = 1000 * batch_size / row['step_ms']
        base = rows[0]
        row['time_x_first'] = row['step_ms'] / base['step_ms']
        if row['peak_above_resident_mb'] is not None:
            row['memory_x_first'] = (row['peak_above_resident_mb'] /
                                     base['peak_above_resident_mb'])
    return rows


def mae_setting(optim_wrapper_cfg=None) -> tuple:
    """MMPretrain's stock MAE ViT-B/16 config as its users run it (its own
    optimizer wrapper unless another is given)."""
    cfg = get_config(MAE_CONFIG)
    return ('MAE', cfg.model, optim_wrapper_cfg or cfg.optim_wrapper,
            cfg.train_dataloader.dataset.pipeline)


def config_setting(name: str, relpath: str) -> tuple:
    cfg = Config.fromfile(osp.join(CONFIG_ROOT, relpath))
    return (name, cfg.model, cfg.optim_wrapper,
            cfg.train_dataloader.dataset.pipeline)


def parse_args(argv=None):
    parser = benchmark_parser(__doc__, batch_size=None, repeats=5)
    parser.add_argument(
        '--configs',
        nargs='*',
        type=existing_file,
        help='smoke only these (default: every full-size pre-training '
        'config)')
    parser.add_argument('--parts', nargs='+', default=['smoke', 'compare'],
                        choices=['smoke', 'compare'],
                        help='smoke: every config trains; compare: the step '
                        'costs against MAE (default: both)')
    parser.add_argument('--iters', type=positive_int,
                        help='smoke steps per setting, more than 2 (default '
                        '20, --tiny 4)')
    parser.add_argument('--tiny', action='store_true',
                        help='CPU check: widths / 16, batch 4, 4 steps, 2 '
                        'timed rounds (unless given)')
    args = parser.parse_args(argv)
    if args.tiny:
        args.width_divisor = max(args.width_divisor, 16)
        args.batch_size = args.batch_size or 4
        args.iters = args.iters or 4
        args.repeats = min(args.repeats, 2)
    args.iters = args.iters or 20
    if args.iters <= NUM_BATCHES and 'smoke' in args.parts:
        parser.error(f'argument --iters: the smoke compares each loss with '
                     f'the same batch\'s {NUM_BATCHES} steps earlier: give '
                     f'more than {NUM_BATCHES}, got {args.iters}')
    return args


def main():
    args = parse_args()
    device = start_benchmark('gpu_smoke', args.device)
    pool = list(smooth_images(256 if not args.tiny else 16, 256).numpy())
    report = dict(
        device=torch.cuda.get_device_name(device)
        if device.type == 'cuda' else 'cpu',
        torch=torch.__version__,
        width_divisor=args.width_divisor,
        max_depth=args.max_depth,
        smoke=[],
        compare={})
    print(f'device {report["device"]}, torch {torch.__version__}, width '
          f'divisor {args.width_divisor}, max depth {args.max_depth}')
    size = (args.width_divisor, args.max_depth)

    if 'smoke' in args.parts:
        paths = [osp.abspath(p) for p in args.configs] if args.configs \
            else full_size_configs(CONFIG_ROOT)
        for cfg, names in smoke_groups(paths):
            batch = args.batch_size or cfg.train_dataloader.batch_size
            try:
                row = smoke(cfg, device, args.iters, batch, size, pool)
            except torch.cuda.OutOfMemoryError:
                row = dict(error=f'out of memory at batch {batch}')
            if 'error' in row and device.type == 'cuda':
                # outside the except: its traceback no longer holds the model
                torch.cuda.empty_cache()
            row.update(configs=names, batch_size=batch)
            report['smoke'].append(row)
            if 'error' in row:
                print(f'FAIL {names[0]}: {row["error"]}')
                continue
            ok = row['finite'] and row['nonzero'] and row['falling']
            peak = f', peak {row["peak_mb"]:.0f} MB' if row['peak_mb'] else ''
            print(f'{"ok  " if ok else "FAIL"} {names[0]} (+{len(names) - 1}'
                  f' same setting): batch {batch}, {row["optim_wrapper"]} '
                  f'{row["amp_dtype"]}, loss {row["losses"][0]:.4f} -> '
                  f'{row["losses"][-1]:.4f}, {row["images_per_s"]:.0f} img/s'
                  f'{peak}')

    if 'compare' in args.parts:
        prmim_cfg = Config.fromfile(osp.join(CONFIG_ROOT, PRMIM_CONFIG))
        settings = [mae_setting()]
        for method, mode in (('partial', 'partial'), ('PR-MIM', 'prmim')):
            for ratio in THROW_RATIOS:
                path = PRMIM_CONFIG if (mode, ratio) == ('prmim', 0.5) else \
                    ABLATION.format(mode, round(ratio * 100))
                settings.append(
                    config_setting(f'{method} {ratio:.2f}', path))
        batch = args.batch_size or prmim_cfg.train_dataloader.batch_size
        rows = compare(settings, device, batch, size, pool, args.repeats)
        report['compare']['prmim'] = dict(batch_size=batch, rows=rows)
        ropim_cfg = Config.fromfile(osp.join(CONFIG_ROOT, ROPIM_CONFIG))
        batch = args.batch_size or ropim_cfg.train_dataloader.batch_size
        rows = compare([mae_setting(), config_setting('ROPIM', ROPIM_CONFIG)],
                       device, batch, size, pool, args.repeats)
        report['compare']['ropim'] = dict(batch_size=batch, rows=rows)
        for name, part in report['compare'].items():
            print(f'{name}: ViT-B/16, batch {part["batch_size"]}')
            for row in part['rows']:
                memory = ''
                if row['peak_above_resident_mb'] is not None:
                    memory = (f', peak {row["peak_above_resident_mb"]:.0f} MB'
                              f' ({row["memory_x_first"]:.3f}x)')
                print(f'  {row["method"]:<13} {row["step_ms"]:9.1f} ms '
                      f'({row["time_x_first"]:.3f}x), '
                      f'{row["images_per_s"]:.0f} img/s{memory}')
    write_out_json(args, report)
    failed = [
        r for r in report['smoke'] if 'error' in r
        or not (r['finite'] and r['nonzero'] and r['falling'])
    ]
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
