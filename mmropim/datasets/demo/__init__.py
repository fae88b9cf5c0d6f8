"""Writers of the demo data sets (real images that PyPI packages ship, in
the standard on-disk formats; ``tools/dataset_converters/make_demo_data.py``
writes them all) and synthetic images for short checks."""
from .digits import load_mnist_5k, write_digits_imagenet_style
from .images import source_images, write_imagenet_style
from .instances import write_coco_style
from .segmentation import write_ade20k_style
from .synthetic import smooth_images

__all__ = [
    'source_images', 'write_imagenet_style', 'write_ade20k_style',
    'write_coco_style', 'load_mnist_5k', 'write_digits_imagenet_style',
    'smooth_images'
]
