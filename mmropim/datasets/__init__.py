from .demo_images import source_images, write_imagenet_style

__all__ = ['source_images', 'write_imagenet_style']
