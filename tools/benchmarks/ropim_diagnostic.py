"""What ROPIM and SimMIM-style masking learn: held-out loss against a
no-learning baseline, across training.

Reads the output folder of tools/benchmarks/ropim_evidence.py (its
``plan.json`` and one seed's pre-training checkpoints) and, for every ROPIM
and SimMIM row, evaluates each checkpoint (and a fresh initialization as
epoch 0) on the held-out images, with the same sketches / masks for every
checkpoint (drawn from a fixed generator), with the losses of
:mod:`mmropim.evaluation.reconstruction_losses` (ROPIM's complement loss
against predicting the projected input, SimMIM's masked loss against
predicting the mean visible colour; a ratio below 1 is what pre-training
learned beyond the input it was given).
It also reads the training logs: the loss and the gradient norm before
clipping (the configs clip at 5.0) per logged iteration. Writes
``diagnostic_seed<S>.json`` and a picture of the curves.

    python tools/benchmarks/ropim_diagnostic.py work_dirs/ropim_evidence \\
        --figure docs/images/ropim_diagnostic.png
"""
import argparse
import glob
import json
import os.path as osp
import re
import sys

import numpy as np
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

import mmropim  # noqa: F401
from mmropim.evaluation import corrupted_loss, held_out_losses
from mmropim.utils import load_local_checkpoint
from mmropim.utils.argument_types import positive_int
from tools.benchmarks.readout_rows import (ROPIM_CFG, SIMMIM_BEIT_CFG,
                                           lr_option, row_config)
from tools.benchmarks.seed_table import load_split

PLAIN_ROPIM_CFG = ('configs/ropim/'
                   'ropim_vit-mini-p8_1xb32-coslr-20e_demo-64px.py')
# pre-training model types the diagnostic knows the loss of
DIAGNOSED_TYPES = ('ROPIM', 'PRMIMSimMIM')
CLIP_MAX_NORM = 5.0


def epoch_checkpoints(work_dir):
    """``[(epoch, path)]`` of the ``epoch_<N>.pth`` files in ``work_dir``,
    by epoch."""
    found = []
    for path in glob.glob(osp.join(glob.escape(work_dir), 'epoch_*.pth')):
        match = re.fullmatch(r'epoch_(\d+)\.pth', osp.basename(path))
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def build_model(config, options):
    """The pre-training model of ``config`` with ``options`` merged (the
    --cfg-options the row trained with)."""
    cfg = row_config(config, options)
    init_default_scope('mmpretrain')
    return MODELS.build(cfg.model), cfg


def mask_ratio(cfg):
    """The mask ratio of a SimMIM config's FurthestSampling step; None for
    a ROPIM config (a sketch, no mask)."""
    if cfg.model.type == 'ROPIM':
        return None
    for step in cfg.train_dataloader.dataset.pipeline:
        if step['type'] == 'FurthestSampling':
            return step['mask_ratio']
    raise ValueError('the SimMIM config has no FurthestSampling step in its '
                     'training pipeline to take the mask ratio from')


