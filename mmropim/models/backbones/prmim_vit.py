from typing import Optional

import torch
from mmpretrain.models import MAEViT
from mmpretrain.registry import MODELS

from ..utils import gather_tokens
from .projected_tokens_mixin import check_image_size


@MODELS.register_module()
class PRMIMViT(MAEViT):
    """MAE encoder that takes its mask from the data pipeline.

    MMPretrain's ``MAEViT`` draws its random mask inside ``forward``; PR-MIM
    draws mask and thrown tokens together in the ``FurthestSampling``
    transform, so this encoder receives the visible token indices instead.
    Weights and initialization are MAEViT's (fixed 2-D sin-cos position
    embedding), so checkpoints load into ``VisionTransformer`` unchanged.

    Args:
        **kwargs: Arguments of ``MAEViT`` (arch, img_size, patch_size, ...);
            ``mask_ratio`` is unused (the transform masks).
    """

    def forward(self,
                x: torch.Tensor,
                ids_visible: Optional[torch.Tensor] = None):
        """Encode the visible tokens.

        Args:
            x (torch.Tensor): Images (B, 3, H, W).
            ids_visible (torch.Tensor, optional): (B, Nv) raster indices of
                the visible tokens. When None, the plain ViT forward on all
                tokens (for feature extraction).

        Returns:
            torch.Tensor | tuple: (B, 1 + Nv, C) encoded class + visible
            tokens after the final norm; the ViT outputs when
            ``ids_visible`` is None.
        """
        check_image_size(x.shape[-2:], self.patch_embed.projection.stride[0])
        if ids_visible is None:
            return super().forward(x, mask=None)
        tokens = self.patch_embed(x)[0] + self.pos_embed[:, 1:, :]
        tokens = gather_tokens(tokens, ids_visible)
        cls_token = (self.cls_token + self.pos_embed[:, :1, :]).expand(
            tokens.shape[0], -1, -1)
        tokens = torch.cat((cls_token, tokens), dim=1)
        for layer in self.layers:
            tokens = layer(tokens)
        return self.norm1(tokens)
