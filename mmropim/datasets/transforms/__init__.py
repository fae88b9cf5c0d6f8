from .color_jitter import HueSafeColorJitter, shift_hue
from .furthest_sampling import FurthestSampling
from .load_image_with_pillow import (LoadImageWithPillow, pillow_extensions,
                                     to_8bit_array, to_8bit_rgb)

__all__ = [
    'FurthestSampling', 'HueSafeColorJitter', 'LoadImageWithPillow',
    'pillow_extensions', 'shift_hue', 'to_8bit_array', 'to_8bit_rgb'
]
