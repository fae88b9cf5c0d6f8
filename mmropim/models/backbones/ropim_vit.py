from mmpretrain.models import VisionTransformer
from mmpretrain.registry import MODELS

from .projected_tokens_mixin import ProjectedTokensMixin
from .vit_tokens import arch_num_layers, check_out_indices


@MODELS.register_module()
class ROPIMViT(ProjectedTokensMixin, VisionTransformer):
    """Plain ViT (absolute position embedding) for ROPIM pre-training.

    ``forward(x, token_projection)`` applies the sketch projector to the patch
    embeddings before the class token and the position embedding are added;
    without a projection it is MMPretrain's ``VisionTransformer``. Its weights
    load into ``VisionTransformer`` without any key change.

    Args:
        final_norm (bool): Normalize the last layer's tokens. Defaults to True.
        out_type (str): Output of the plain forward, see
            ``VisionTransformer``. Defaults to ``'featmap'``.
        **kwargs: Other arguments of ``VisionTransformer``
            (arch, img_size, patch_size, drop_path_rate, ...).
    """

    def __init__(self,
                 final_norm: bool = True,
                 out_type: str = 'featmap',
                 **kwargs) -> None:
        if 'out_indices' in kwargs:
            kwargs['out_indices'] = check_out_indices(
                kwargs['out_indices'],
                arch_num_layers(self, kwargs.get('arch', 'base')))
        super().__init__(final_norm=final_norm, out_type=out_type, **kwargs)
