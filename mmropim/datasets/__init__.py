from .demo_images import source_images, write_imagenet_style
from .transforms import FurthestSampling

__all__ = ['source_images', 'write_imagenet_style', 'FurthestSampling']
