from .transforms import FurthestSampling
from .worker_seeding import worker_init_per_epoch

__all__ = ['FurthestSampling', 'worker_init_per_epoch']
