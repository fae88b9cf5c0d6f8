from typing import List, Optional, Union

import torch
import torch.nn as nn
from mmengine.model.weight_init import trunc_normal_
from mmpretrain.models import VisionTransformer
from mmpretrain.registry import MODELS

from .ropim_beit_vit import BEiTAuthorsViT, trunc_normal_one_std
from .vit_token_path import ViTTokenPathMixin
from .vit_tokens import (check_image_size, check_out_indices_kwarg,
                         trunc_normal_vit_init)


class SimMIMMaskedForwardMixin(ViTTokenPathMixin):
    """SimMIM's masked forward with PR-MIM's partial reconstruction, for a
    ViT with a ``mask_token`` (the two backbones below).

    SimMIM encodes masked tokens too, replacing their embedding with the
    learnable mask token. The thrown masked tokens are dropped from the
    encoder's sequence (N * (1 - throw_ratio) + 1 tokens), which is where
    the saving comes from; a spatial aggregator after the encoder rebuilds
    them (``PRMIMLinearDecoder``).
    """

    #: the learnable (1, 1, C) embedding of masked tokens, the host's
    mask_token: nn.Parameter

    def forward(self,
                x: torch.Tensor,
                mask: Optional[torch.Tensor] = None,
                ids_decoded: Optional[torch.Tensor] = None):
        """Encode visible and retained tokens (masked ones as mask tokens).

        Args:
            x (torch.Tensor): Images (B, 3, H, W).
            mask (torch.Tensor, optional): (B, N) or (B, h, w), 1 = masked.
                When None, the parent ViT's plain forward.
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
        self.check_patch_grid(grid_hw)
        weight = mask.flatten(1).unsqueeze(-1).to(patches.dtype)
        patches = patches * (1. - weight) + self.mask_token * weight
        tokens = self.add_class_token_and_position(
            patches, grid_hw, ids_kept=ids_decoded)
        tokens, _ = self.run_layers(tokens, grid_hw, ids_kept=ids_decoded)
        return tokens


@MODELS.register_module()
class PRMIMSimMIMViT(SimMIMMaskedForwardMixin, VisionTransformer):
    """Plain ViT (absolute position embedding) for SimMIM with PR-MIM's
    partial reconstruction; see :class:`SimMIMMaskedForwardMixin`.
    MMPretrain 1.2.0 has SimMIM for Swin only. SimMIM's own ViT recipe is
    :class:`PRMIMSimMIMBEiTViT`.

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


@MODELS.register_module()
class PRMIMSimMIMBEiTViT(SimMIMMaskedForwardMixin, BEiTAuthorsViT):
    """The ViT of SimMIM's ViT-B recipe, with PR-MIM's partial
    reconstruction; see :class:`SimMIMMaskedForwardMixin`.

    Defaults are SimMIM's ViT (its ``vision_transformer.py`` and ViT-B
    config), which is BEiT's (:class:`BEiTAuthorsViT`): no absolute
    position embedding, one relative position bias shared by all layers
    (cut to the kept tokens of each image when thrown tokens are dropped),
    layer scale 0.1, q/v bias, LayerNorm eps 1e-6, a final norm, stochastic
    depth once per branch, BEiT's initialization (with ``authors_init``,
    the mask token too: ``VisionTransformerForSimMIM._trunc_normal_`` cuts
    at +-1 std). Its weights load into ``BEiTViT`` for fine-tuning, as the
    ROPIM ones do.

    Args:
        use_rel_pos_bias (bool): Per-layer relative position tables. They
            cannot follow the dropped tokens, so only False is accepted.
            Defaults to False.
        **kwargs: Other arguments of :class:`BEiTAuthorsViT` and
            ``BEiTViT``.
    """

    def __init__(self, use_rel_pos_bias: bool = False, **kwargs) -> None:
        if use_rel_pos_bias:
            raise ValueError(
                'PRMIMSimMIMBEiTViT got use_rel_pos_bias=True: per-layer '
                'relative position tables are built for the full token '
                'sequence and cannot follow the thrown tokens the encoder '
                'drops; use use_shared_rel_pos_bias=True (SimMIM\'s ViT '
                'recipe), or use_abs_pos_emb=True')
        if not (kwargs.get('use_shared_rel_pos_bias', True)
                or kwargs.get('use_abs_pos_emb', False)):
            raise ValueError(
                'PRMIMSimMIMBEiTViT got use_shared_rel_pos_bias=False and '
                'use_abs_pos_emb=False: the encoder would have no position '
                'information; keep use_shared_rel_pos_bias=True (SimMIM\'s '
                'ViT recipe) or set use_abs_pos_emb=True')
        super().__init__(use_rel_pos_bias=False, **kwargs)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, self.embed_dims))

    def init_after_init_cfg(self) -> None:
        super().init_after_init_cfg()
        if self.authors_init:
            trunc_normal_one_std(self.mask_token)
        else:
            trunc_normal_(self.mask_token, mean=0, std=.02)
