"""Cost of ROPIM's count sketch against the ViT-B/16 step it belongs to.

Measured side by side in one run, on one device:

1. the sketch work of one ROPIM step: draw B sketches, project the patch
   embeddings (B, 196, 768), take the complement of the prediction and of the
   target patches (B, 196, 768 each);
2. the same work through dense (B, K, K) projector matrices;
3. one ROPIM ViT-B/16 training step (forward + backward, sketch included).

Flags (``--help``): the benchmarks' ``--batch-size`` (8), ``--repeats`` (5;
the sketch is timed over 10x as many calls), ``--device``,
``--width-divisor`` and ``--max-depth`` (as shipped; e.g. 16 and 2 for a
quick check: the sketch then works on the narrow embeddings) and
``--out FILE.json``.
"""
import os.path as osp
import sys

import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmpretrain.registry import MODELS

import mmropim  # noqa: F401
from mmropim.evaluation import median_ms
from mmropim.models import CountSketch
from tools.benchmarks.common import (benchmark_parser, load_config,
                                     model_config, model_size_note,
                                     start_benchmark, write_out_json)

CONFIG = 'ropim/ropim_beit-base-p16_8xb256-amp-coslr-300e_in1k.py'


parse_args = benchmark_parser(__doc__, batch_size=8, repeats=5).parse_args


def main(argv=None):
    args = parse_args(argv)
    device = start_benchmark('sketch_overhead', args.device)
    cfg = load_config(CONFIG)
    model = MODELS.build(
        model_config(cfg.model, args.width_divisor, args.max_depth))
    model.to(device)
    model.init_weights()
    model.train()
    rho = cfg.model.data_preprocessor.rho
    patch_size = cfg.model.data_preprocessor.patch_size
    img_size = cfg.model.backbone.img_size
    batch = args.batch_size
    tokens = (img_size // patch_size)**2
    dims = model.backbone.embed_dims
    embeddings = torch.randn(batch, tokens, dims, device=device)
    pred_patches = torch.randn(
        batch, tokens, patch_size**2 * 3, device=device)
    target_patches = torch.randn_like(pred_patches)

    def sketch_fast():
        sketch = CountSketch.draw(batch, tokens, rho, device=device)
        sketch.project(embeddings)
        sketch.complement(pred_patches)
        sketch.complement(target_patches)

    def sketch_dense():
        sketch = CountSketch.draw(batch, tokens, rho, device=device)
        pi = sketch.matrix()
        pi_bar = torch.eye(tokens, device=device) - pi
        pi @ embeddings
        pi_bar @ pred_patches
        pi_bar @ target_patches

    images = torch.randint(
        0,
        256, (batch, 3, img_size, img_size),
        dtype=torch.uint8,
        device=device)
    data = model.data_preprocessor(
        dict(inputs=images, data_samples=None), training=True)

    def train_step():
        model.zero_grad(set_to_none=True)
        model(**data, mode='loss')['loss'].backward()

    # the sketch costs milliseconds: many repeats, apart from the step
    fast_ms = median_ms(sketch_fast, args.repeats * 10, device)
    dense_ms = median_ms(sketch_dense, args.repeats * 10, device)
    step_ms = median_ms(train_step, args.repeats, device)
    result = dict(
        device=str(device),
        device_name=torch.cuda.get_device_name(device)
        if device.type == 'cuda' else 'cpu',
        torch=torch.__version__,
        threads=torch.get_num_threads(),
        batch_size=batch,
        width_divisor=args.width_divisor,
        max_depth=args.max_depth,
        sketch_fast_ms=fast_ms,
        sketch_dense_ms=dense_ms,
        vit_b_step_ms=step_ms,
        sketch_share_of_step=fast_ms / step_ms,
        dense_over_fast=dense_ms / fast_ms)

    widths = model_size_note(args)
    print(f'ROPIM ViT-B/16{widths}, {img_size} px, batch {batch}, '
          f'{result["device_name"]}, torch {torch.__version__}, '
          f'{result["threads"]} threads')
    print(f'{"what":<48}{"median ms":>12}')
    print(f'{"sketch: draw + project + 2 complements (fast)":<48}'
          f'{fast_ms:>12.3f}')
    print(f'{"same with dense (B, K, K) matrices":<48}{dense_ms:>12.3f}')
    print(f'{"ViT-B ROPIM step (forward + backward)":<48}{step_ms:>12.1f}')
    print(f'sketch share of the step: {100 * fast_ms / step_ms:.3f}% '
          f'(target < 1%)')
    print(f'dense / fast: {dense_ms / fast_ms:.2f}x')
    write_out_json(args, result)


if __name__ == '__main__':
    main()
