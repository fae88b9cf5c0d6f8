from .furthest_sampling import FurthestSampling

__all__ = ['FurthestSampling']