def corruption_strength(data_root, num_images=1000, seed=0,
                        rhos=(1 / 7, 1 / 4, 1 / 2), batch_size=32):
    """How strong each corruption is, before any training: on held-out
    images, the fraction of the squared norm it removes, the loss of the
    no-learning prediction, and the gradient norm of the first step (the
    configs clip at 5.0) of the same freshly initialized BEiT-style ViT,
    for ROPIM at each sketch ratio and for SimMIM-style masking.

    Args:
        data_root (str): ImageNet-style root; its ``val`` split is used.
        num_images (int): Held-out images (the first N).
        seed (int): Seed of the initialization and of the sketches / masks.
        rhos (tuple[float]): ROPIM's sketch ratios K'/K.
        batch_size (int): Images per gradient step, the configs' 32.

    Returns:
        list[dict]: One row per corruption: ``corruption``,
        ``removed_energy``, ``baseline`` and ``first_grad_norm`` (mean
        over the batches).
    """
    images, _ = load_split(data_root, 'val')
    images = images[:num_images]
    runs = [(f'ROPIM, rho {rho:.3f}', ROPIM_CFG,
             [lr_option(1), f'model.data_preprocessor.rho={rho}'])
            for rho in rhos]
    runs.append(('SimMIM-style mask 0.6', SIMMIM_BEIT_CFG, [lr_option(1)]))
    # the same tiny ViT with an absolute position embedding, added after
    # the projection (not the controlled pair: another backbone)
    runs.append((f'ROPIM, rho {rhos[0]:.3f}, plain ViT', PLAIN_ROPIM_CFG,
                 []))
    rows = []
    for name, config, options in runs:
        torch.manual_seed(seed)
        model, cfg = build_model(config, options)
        model.init_weights()
        values = held_out_losses(model, images, seed, mask_ratio(cfg))
        model.train()
        generator = torch.Generator().manual_seed(seed)
        norms = []
        for batch in images.split(batch_size):
            model.zero_grad()
            with torch.enable_grad():
                corrupted_loss(model, batch, generator,
                               mask_ratio(cfg)).backward()
            norms.append(torch.nn.utils.clip_grad_norm_(
                model.parameters(), float('inf')).item())
        rows.append(dict(corruption=name,
                         removed_energy=values['removed_energy'],
                         baseline=values['baseline'],
                         initial_ratio=values['ratio'],
                         first_grad_norm=float(np.mean(norms))))
    return rows


def training_log(work_dir):
    """The loss and gradient norm (before clipping) of every logged
    training iteration in ``work_dir``'s newest run."""
    found = sorted(glob.glob(osp.join(glob.escape(work_dir), '*', 'vis_data',
                                      'scalars.json')))
    if not found:
        return dict(iters=[], loss=[], grad_norm=[])
    with open(found[-1]) as f:
        records = [json.loads(line) for line in f if line.strip()]
    records = [r for r in records if 'loss' in r and 'iter' in r]
    return dict(iters=[r['iter'] for r in records],
                loss=[r['loss'] for r in records],
                grad_norm=[r.get('grad_norm', float('nan'))
                           for r in records])


def diagnose_row(row, work_dir, images, seed):
    """The curves of one pre-training row (``row`` from plan.json)."""
    torch.manual_seed(seed)
    model, cfg = build_model(row['config'], row['options'])
    model.init_weights()
    ratio = mask_ratio(cfg)
    points = [dict(epoch=0, **held_out_losses(model, images, seed, ratio))]
    for epoch, path in epoch_checkpoints(work_dir):
        state = load_local_checkpoint(path, map_location='cpu')
        model.load_state_dict(state['state_dict'])
        points.append(
            dict(epoch=epoch, **held_out_losses(model, images, seed, ratio)))
    log = training_log(work_dir)
    norms = np.array(log['grad_norm'], np.float64)
    norms = norms[~np.isnan(norms)]
    return dict(name=row['name'], model=cfg.model.type, points=points,
                log=log,
                clipped_fraction=float((norms > CLIP_MAX_NORM).mean())
                if len(norms) else float('nan'))


