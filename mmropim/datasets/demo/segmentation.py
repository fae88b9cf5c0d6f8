"""A small real segmentation set in ADE20K's on-disk layout.

Source: the fluorescence image of cell nuclei with its human-annotated
instance mask that the stardist wheel ships (``stardist/data/images/img2d.tif``
and ``mask2d.tif``, 512 x 512, 125 nuclei). Nothing is downloaded, and
stardist is not imported (it would need TensorFlow-side packages): only its
data files are read. Classes: 0 background, 1 nucleus. Training crops come
from the top three quarters of the image, validation tiles from the bottom
quarter, so the splits do not overlap::

    <out>/images/training/nuclei_0000.png       (RGB)
    <out>/annotations/training/nuclei_0000.png  (uint8 class index)
    <out>/images/validation/..., <out>/annotations/validation/...
"""
import importlib.util
import os
import os.path as osp
from typing import Dict, List, Tuple

import numpy as np
from PIL import Image

CLASSES = ('background', 'nucleus')
PALETTE = [[0, 0, 0], [255, 64, 64]]


def stardist_nuclei() -> Tuple[np.ndarray, np.ndarray]:
    """The stardist nuclei image (uint8 RGB) and its instance labels."""
    spec = importlib.util.find_spec('stardist')
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(
            'the demo segmentation data reads the images shipped in the '
            'stardist wheel: pip install --no-deps stardist==0.9.2')
    import tifffile
    folder = osp.join(osp.dirname(spec.origin), 'data', 'images')
    image = tifffile.imread(osp.join(folder, 'img2d.tif')).astype(np.float64)
    labels = tifffile.imread(osp.join(folder, 'mask2d.tif')).astype(np.int64)
    image = (255 * image / image.max()).astype(np.uint8)
    return np.stack([image] * 3, axis=-1), labels


def crop_corners(image_hw: Tuple[int, int], crop_size: int, num_train: int,
                 seed: int) -> Dict[str, list]:
    """Top-left corners of the training crops (random, top three quarters)
    and validation tiles (bottom quarter) of the nuclei image.

    Args:
        image_hw (tuple[int, int]): Image size.
        crop_size (int): Crop side.
        num_train (int): Number of training crops.
        seed (int): Random seed.

    Returns:
        dict[str, list]: ``training`` and ``validation`` corner lists.
    """
    height, width = image_hw
    split_row = height * 3 // 4
    if crop_size > height - split_row:
        raise ValueError(f'crop_size must be at most {height - split_row} '
                         f'(the validation strip), got {crop_size}')
    rng = np.random.default_rng(seed)
    training = [(int(rng.integers(0, split_row - crop_size + 1)),
                 int(rng.integers(0, width - crop_size + 1)))
                for _ in range(num_train)]
    validation = [(split_row, left)
                  for left in range(0, width - crop_size + 1, crop_size)]
    return dict(training=training, validation=validation)


def nuclei_crops(crop_size: int = 128,
                 num_train: int = 24,
                 seed: int = 0) -> Dict[str, List[Tuple[np.ndarray,
                                                        np.ndarray]]]:
    """Crops of the nuclei image and of its instance labels per split.

    Args:
        crop_size (int): Side of the square crops. Defaults to 128.
        num_train (int): Random training crops. Defaults to 24.
        seed (int): Random seed.

    Returns:
        dict[str, list]: ``training`` and ``validation`` lists of (uint8
        RGB crop, int64 instance-label crop) pairs.
    """
    image, labels = stardist_nuclei()
    crops = {}
    for split, corners in crop_corners(image.shape[:2], crop_size, num_train,
                                       seed).items():
        windows = [(slice(top, top + crop_size),
                    slice(left, left + crop_size)) for top, left in corners]
        crops[split] = [(image[w], labels[w]) for w in windows]
    return crops


def write_ade20k_style(out_dir: str, **crop_args) -> Dict[str, int]:
    """Write image / index-mask PNG pairs in ADE20K's folder layout.

    Args:
        out_dir (str): Root folder.
        **crop_args: Arguments of :func:`nuclei_crops`.

    Returns:
        dict[str, int]: Number of pairs per split.
    """
    crops = nuclei_crops(**crop_args)
    for split, pairs in crops.items():
        os.makedirs(osp.join(out_dir, 'images', split), exist_ok=True)
        os.makedirs(osp.join(out_dir, 'annotations', split), exist_ok=True)
        for i, (image, labels) in enumerate(pairs):
            name = f'nuclei_{i:04d}.png'
            Image.fromarray(image).save(
                osp.join(out_dir, 'images', split, name))
            Image.fromarray((labels > 0).astype(np.uint8)).save(
                osp.join(out_dir, 'annotations', split, name))
    return {split: len(pairs) for split, pairs in crops.items()}
