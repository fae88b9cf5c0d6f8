"""Draw what ROPIM and PR-MIM do to an image (PNG panels, CPU).

ROPIM config: original | Pi (the sketch projection of the per-patch pixel
vectors) | I - Pi (what the loss sees); with --checkpoint also Pi x | Pi x +
(I - Pi) x_hat (the model's prediction of the removed part) | original.
PR-MIM config: original | token states with furthest sampling | with random
throwing (blue: retained, decoded; red: thrown, rebuilt by the
aggregator), plus masked input | reconstruction | original with --checkpoint.

    python tools/analysis/visualize.py CONFIG IMAGE [--checkpoint CKPT]
        [--out-dir work_dirs/vis] [--seed 0] [--scale 4]
"""
import argparse
import os
import os.path as osp
import sys

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from PIL import Image

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmpretrain.registry import MODELS, TRANSFORMS

import mmropim  # noqa: F401
from mmropim.models.utils import CountSketch
from mmropim.utils.argument_types import (add_trust_checkpoint_argument,
                                          existing_file, non_negative_int,
                                          output_dir, positive_int)
from mmropim.utils.checkpoint_compat import install_safe_checkpoint_loader
from mmropim.utils.run_config import load_config
from mmropim.visualization import (SKETCH_PANEL_TITLES, hstack, prmim_panels,
                                   ropim_panel_titles, ropim_panels,
                                   sketch_panels, token_state_panel)


def load_image(path: str, size: int) -> np.ndarray:
    """RGB image, shorter side resized to ``size``, centre-cropped square."""
    image = Image.open(path).convert('RGB')
    scale = size / min(image.size)
    image = image.resize((max(size, round(image.width * scale)),
                          max(size, round(image.height * scale))),
                         Image.BICUBIC)
    left, top = (image.width - size) // 2, (image.height - size) // 2
    return np.asarray(image.crop((left, top, left + size, top + size)))


def build_model(cfg: Config, checkpoint: str):
    model = MODELS.build(cfg.model)
    load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    return model.eval()


def normalized_input(model, image: np.ndarray) -> torch.Tensor:
    """(1, 3, H, W) image normalized by the model's data preprocessor."""
    pixels = torch.from_numpy(image).permute(2, 0, 1)[None].float()
    preprocessor = model.data_preprocessor
    return (pixels - preprocessor.mean) / preprocessor.std


def ropim_figures(cfg, image, args):
    backbone = cfg.model.backbone
    preprocessor = cfg.model.data_preprocessor
    patch, rho = backbone.patch_size, preprocessor.rho
    layout = preprocessor.get('hash_layout', 'blocks')
    figures = {
        'ropim_projection': (sketch_panels(image, patch, rho, args.seed,
                                           layout), SKETCH_PANEL_TITLES)
    }
    if args.checkpoint:
        model = build_model(cfg, args.checkpoint)
        inputs = normalized_input(model, image)
        num_tokens = (image.shape[0] // patch) * (image.shape[1] // patch)
        sketch = CountSketch.draw(
            1,
            num_tokens,
            rho,
            generator=torch.Generator().manual_seed(args.seed),
            hash_layout=layout)
        figures['ropim_reconstruction'] = (ropim_panels(
            model, inputs, sketch)[0], ropim_panel_titles(model))
    return figures


def prmim_figures(cfg, image, args):
    sampling = next(t for t in cfg.train_dataloader.dataset.pipeline
                    if t['type'] == 'FurthestSampling')
    patch = sampling['patch_size']
    masks = {}
    for mode in ('furthest', 'random'):
        np.random.seed(args.seed)
        transform = TRANSFORMS.build(dict(sampling, mode=mode))
        out = transform(dict(img=image))
        masks[mode] = (out['mask'], out['throw_mask'])
    figures = {
        'prmim_token_states': ([image] + [
            token_state_panel(image, *masks[mode], patch)
            for mode in ('furthest', 'random')
        ], ('x', 'furthest sampling', 'random throw'))
    }
    if args.checkpoint:
        model = build_model(cfg, args.checkpoint)
        mask, throw = (torch.from_numpy(m)[None] for m in masks['furthest'])
        visible, _, rebuilt, _ = prmim_panels(
            model, normalized_input(model, image), mask, throw)[0]
        figures['prmim_reconstruction'] = ([visible, rebuilt, image],
                                           ('visible', 'reconstruction', 'x'))
    return figures


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'config', type=existing_file, help='ROPIM or PR-MIM config')
    parser.add_argument('image', type=existing_file, help='image to draw')
    parser.add_argument(
        '--checkpoint', type=existing_file, help='pre-training checkpoint')
    add_trust_checkpoint_argument(parser)
    parser.add_argument(
        '--out-dir',
        type=output_dir,
        default='work_dirs/vis',
        help='folder for the PNG panels (default: work_dirs/vis)')
    parser.add_argument(
        '--seed',
        type=non_negative_int,
        default=0,
        help='seed of the sketch / mask drawn (default: 0)')
    parser.add_argument(
        '--scale',
        type=positive_int,
        default=4,
        help='enlarge the panels this many times, nearest neighbour '
        '(default: 4)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    install_safe_checkpoint_loader(trusted_files=args.trust_checkpoint)
    cfg = load_config(args.config)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    size = cfg.model.backbone.img_size
    size = size[0] if isinstance(size, (tuple, list)) else size
    image = load_image(args.image, size)
    if cfg.model.type == 'ROPIM':
        figures = ropim_figures(cfg, image, args)
    elif cfg.model.type == 'PRMIM':
        figures = prmim_figures(cfg, image, args)
    else:
        raise ValueError(f'visualize.py draws ROPIM and PRMIM models, not '
                         f'{cfg.model.type}')
    os.makedirs(args.out_dir, exist_ok=True)
    stem = osp.splitext(osp.basename(args.image))[0]
    for name, (panels, titles) in figures.items():
        path = osp.join(args.out_dir, f'{name}_{stem}.png')
        Image.fromarray(hstack(panels, titles=titles,
                               scale=args.scale)).save(path)
        print(f'wrote {path}')


if __name__ == '__main__':
    main()
