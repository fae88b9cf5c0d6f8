"""Small real image sets built from photos that PyPI packages ship.

Nothing is downloaded: scikit-image and scikit-learn carry these files in
their wheels. Each source photo is one class; samples are random square crops
of it, written as an ImageNet-style folder tree that MMPretrain's
``CustomDataset`` reads::

    <out>/train/<class>/<class>_0000.png
    <out>/val/<class>/<class>_0000.png
    <out>/meta/train.txt, <out>/meta/val.txt   ("<class>/<file> <label>")
"""
import os
import os.path as osp
from typing import Callable, Dict, List

import numpy as np
from PIL import Image

# Photos and textures inside the scikit-image wheel (no pooch download).
SKIMAGE_SOURCES = ('astronaut', 'brick', 'camera', 'chelsea', 'coffee',
                   'coins', 'grass', 'gravel', 'hubble_deep_field',
                   'immunohistochemistry', 'motorcycle', 'rocket')
# Photos inside the scikit-learn wheel.
SKLEARN_SOURCES = ('china.jpg', 'flower.jpg')


def _skimage_loader(name: str) -> Callable[[], np.ndarray]:

    def load():
        from skimage import data
        if name == 'motorcycle':
            return data.stereo_motorcycle()[0]
        return getattr(data, name)()

    return load


def _sklearn_loader(filename: str) -> Callable[[], np.ndarray]:

    def load():
        from sklearn.datasets import load_sample_image
        return load_sample_image(filename)

    return load


def source_images() -> Dict[str, Callable[[], np.ndarray]]:
    """Class name -> loader of the real photo behind that class."""
    sources = {name: _skimage_loader(name) for name in SKIMAGE_SOURCES}
    sources.update({
        osp.splitext(name)[0]: _sklearn_loader(name)
        for name in SKLEARN_SOURCES
    })
    return sources


def _to_rgb_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype != np.uint8:
        image = image.astype(np.float64)
        image = (255 * (image - image.min()) /
                 max(image.max() - image.min(), 1e-12)).astype(np.uint8)
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return image[..., :3]


def random_crops(image: np.ndarray, num_crops: int, size: int,
                 rng: np.random.Generator, min_scale: float = 0.25,
                 max_scale: float = 0.6) -> List[Image.Image]:
    """Random square crops of a photo, resized to ``size`` x ``size``.

    Args:
        image (np.ndarray): RGB image (H, W, 3), uint8.
        num_crops (int): Number of crops.
        size (int): Output side length in pixels.
        rng (np.random.Generator): Source of randomness.
        min_scale, max_scale (float): Crop side as a fraction of the
            shorter image side.

    Returns:
        list[PIL.Image.Image]: The crops.
    """
    height, width = image.shape[:2]
    crops = []
    for _ in range(num_crops):
        side = int(rng.uniform(min_scale, max_scale) * min(height, width))
        top = int(rng.integers(0, height - side + 1))
        left = int(rng.integers(0, width - side + 1))
        patch = Image.fromarray(image[top:top + side, left:left + side])
        crops.append(patch.resize((size, size), Image.BICUBIC))
    return crops


def write_imagenet_style(out_dir: str,
                         size: int = 64,
                         train_per_class: int = 32,
                         val_per_class: int = 8,
                         seed: int = 0) -> Dict[str, int]:
    """Write the demo classification set as an ImageNet-style folder tree.

    Args:
        out_dir (str): Root folder to write.
        size (int): Image side length in pixels. Defaults to 64.
        train_per_class (int): Training crops per class. Defaults to 32.
        val_per_class (int): Validation crops per class. Defaults to 8.
        seed (int): Random seed; the same seed writes the same files.

    Returns:
        dict[str, int]: Number of images written per split.
    """
    if size < 8:
        raise ValueError(f'size must be at least 8 pixels, got {size}')
    rng = np.random.default_rng(seed)
    writer = ClassFolderWriter(out_dir)
    for label, (name, load) in enumerate(sorted(source_images().items())):
        image = _to_rgb_uint8(load())
        for split, num in (('train', train_per_class),
                           ('val', val_per_class)):
            for i, crop in enumerate(random_crops(image, num, size, rng)):
                writer.add(split, name, label, f'{name}_{i:04d}.png', crop)
    return writer.finish()


class ClassFolderWriter:
    """Writes an ImageNet-style tree: ``<split>/<class>/<file>`` images and
    MMPretrain's annotation lists ``meta/<split>.txt`` (one
    ``<class>/<file> <label>`` line per image).

    Args:
        out_dir (str): The data set root.
    """

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir
        self.lines: Dict[str, List[str]] = {'train': [], 'val': []}

    def add(self, split: str, class_name: str, label: int, filename: str,
            image: Image.Image) -> None:
        """Save ``image`` as ``<split>/<class_name>/<filename>``."""
        folder = osp.join(self.out_dir, split, class_name)
        os.makedirs(folder, exist_ok=True)
        image.save(osp.join(folder, filename))
        self.lines[split].append(f'{class_name}/{filename} {label}')

    def finish(self) -> Dict[str, int]:
        """Write the annotation lists; returns the images per split."""
        os.makedirs(osp.join(self.out_dir, 'meta'), exist_ok=True)
        for split, lines in self.lines.items():
            with open(osp.join(self.out_dir, 'meta', f'{split}.txt'),
                      'w') as f:
                f.write('\n'.join(lines) + '\n')
        return {split: len(lines) for split, lines in self.lines.items()}
