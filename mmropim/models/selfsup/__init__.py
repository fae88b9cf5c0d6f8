from .lgp_mocov3 import LGPMoCoV3
from .part_checked import PartCheckedSelfSupervisor
from .pipeline_checks import check_pipeline_mask_config
from .prmim import PRMIM, PipelineMaskSelfSupervisor, collect_masks
from .prmim_simmim import PRMIMSimMIM
from .ropim import ROPIM

__all__ = [
    'LGPMoCoV3', 'PRMIM', 'PRMIMSimMIM', 'PartCheckedSelfSupervisor',
    'PipelineMaskSelfSupervisor', 'ROPIM', 'check_pipeline_mask_config',
    'collect_masks'
]
