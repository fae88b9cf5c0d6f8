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

Files that cannot be decoded are left out of the figures and all named
(on stderr); the tool then exits with status 1, so that a script does not
take figures of a partly broken folder for good ones, unless
``--skip-unreadable`` accepts them (exit status 0, the list still shown).
"""
import argparse
import os.path as osp
import sys
from typing import List, Tuple

import numpy as np

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmropim.datasets import image_files, mean_std
from mmropim.utils.argument_types import (existing_dir, high_bit_range,
                                          positive_int)


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
    parser.add_argument(
        '--skip-unreadable',
        action='store_true',
        help='exit with status 0 when some files cannot be decoded (they '
        'are still listed, and left out of the figures)')
    return parser.parse_args(argv)


def report_unreadable(unreadable: List[Tuple[str, str]], total: int) -> str:
    """The message naming every file that could not be decoded."""
    listed = '\n'.join(f'  {path}: {reason}' for path, reason in unreadable)
    return (f'{len(unreadable)} of the {total} images cannot be decoded and '
            f'are left out of the figures:\n{listed}')


def main(argv=None):
    args = parse_args(argv)
    paths = image_files(args.root)
    if not paths:
        raise SystemExit(f'no image Pillow opens below {args.root}')
    if args.max_images and len(paths) > args.max_images:
        step = len(paths) / args.max_images
        paths = [paths[int(i * step)] for i in range(args.max_images)]
    mean, std, count, unreadable = mean_std(paths, args.channels,
                                            args.high_bit_range)
    if len(unreadable) == len(paths):
        raise SystemExit(report_unreadable(unreadable, len(paths)) +
                         '\nno image could be read: no figures')
    if not std.all():
        raise SystemExit(f'std {std.tolist()} has a zero: a channel is '
                         'constant over all images, the preprocessor would '
                         'divide by zero')
    print(f'{len(paths) - len(unreadable)} images, {count} pixels')
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
    if unreadable:
        message = report_unreadable(unreadable, len(paths))
        if not args.skip_unreadable:
            # after the figures, so that they are seen; status 1
            raise SystemExit(message + '\nremove or replace them, or pass '
                             '--skip-unreadable to accept the figures')
        print(f'warning: {message}', file=sys.stderr)
    return mean, std


if __name__ == '__main__':
    main()
