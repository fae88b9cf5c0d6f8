from .transforms import (FurthestSampling, LoadImageWithPillow,
                         pillow_extensions, to_8bit_array, to_8bit_rgb)
from .worker_seeding import worker_init_per_epoch

__all__ = [
    'FurthestSampling', 'LoadImageWithPillow', 'pillow_extensions',
    'to_8bit_array', 'to_8bit_rgb', 'worker_init_per_epoch'
]
