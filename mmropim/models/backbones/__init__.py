from .pipeline_mask_mixin import PipelineMaskMixin
from .prmim_mff_vit import PRMIMMFFViT
from .prmim_simmim_vit import PRMIMSimMIMViT
from .prmim_vit import PRMIMViT
from .projected_tokens_mixin import ProjectedTokensMixin
from .ropim_beit_vit import ROPIMBEiTViT
from .ropim_vit import ROPIMViT
from .transfer_vit import TransferBEiTViT, TransferViT
from .vit_tokens import (check_image_size, embed_tokens, tokens_to_featmap,
                         trunc_normal_vit_init)

__all__ = [
    'PipelineMaskMixin', 'PRMIMMFFViT', 'PRMIMSimMIMViT', 'PRMIMViT',
    'ProjectedTokensMixin', 'check_image_size', 'ROPIMViT', 'ROPIMBEiTViT',
    'TransferViT', 'TransferBEiTViT',
    'embed_tokens', 'tokens_to_featmap', 'trunc_normal_vit_init'
]
