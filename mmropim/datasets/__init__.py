from .demo_digits import load_mnist_5k, write_digits_imagenet_style
from .demo_images import source_images, write_imagenet_style
from .demo_instances import write_coco_style
from .demo_segmentation import write_ade20k_style
from .transforms import FurthestSampling
from .worker_seeding import worker_init_per_epoch

__all__ = [
    'source_images', 'write_imagenet_style', 'write_ade20k_style',
    'write_coco_style', 'load_mnist_5k', 'write_digits_imagenet_style',
    'FurthestSampling', 'worker_init_per_epoch'
]
