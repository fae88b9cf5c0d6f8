"""Per-channel mean and std of every image below a folder, for the data
preprocessor of a pre-training on your own images.

Images are read as ``tools/train.py --data-root`` reads them
(:class:`mmropim.datasets.LoadImageWithPillow`: 8-bit color, grayscale
replicated, alpha dropped, 16-bit scaled), and the figures are on the
0..255 scale in RGB order, as MMPretrain's preprocessors take them with
``to_rgb=True``::

    python tools/analysis/image_mean_std.py DIR
    # -> --cfg-options model.data_preprocessor.mean=[...] \\
    #        model.data_preprocessor.std=[...]
"""
import argparse
import os
import os.path as osp
import sys
from typing import List, Tuple

import numpy as np

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmropim.datasets import LoadImageWithPillow, pillow_extensions
from tools.argument_types import existing_dir, positive_int


def image_files(root: str) -> List[str]:
    """Every file below ``root`` with an extension Pillow opens, sorted."""
    extensions = set(pillow_extensions())
    return sorted(
        osp.join(folder, name) for folder, _, names in os.walk(root)
        for name in names if osp.splitext(name)[1].lower() in extensions)


def mean_std(paths: List[str]) -> Tuple[np.ndarray, np.ndarray, int]:
    """Per-channel mean and std over all pixels of ``paths``.

    Returns:
        tuple: (3,) mean, (3,) std (RGB, 0..255) and the pixel count.
    """
    total = np.zeros(3)
    squares = np.zeros(3)
    count = 0
    load = LoadImageWithPillow()
    for path in paths:
        bgr = load(dict(img_path=path))['img']
        pixels = bgr[..., ::-1].reshape(-1, 3).astype(np.float64)
        total += pixels.sum(axis=0)
        squares += (pixels**2).sum(axis=0)
        count += len(pixels)
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean**2, 0.0))
    return mean, std, count


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('root', type=existing_dir, help='image folder')
    parser.add_argument(
        '--max-images',
        type=positive_int,
        help='use an evenly spaced subset of this many images')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    paths = image_files(args.root)
    if not paths:
        raise SystemExit(f'no image Pillow opens below {args.root}')
    if args.max_images and len(paths) > args.max_images:
        step = len(paths) / args.max_images
        paths = [paths[int(i * step)] for i in range(args.max_images)]
    mean, std, count = mean_std(paths)
    if not std.all():
        raise SystemExit(f'std {std.tolist()} has a zero: a channel is '
                         'constant over all images, the preprocessor would '
                         'divide by zero')
    print(f'{len(paths)} images, {count} pixels')
    print(f'mean (RGB): {[round(float(v), 3) for v in mean]}')
    print(f'std  (RGB): {[round(float(v), 3) for v in std]}')
    print('--cfg-options model.data_preprocessor.mean='
          f'[{",".join(f"{v:.3f}" for v in mean)}] '
          'model.data_preprocessor.std='
          f'[{",".join(f"{v:.3f}" for v in std)}]')
    return mean, std


if __name__ == '__main__':
    main()
