"""Per-channel mean and std of image files, read as ``tools/train.py
--data-root`` reads them (:class:`LoadImageWithPillow`), for the data
preprocessor of a pre-training on one's own images
(``tools/analysis/image_mean_std.py`` prints them)."""
import os
import os.path as osp
from typing import List, Tuple, Union

import numpy as np

from .transforms import LoadImageWithPillow, pillow_extensions


def image_files(root: str) -> List[str]:
    """Every file below ``root`` with an extension Pillow opens, sorted."""
    extensions = set(pillow_extensions())
    return sorted(
        osp.join(folder, name) for folder, _, names in os.walk(root)
        for name in names if osp.splitext(name)[1].lower() in extensions)


def mean_std(
    paths: List[str],
    channels: int = 3,
    high_bit_range: Union[str, int] = 'full'
) -> Tuple[np.ndarray, np.ndarray, int, List[Tuple[str, str]]]:
    """Per-channel mean and std over all pixels of the readable images of
    ``paths``.

    Args:
        paths (list[str]): Image files.
        channels (int): 1, 3 or 4, as ``LoadImageWithPillow`` reads them.
        high_bit_range (str | int): ``LoadImageWithPillow``'s.

    Returns:
        tuple: (channels,) mean, (channels,) std (0..255; RGB for 3
        channels, gray / RGBA otherwise), the pixel count, and a
        ``(path, reason)`` pair for each file that could not be decoded
        (left out of the figures; mean and std are NaN when none could).
    """
    total = np.zeros(channels)
    squares = np.zeros(channels)
    count = 0
    unreadable = []
    load = LoadImageWithPillow(channels, high_bit_range)
    for path in paths:
        try:
            img = load(dict(img_path=path))['img']
        except (OSError, ValueError) as error:  # decode or read error
            unreadable.append((path, f'{type(error).__name__}: {error}'))
            continue
        if channels == 3:
            img = img[..., ::-1]  # the preprocessor's to_rgb=True
        pixels = img.reshape(-1, channels).astype(np.float64)
        total += pixels.sum(axis=0)
        squares += (pixels**2).sum(axis=0)
        count += len(pixels)
    if not count:
        return np.full(channels, np.nan), np.full(channels, np.nan), 0, \
            unreadable
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean**2, 0.0))
    return mean, std, count, unreadable
