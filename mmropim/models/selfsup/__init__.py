from .prmim import (PRMIM, PipelineMaskSelfSupervisor,
                    check_pipeline_mask_config, collect_masks)
from .prmim_simmim import PRMIMSimMIM
from .ropim import ROPIM, collect_sketch

__all__ = [
    'PRMIM', 'PRMIMSimMIM', 'PipelineMaskSelfSupervisor', 'ROPIM',
    'check_pipeline_mask_config', 'collect_masks', 'collect_sketch'
]
