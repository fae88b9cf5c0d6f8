"""Per-channel mean and std of every image below a folder, for the data
preprocessor of a pre-training on your own images.

Images are read as ``tools/train.py --data-root`` reads them
(:class:`mmropim.datasets.LoadImageWithPillow` with ``--channels``, the
backbone's ``in_channels``: 3 is 8-bit color, grayscale replicated, alpha
dropped; 1 is grayscale; 4 is RGBA; 16-bit scaled by ``--high-bit-range``).
The figures are on the 0..255 scale, in RGB order for 3 channels (as
MMPretrain's preprocessors take them with ``to_rgb=True``), in the loader's
order otherwise (``to_rgb=False``)::

    python tools/analysis/image_mean_std.py DIR [--channels 1|3|4]
    # -> --cfg-options model.data_preprocessor.mean=[...] \\
    #        model.data_preprocessor.std=[...]
"""
import argparse
import os
import os.path as osp
import sys
from typing import List, Tuple, Union

import numpy as np

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmropim.datasets import LoadImageWithPillow, pillow_extensions
from tools.argument_types import existing_dir, high_bit_range, positive_int


def image_files(root: str) -> List[str]:
    """Every file below ``root`` with an extension Pillow opens, sorted."""
    extensions = set(pillow_extensions())
    return sorted(
        osp.join(folder, name) for folder, _, names in os.walk(root)
        for name in names if osp.splitext(name)[1].lower() in extensions)


def mean_std(paths: List[str],
             channels: int = 3,
             high_bit_range: Union[str, int] = 'full'
             ) -> Tuple[np.ndarray, np.ndarray, int]:
    """Per-channel mean and std over all pixels of ``paths``.

    Args:
        paths (list[str]): Image files.
        channels (int): 1, 3 or 4, as ``LoadImageWithPillow`` reads them.
        high_bit_range (str | int): ``LoadImageWithPillow``'s.

    Returns:
        tuple: (channels,) mean, (channels,) std (0..255; RGB for 3
        channels, gray / RGBA otherwise) and the pixel count.
    """
    total = np.zeros(channels)
    squares = np.zeros(channels)
    count = 0
    load = LoadImageWithPillow(channels, high_bit_range)
    for path in paths:
        img = load(dict(img_path=path))['img']
        if channels == 3:
            img = img[..., ::-1]  # the preprocessor's to_rgb=True
        pixels = img.reshape(-1, channels).astype(np.float64)
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
    parser.add_argument(
        '--channels',
        type=int,
        choices=(1, 3, 4),
        default=3,
        help='the backbone\'s in_channels: 1 gray, 3 color (default), '
        '4 color + alpha')
    parser.add_argument(
        '--high-bit-range',
        type=high_bit_range,
        default='full',
        help='how 16-bit images map to 8 bits, as tools/train.py\'s flag')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    paths = image_files(args.root)
    if not paths:
        raise SystemExit(f'no image Pillow opens below {args.root}')
    if args.max_images and len(paths) > args.max_images:
        step = len(paths) / args.max_images
        paths = [paths[int(i * step)] for i in range(args.max_images)]
    mean, std, count = mean_std(paths, args.channels, args.high_bit_range)
    if not std.all():
        raise SystemExit(f'std {std.tolist()} has a zero: a channel is '
                         'constant over all images, the preprocessor would '
                         'divide by zero')
    print(f'{len(paths)} images, {count} pixels')
    order = {1: 'gray', 3: 'RGB', 4: 'RGBA'}[args.channels]
    print(f'mean ({order}): {[round(float(v), 3) for v in mean]}')
    print(f'std  ({order}): {[round(float(v), 3) for v in std]}')
    if args.channels == 4:
        # MMEngine's preprocessors take one value for all channels, or 3
        overall = mean.mean()  # every channel has the same pixel count
        pooled = np.sqrt(max(np.mean(std**2 + mean**2) - overall**2, 0.0))
        mean, std = np.array([overall]), np.array([pooled])
        print(f'over all channels: mean {mean[0]:.3f}, std {std[0]:.3f} '
              "(MMEngine's preprocessors take 1 or 3 values)")
    options = ('--cfg-options model.data_preprocessor.mean='
               f'[{",".join(f"{v:.3f}" for v in mean)}] '
               'model.data_preprocessor.std='
               f'[{",".join(f"{v:.3f}" for v in std)}]')
    if args.channels != 3:
        options += ' model.data_preprocessor.to_rgb=False'
    print(options)
    return mean, std


if __name__ == '__main__':
    main()
