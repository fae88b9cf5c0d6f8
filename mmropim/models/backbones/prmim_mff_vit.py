from mmpretrain.models import MFFViT
from mmpretrain.registry import MODELS

from .pipeline_mask_mixin import PipelineMaskMixin


@MODELS.register_module()
class PRMIMMFFViT(PipelineMaskMixin, MFFViT):
    """MMPretrain's ``MFFViT`` (multi-level feature fusion) taking its mask
    from the data pipeline, for MFF + PR-MIM.

    ``forward(x, token_split)`` returns ``(latent, mask, ids_restore,
    fusion_weights)`` as ``MFFViT`` does.

    Args:
        **kwargs: Arguments of ``MFFViT`` (arch, out_indices, ...).
    """
