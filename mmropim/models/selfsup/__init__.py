from .prmim import PRMIM, collect_masks
from .ropim import ROPIM, collect_sketch

__all__ = ['PRMIM', 'ROPIM', 'collect_masks', 'collect_sketch']
