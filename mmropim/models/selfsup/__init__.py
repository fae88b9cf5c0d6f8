from .prmim import PRMIM, PipelineMaskSelfSupervisor, collect_masks
from .prmim_simmim import PRMIMSimMIM
from .ropim import ROPIM, collect_sketch

__all__ = [
    'PRMIM', 'PRMIMSimMIM', 'PipelineMaskSelfSupervisor', 'ROPIM',
    'collect_masks', 'collect_sketch'
]
