from mmpretrain.models import MAEViT
from mmpretrain.registry import MODELS

from .pipeline_mask_mixin import PipelineMaskMixin


@MODELS.register_module()
class PRMIMViT(PipelineMaskMixin, MAEViT):
    """MMPretrain's ``MAEViT`` taking its mask from the data pipeline
    (``FurthestSampling``) instead of drawing it.

    ``forward(x, token_split)`` returns ``(latent, mask, ids_restore)`` as
    ``MAEViT`` does; ``forward(x)`` is the plain ViT. Weights and
    initialization are MAEViT's (fixed 2-D sin-cos position embedding).

    Args:
        **kwargs: Arguments of ``MAEViT`` (arch, img_size, patch_size, ...);
            ``mask_ratio`` only checks the pipeline's mask (see
            :class:`PipelineMaskMixin`).
    """
