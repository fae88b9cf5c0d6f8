from typing import Callable, Optional, Tuple

import torch
from mmpretrain.models import VisionTransformer
from mmpretrain.registry import MODELS

from .vit_token_path import ViTTokenPathMixin
from .vit_tokens import (check_image_size, check_out_indices_kwarg,
                         tokens_to_featmap)

TokenProjection = Callable[[torch.Tensor], torch.Tensor]


@MODELS.register_module()
class ROPIMViT(ViTTokenPathMixin, VisionTransformer):
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
        check_out_indices_kwarg(self, kwargs)
        super().__init__(final_norm=final_norm, out_type=out_type, **kwargs)

    def forward(self,
                x: torch.Tensor,
                token_projection: Optional[TokenProjection] = None
                ) -> Tuple[torch.Tensor, ...]:
        """Extract features, projecting the patch embeddings if asked to.

        Args:
            x (torch.Tensor): Images of shape (B, 3, H, W).
            token_projection (callable, optional): Maps patch embeddings of
                shape (B, K, C) to the same shape, e.g. the sketch projector
                Pi. When None, this is ``VisionTransformer``'s forward.

        Returns:
            tuple[torch.Tensor]: For the projected forward, one feature map
            of shape (B, C, H / p, W / p) per entry of ``out_indices``.
        """
        if token_projection is None:
            check_image_size(x.shape[-2:],
                             self.patch_embed.projection.stride[0])
            return super().forward(x)
        patches, grid_hw = self.embed_patches(x)
        self.check_patch_grid(grid_hw)
        patches = token_projection(patches)  # Pi along the token axis
        # then position embedding, class token, the blocks
        tokens = self.add_class_token_and_position(patches, grid_hw)
        _, outs = self.run_layers(tokens, grid_hw)
        return tuple(
            tokens_to_featmap(out, grid_hw, self.num_extra_tokens)
            for out in outs)
