"""Cost of MAE, plain partial reconstruction and PR-MIM, side by side.

For ViT-B/16 at 224 px and throw ratios 0 / 0.25 / 0.5 / 0.65, measured in one
run on one device with the same images:

- forward + backward FLOPs per image, counted with torch's FlopCounterMode
  with two corrections (it counts a depth-wise convolution's backward as if
  the convolution were dense, and misses attention on the CPU);
- activation memory per image: bytes saved for backward, parameters excluded
  and shared storages counted once (and the CUDA peak on a GPU);
- median time of one training step (forward + backward), timed round-robin;
- on a GPU, the CUDA peak memory of a step above the resident weights;
- the aggregator's share of the FLOPs, and the data-pipeline cost of
  furthest sampling per image against a plain-Python greedy loop.
With nothing thrown (throw ratio 0) the aggregator has nothing to rebuild,
and a training PR-MIM head refuses one: that row is PR-MIM's token path
without it, as the ``mae-g000`` ablation config builds it, and stands for
plain partial reconstruction at 0 too (the same model).

Flags (``--help``): the benchmarks' ``--batch-size`` (4), ``--repeats`` (3),
``--device``, ``--width-divisor`` and ``--max-depth`` (as shipped; e.g. 16
and 2 for a quick check) and ``--out FILE.json``.
"""
import copy
import math
import os.path as osp
import random
import sys
import time

import numpy as np
import torch
from mmengine.hub import get_config

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmpretrain.registry import MODELS, TRANSFORMS
from mmpretrain.structures import DataSample

import mmropim  # noqa: F401
from mmropim.evaluation import (count_flops, interleaved_median_ms,
                                peak_memory_above_resident_mb,
                                saved_activation_bytes)
from tools.benchmarks.common import (benchmark_parser, load_config,
                                     model_config, model_size_note,
                                     start_benchmark, write_out_json)

CONFIG = 'prmim/prmim_vit-base-p16_8xb512-amp-coslr-100e_in1k.py'
# MMPretrain's own MAE ViT-B/16 model, as its MAE configs build it
MAE_CONFIG = 'mmpretrain::_base_/models/mae_vit-base-p16.py'
THROW_RATIOS = (0.0, 0.25, 0.5, 0.65)
IMG_SIZE = 224


def row_plans():
    """(method, throw ratio, model) of every row, in table order: MAE, plain
    partial reconstruction at every throw ratio above 0, PR-MIM at every
    throw ratio. At throw ratio 0 nothing is thrown, so there is nothing for
    the aggregator to rebuild (a training PR-MIM head refuses one): PR-MIM
    runs without it there, which is also partial reconstruction at 0."""
    plans = [('mae', 0.0, 'mae')]
    plans += [('partial', ratio, 'partial') for ratio in THROW_RATIOS
              if ratio > 0]
    plans += [('prmim', ratio, 'prmim' if ratio > 0 else 'partial')
              for ratio in THROW_RATIOS]
    return plans


def python_greedy_furthest(coords, num_retained, rng):
    """Farthest-point sampling written as a plain Python loop, the baseline
    for the vectorized transform."""
    chosen = [rng.randrange(len(coords))]
    nearest = [math.dist(c, coords[chosen[0]]) for c in coords]
    while len(chosen) < num_retained:
        best = max(nearest)
        nxt = rng.choice([i for i, d in enumerate(nearest) if d == best])
        chosen.append(nxt)
        nearest = [
            min(d, math.dist(c, coords[nxt]))
            for d, c in zip(nearest, coords)
        ]
    return chosen


