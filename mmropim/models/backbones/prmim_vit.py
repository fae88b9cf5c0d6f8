from typing import Optional, Tuple

import torch
from mmpretrain.models import MAEViT
from mmpretrain.registry import MODELS

from ..utils import TokenSplit, mask_and_restore_ids
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

    def forward(self, x: torch.Tensor,
                token_split: Optional[TokenSplit] = None) -> Tuple:
        """Encode the visible tokens of ``token_split``.

        Args:
            x (torch.Tensor): Images (B, 3, H, W).
            token_split (TokenSplit, optional): Visible / retained / thrown
                token indices from the data pipeline. When None, the plain
                ViT forward on all tokens (feature extraction).

        Returns:
            tuple: With a split, ``MAEViT``'s ``(latent, mask,
            ids_restore)``: the (B, 1 + Nv, C) class + visible tokens after
            the final norm, the (B, N) mask, the ids that restore raster
            order.
        """
        if token_split is None:
            return self.plain_forward(x)
        tokens, grid_hw = self.visible_tokens(x, token_split)
        latent, _ = self.run_layers(tokens, grid_hw)  # blocks, final norm
        mask, ids_restore = mask_and_restore_ids(token_split)
        return latent, mask, ids_restore
