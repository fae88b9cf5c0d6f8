from .prmim import PRMIM, collect_masks
from .prmim_simmim import PRMIMSimMIM
from .ropim import ROPIM, collect_sketch

__all__ = ['PRMIM', 'PRMIMSimMIM', 'ROPIM', 'collect_masks', 'collect_sketch']
