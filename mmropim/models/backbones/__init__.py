from .lgp_beit_vit import LGPBEiTViT
from .pipeline_mask_mixin import PipelineMaskMixin
from .prmim_mff_vit import PRMIMMFFViT
from .prmim_simmim_vit import PRMIMSimMIMBEiTViT, PRMIMSimMIMViT
from .prmim_vit import PRMIMViT
from .ropim_beit_vit import ROPIMBEiTViT
from .ropim_vit import ROPIMViT
from .transfer_vit import TransferBEiTViT, TransferViT
from .vit_token_path import ViTTokenPathMixin
from .vit_tokens import (check_image_size, tokens_to_featmap,
                         trunc_normal_vit_init)

__all__ = [
    'LGPBEiTViT', 'ViTTokenPathMixin', 'PipelineMaskMixin',
    'PRMIMMFFViT', 'PRMIMSimMIMViT', 'PRMIMSimMIMBEiTViT', 'PRMIMViT',
    'ROPIMViT', 'ROPIMBEiTViT',
    'TransferViT', 'TransferBEiTViT', 'check_image_size', 'tokens_to_featmap',
    'trunc_normal_vit_init'
]
