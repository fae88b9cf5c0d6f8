from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmpretrain.models import MFFViT
from mmpretrain.registry import MODELS

from ..utils import TokenSplit, mask_and_restore_ids
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

    def forward(self, x: torch.Tensor,
                token_split: Optional[TokenSplit] = None) -> Tuple:
        """Encode the visible tokens of ``token_split`` and fuse the levels
        of ``out_indices``.

        Args:
            x (torch.Tensor): Images (B, 3, H, W).
            token_split (TokenSplit, optional): Visible / retained / thrown
                token indices from the data pipeline. When None, the plain
                ViT forward on all tokens (feature extraction).

        Returns:
            tuple: With a split, ``MFFViT``'s ``(latent, mask, ids_restore,
            fusion_weights)``.
        """
        if token_split is None:
            return self.plain_forward(x)
        tokens, _ = self.visible_tokens(x, token_split)
        # MFF's fusion: the tokens of out_indices (all but the last through
        # their projection) weighted by the softmax of the fusion weights
        levels = []
        for index, layer in enumerate(self.layers):
            tokens = layer(tokens)
            if index in self.out_indices:
                if index != self.out_indices[-1]:
                    level = self.out_indices.index(index)
                    levels.append(self.proj_layers[level](tokens))
                else:
                    levels.append(tokens)
        weights = F.softmax(self.proj_weights, dim=0)
        fused = (torch.stack(levels) * weights).sum(dim=0)
        mask, ids_restore = mask_and_restore_ids(token_split)
        return self.norm1(fused), mask, ids_restore, weights.view(-1)
