from .ropim import ROPIM, collect_sketch

__all__ = ['ROPIM', 'collect_sketch']
