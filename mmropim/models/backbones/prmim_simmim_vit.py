from typing import List, Optional, Union

import torch
import torch.nn as nn
from mmengine.model.weight_init import trunc_normal_
from mmpretrain.models import VisionTransformer
from mmpretrain.registry import MODELS

from .vit_token_path import ViTTokenPathMixin
from .vit_tokens import (check_image_size, check_out_indices_kwarg,
                         trunc_normal_vit_init)


@MODELS.register_module()
class PRMIMSimMIMViT(ViTTokenPathMixin, VisionTransformer):
    """Plain ViT for SimMIM with PR-MIM's partial reconstruction.

    SimMIM encodes masked tokens too, replacing their embedding with a
    learnable mask token. Here the thrown masked tokens are dropped from the
    encoder's sequence (N * (1 - throw_ratio) + 1 tokens), which is where the
    saving comes from; a spatial aggregator after the encoder rebuilds them
    (``PRMIMLinearDecoder``). MMPretrain 1.2.0 has SimMIM for Swin only.

    Args:
        final_norm (bool): Defaults to True.
        out_type (str): Output of the plain forward. Defaults to 'featmap'.
        init_cfg (dict | list[dict], optional): None (the default) means
            SimMIM's ViT initialization, ``trunc_normal_vit_init()``
            (MMPretrain's ViT default leaves the attention projections at
            PyTorch's default).
        **kwargs: Other arguments of ``VisionTransformer``.
    """

    def __init__(self,
                 final_norm: bool = True,
                 out_type: str = 'featmap',
                 init_cfg: Optional[Union[dict, List[dict]]] = None,
                 **kwargs) -> None:
        check_out_indices_kwarg(self, kwargs)
        super().__init__(
            final_norm=final_norm,
            out_type=out_type,
            init_cfg=trunc_normal_vit_init() if init_cfg is None else init_cfg,
            **kwargs)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, self.embed_dims))

    def init_weights(self) -> None:
        super().init_weights()
        trunc_normal_(self.mask_token, mean=0, std=.02)

    def forward(self,
                x: torch.Tensor,
                mask: Optional[torch.Tensor] = None,
                ids_decoded: Optional[torch.Tensor] = None):
        """Encode visible and retained tokens (masked ones as mask tokens).

        Args:
            x (torch.Tensor): Images (B, 3, H, W).
            mask (torch.Tensor, optional): (B, N) or (B, h, w), 1 = masked.
                When None, the plain ViT forward.
            ids_decoded (torch.Tensor, optional): (B, Nv + Nr) positions the
                encoder keeps; all N when None (plain SimMIM).

        Returns:
            torch.Tensor | tuple: (B, 1 + Nv + Nr, C) tokens after the final
            norm; the ViT outputs when ``mask`` is None.
        """
        if mask is None:
            check_image_size(x.shape[-2:],
                             self.patch_embed.projection.stride[0])
            return super().forward(x)
        patches, grid_hw = self.embed_patches(x)
        weight = mask.flatten(1).unsqueeze(-1).to(patches.dtype)
        patches = patches * (1. - weight) + self.mask_token * weight
        tokens = self.add_class_token_and_position(
            patches, grid_hw, ids_kept=ids_decoded)
        tokens, _ = self.run_layers(tokens, grid_hw)
        return tokens