def plot(curves, figure):
    """Two panels: held-out loss / no-learning baseline by epoch, and the
    logged gradient norms with the clipping threshold."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for index, curve in enumerate(curves):
        color = f'C{index % 10}'
        style = '-' if curve['model'] == 'ROPIM' else '--'
        epochs = [p['epoch'] for p in curve['points']]
        left.plot(epochs, [p['ratio'] for p in curve['points']], style,
                  color=color, marker='o', label=curve['name'])
        right.plot(curve['log']['iters'], curve['log']['grad_norm'], style,
                   color=color, label=curve['name'])
    left.axhline(1.0, color='grey', lw=0.8)
    left.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.set_xlabel('pre-training epoch (0: initialization)')
    left.set_ylabel('held-out loss / no-learning baseline')
    left.set_title('ROPIM: complement L1 / L1((I-Π)x)\n'
                   'SimMIM: masked L1 / mean visible colour', fontsize=9)
    left.legend(fontsize=7)
    right.axhline(CLIP_MAX_NORM, color='grey', lw=0.8)
    right.set_yscale('log')
    right.set_xlabel('iteration')
    right.set_ylabel('gradient norm before clipping (clip at 5.0)')
    fig.tight_layout()
    fig.savefig(figure, dpi=110)
    plt.close(fig)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out_dirs', nargs='+', metavar='OUT_DIR',
                        help='output folders of ropim_evidence.py runs on '
                        'the same data; their rows are drawn together')
    parser.add_argument('--seed', type=int, default=0,
                        help='the seed whose checkpoints to read')
    parser.add_argument('--images', type=positive_int, default=1000,
                        help='held-out images used (the first N)')
    parser.add_argument('--corruption', action='store_true',
                        help='instead: OUT_DIR is an ImageNet-style data '
                        'root; print how strong each corruption is there '
                        'before training (removed energy, no-learning '
                        'loss, first gradient norm)')
    parser.add_argument('--figure', help='picture path (default: '
                        'OUT_DIR/diagnostic_seed<S>.png of the first)')
    return parser.parse_args(argv)


def read_plan(out_dir):
    """The plan.json that ropim_evidence.py wrote in ``out_dir``."""
    plan_path = osp.join(out_dir, 'plan.json')
    if not osp.isfile(plan_path):
        raise FileNotFoundError(
            f'{plan_path} does not exist: give the --out-dir of a '
            'tools/benchmarks/ropim_evidence.py run')
    with open(plan_path) as f:
        return json.load(f)


def main(argv=None):
    args = parse_args(argv)
    # the models' init_weights reports go to the current logger: warnings
    # only
    MMLogger.get_instance('ropim_diagnostic', log_level='WARNING')
    if args.corruption:
        rows = corruption_strength(args.out_dirs[0], args.images, args.seed)
        print('| corruption | removed energy | no-learning loss | loss / '
              'no-learning at init | first gradient norm |\n' +
              '|---' * 5 + '|')
        for row in rows:
            print(f'| {row["corruption"]} | {row["removed_energy"]:.2f} | '
                  f'{row["baseline"]:.3f} | {row["initial_ratio"]:.3f} | '
                  f'{row["first_grad_norm"]:.2f} |')
        return rows
    plans = [read_plan(out_dir) for out_dir in args.out_dirs]
    data_roots = {osp.normpath(plan['data_root']) for plan in plans}
    if len(data_roots) > 1:
        raise ValueError('the runs were made on different data, '
                         f'{sorted(data_roots)}: diagnose them one by one')
    images, _ = load_split(plans[0]['data_root'], 'val')
    images = images[:args.images]
    curves = []
    for out_dir, plan in zip(args.out_dirs, plans):
        for row in plan['rows']:
            work_dir = osp.join(out_dir, f'seed{args.seed}',
                                f'pretrain_{row["slug"]}')
            model_type = row_config(row['config']).model.type
            if model_type not in DIAGNOSED_TYPES or not epoch_checkpoints(
                    work_dir):
                continue
            curve = diagnose_row(row, work_dir, images, args.seed)
            curves.append(curve)
            print(f'{row["name"]}: ' + ', '.join(
                f'epoch {p["epoch"]} {p["ratio"]:.3f}'
                for p in curve['points']) +
                f'; removed energy '
                f'{curve["points"][0]["removed_energy"]:.2f}'
                f'; grad norm > {CLIP_MAX_NORM}: '
                f'{100 * curve["clipped_fraction"]:.0f}% of logged '
                'iterations', flush=True)
    if not curves:
        raise FileNotFoundError(
            f'no ROPIM / SimMIM checkpoints of seed {args.seed} under '
            f'{args.out_dirs}: run ropim_evidence.py first')
    first = args.out_dirs[0]
    with open(osp.join(first, f'diagnostic_seed{args.seed}.json'),
              'w') as f:
        json.dump(dict(out_dirs=args.out_dirs, images=len(images),
                       curves=curves), f, indent=2)
    plot(curves, args.figure or osp.join(first,
                                         f'diagnostic_seed{args.seed}.png'))


if __name__ == '__main__':
    main()