def sampling_cost_ms(num_images=500):
    """Per-image cost of FurthestSampling and of the plain-Python loop."""
    transform = TRANSFORMS.build(dict(type='FurthestSampling'))
    results = dict(img=np.zeros((224, 224, 3), np.uint8))
    np.random.seed(0)
    start = time.perf_counter()
    for _ in range(num_images):
        transform(results)
    vectorized = 1000 * (time.perf_counter() - start) / num_images
    rng = random.Random(0)
    grid = [(i // 14, i % 14) for i in range(196)]
    start = time.perf_counter()
    for _ in range(num_images // 10):
        masked = rng.sample(grid, 147)
        python_greedy_furthest(masked, 147 - 98, rng)
    python_loop = 1000 * (time.perf_counter() - start) / (num_images // 10)
    return vectorized, python_loop


def masked_samples(batch, throw_ratio, mode):
    transform = TRANSFORMS.build(
        dict(type='FurthestSampling', throw_ratio=throw_ratio, mode=mode))
    samples = []
    for _ in range(batch):
        out = transform(dict(img=np.zeros((224, 224, 3), np.uint8)))
        sample = DataSample()
        sample.set_mask(out['mask'])
        sample.set_field(out['throw_mask'], 'throw_mask')
        samples.append(sample)
    return samples


def build_models(device, width_divisor=1, max_depth=None):
    """MMPretrain's MAE, plain partial reconstruction (PR-MIM's model
    without the aggregator) and PR-MIM, initialized, on ``device``, in
    training mode; made smaller by ``width_divisor`` and ``max_depth`` (see
    ``model_config``)."""
    cfg = load_config(CONFIG)
    prmim_cfg = model_config(cfg.model, width_divisor, max_depth)
    prmim = MODELS.build(prmim_cfg)
    partial_cfg = copy.deepcopy(prmim_cfg)
    partial_cfg.head.aggregator = None
    partial = MODELS.build(partial_cfg)
    mae = MODELS.build(
        model_config(get_config(MAE_CONFIG).model, width_divisor, max_depth))
    for model in (prmim, partial, mae):
        model.init_weights()
        model.to(device).train()
    return dict(mae=mae, partial=partial, prmim=prmim)


parse_args = benchmark_parser(__doc__, batch_size=4, repeats=3).parse_args


def main(argv=None):
    args = parse_args(argv)
    device = start_benchmark('prmim_cost', args.device)

    models = build_models(device, args.width_divisor, args.max_depth)
    images = torch.randn(args.batch_size, 3, IMG_SIZE, IMG_SIZE,
                         device=device)
    rows, steps = [], []
    for method, ratio, model_name in row_plans():
        model = models[model_name]
        if method == 'mae':
            samples = [DataSample() for _ in range(args.batch_size)]
        else:
            samples = masked_samples(
                args.batch_size, ratio,
                'random' if method == 'partial' else 'furthest')
        samples = [s.to(device) for s in samples]

        def forward(model=model, samples=samples):
            return model.loss(images, samples)['loss']

        def step(model=model, forward=forward):
            model.zero_grad(set_to_none=True)
            forward().backward()

        flops = count_flops(step)
        act_bytes = saved_activation_bytes(model, forward)
        if device.type == 'cuda':
            # peak above what is resident before the step (weights of all
            # three models), with no gradients left over from other models
            for other in models.values():
                other.zero_grad(set_to_none=True)
        peak_mb = peak_memory_above_resident_mb(step, device)
        steps.append(step)
        rows.append(
            dict(
                method=method,
                throw_ratio=ratio,
                gflops=flops / args.batch_size / 1e9,
                act_mem_mb=act_bytes / args.batch_size / 2**20,
                cuda_peak_mb=peak_mb))
    for row, ms in zip(rows,
                       interleaved_median_ms(steps, args.repeats, device)):
        row['step_ms'] = ms

    aggregator = models['prmim'].head.aggregator
    channels = aggregator.conv.in_channels
    grid = IMG_SIZE // models['prmim'].head.patch_size
    tokens = torch.zeros(1, grid * grid, channels, device=device,
                         requires_grad=True)
    aggregator_gflops = count_flops(
        lambda: aggregator(tokens, (grid, grid)).sum().backward()) / 1e9
    sampling_ms, python_loop_ms = sampling_cost_ms()

    mae = rows[0]
    widths = model_size_note(args)
    print(f'ViT-B/16{widths}, {IMG_SIZE} px, batch {args.batch_size}, '
          f'device {device}, torch {torch.__version__}, '
          f'{torch.get_num_threads()} threads')
    header = (f'{"method":<9}{"throw":>6}{"GFLOPs/img":>12}{"x MAE":>7}'
              f'{"act MB/img":>12}{"x MAE":>7}{"step ms":>10}{"x MAE":>7}')
    if device.type == 'cuda':
        header += f'{"peak MB":>10}{"x MAE":>7}'
    print(header)
    for row in rows:
        line = (f'{row["method"]:<9}{row["throw_ratio"]:>6.2f}'
                f'{row["gflops"]:>12.2f}{row["gflops"] / mae["gflops"]:>7.3f}'
                f'{row["act_mem_mb"]:>12.1f}'
                f'{row["act_mem_mb"] / mae["act_mem_mb"]:>7.3f}'
                f'{row["step_ms"]:>10.1f}'
                f'{row["step_ms"] / mae["step_ms"]:>7.3f}')
        if device.type == 'cuda':
            line += (f'{row["cuda_peak_mb"]:>10.0f}'
                     f'{row["cuda_peak_mb"] / mae["cuda_peak_mb"]:>7.3f}')
        print(line)
    prmim_half = next(r for r in rows
                      if r['method'] == 'prmim' and r['throw_ratio'] == 0.5)
    kernel = aggregator.kernel_size
    print(f'aggregator ({kernel}x{kernel} depth-wise, {channels} ch, '
          f'{grid}x{grid}) forward + backward: '
          f'{aggregator_gflops * 1e3:.1f} MFLOPs per image = '
          f'{100 * aggregator_gflops / prmim_half["gflops"]:.3f}% of the '
          f'PR-MIM step at throw ratio 0.5')
    print(f'furthest sampling per image (data worker): {sampling_ms:.3f} ms '
          f'vectorized vs {python_loop_ms:.2f} ms plain-Python loop '
          f'({python_loop_ms / sampling_ms:.0f}x)')
    write_out_json(
        args,
        dict(device=str(device), batch_size=args.batch_size,
             width_divisor=args.width_divisor, max_depth=args.max_depth,
             torch=torch.__version__, rows=rows,
             aggregator_gflops=aggregator_gflops,
             furthest_sampling_ms_per_image=sampling_ms,
             python_loop_ms_per_image=python_loop_ms))


if __name__ == '__main__':
    main()
