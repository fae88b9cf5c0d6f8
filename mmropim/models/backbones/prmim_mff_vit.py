from typing import Tuple

import torch
import torch.nn.functional as F
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

    def encode_visible(self, tokens: torch.Tensor,
                       grid_hw: Tuple[int, int]) -> Tuple[torch.Tensor, tuple]:
        """MFF's fusion: the tokens of ``out_indices`` (all but the last
        through their projection) weighted by the softmax of the fusion
        weights, then MFF's norm.

        Returns:
            tuple: The fused tokens and ``(fusion_weights, )``.
        """
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
        return self.norm1(fused), (weights.view(-1), )
