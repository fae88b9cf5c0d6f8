import math
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_
from mmpretrain.models import BEiTViT
from mmpretrain.registry import MODELS

from .ropim_vit import TokenProjection
from .vit_token_path import ViTTokenPathMixin
from .vit_tokens import (check_image_size, check_out_indices_kwarg,
                         check_relative_position_grid)
from .vit_tokens import drop_path_once as single_drop_path
from .vit_tokens import tokens_to_featmap

INIT_STD = 0.02


def trunc_normal_one_std(tensor: torch.Tensor) -> None:
    """BEiT's ``trunc_normal_``: std 0.02, cut at +-1 std."""
    nn.init.trunc_normal_(tensor, std=INIT_STD, a=-INIT_STD, b=INIT_STD)


@torch.no_grad()
def beit_authors_init(vit: BEiTViT) -> None:
    """Initialize a ``BEiTViT`` as BEiT's / the ROPIM authors' pre-training
    code does: truncated normal (std 0.02, cut at +-1 std) Linear and
    patch-embedding weights with zero biases, the class token likewise, and
    the output projections of attention and FFN of layer l (from 1)
    divided by sqrt(2 l). LayerNorms and the relative position tables keep
    the values ``init_cfg`` gave them.

    Args:
        vit (BEiTViT): The backbone, changed in place.
    """
    for module in vit.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            trunc_normal_one_std(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    if getattr(vit, 'cls_token', None) is not None:
        trunc_normal_one_std(vit.cls_token)
    for depth, layer in enumerate(vit.layers, start=1):
        scale = math.sqrt(2.0 * depth)
        layer.attn.proj.weight.div_(scale)
        layer.ffn.layers[1].weight.div_(scale)  # the FFN's second Linear


class BEiTAuthorsViT(ViTTokenPathMixin, BEiTViT):
    """MMPretrain's ``BEiTViT`` as BEiT-based pre-training code builds it
    (the ROPIM authors', SimMIM's ViT): a final norm, stochastic depth once
    per branch, BEiT's initialization, a clear error for an input grid the
    relative position tables were not built for. The base of
    :class:`ROPIMBEiTViT` and ``PRMIMSimMIMBEiTViT``.

    Args:
        use_rel_pos_bias (bool): Per-layer relative position bias.
            Defaults to False.
        use_shared_rel_pos_bias (bool): Defaults to True.
        final_norm (bool): Defaults to True.
        out_type (str): Output of the plain forward. Defaults to 'featmap'.
        drop_path_once (bool): Apply stochastic depth once on the FFN
            branch, as BEiT's block does (MMPretrain's BEiT layer applies it
            twice: see :func:`drop_path_once`). Defaults to True.
        authors_init (bool): After ``init_cfg`` (unless it loads a
            checkpoint), initialize as BEiT's pre-training code: every
            Linear and the patch-embedding convolution truncated normal with
            std 0.02 cut at +-1 std, zero biases, the class token likewise,
            and each layer's ``attn.proj`` / FFN output weights divided by
            sqrt(2 * layer) (layers counted from 1). False keeps
            MMPretrain's (``init_cfg``, then Xavier FFNs). Defaults to True.
        **kwargs: Other arguments of ``BEiTViT``, whose defaults
            ``use_abs_pos_emb=False`` and ``layer_scale_init_value=0.1`` are
            BEiT's.
    """

    def __init__(self,
                 use_rel_pos_bias: bool = False,
                 use_shared_rel_pos_bias: bool = True,
                 final_norm: bool = True,
                 out_type: str = 'featmap',
                 drop_path_once: bool = True,
                 authors_init: bool = True,
                 **kwargs) -> None:
        check_out_indices_kwarg(self, kwargs)
        if drop_path_once:
            kwargs['layer_cfgs'] = single_drop_path(
                kwargs.get('layer_cfgs', dict()))
        super().__init__(
            use_rel_pos_bias=use_rel_pos_bias,
            use_shared_rel_pos_bias=use_shared_rel_pos_bias,
            final_norm=final_norm,
            out_type=out_type,
            **kwargs)
        self._has_rel_pos = use_rel_pos_bias or use_shared_rel_pos_bias
        self.authors_init = authors_init

    @property
    def loads_checkpoint(self) -> bool:
        """Whether ``init_cfg`` (a dict or a list of them) loads weights
        (``type='Pretrained'``, which MMEngine applies last)."""
        cfgs = self.init_cfg if isinstance(self.init_cfg, list) else [
            self.init_cfg
        ]
        return any(
            isinstance(cfg, dict) and cfg.get('type') == 'Pretrained'
            for cfg in cfgs)

    def init_weights(self) -> None:
        initialized = self.is_init
        # MMEngine's: init_cfg with a Pretrained entry applied last, or a
        # warning on a second call. Not BEiTViT's, which redraws the
        # absolute position embedding unless init_cfg is a Pretrained dict
        # (after a list's checkpoint, and on every call)
        BaseModule.init_weights(self)
        if initialized or self.loads_checkpoint:
            return
        if self.pos_embed is not None:  # BEiTViT's draw
            trunc_normal_(self.pos_embed, std=0.02)
        self.init_after_init_cfg()

    def init_after_init_cfg(self) -> None:
        """The reference's initialization, run once after ``init_cfg``
        unless that loads a checkpoint."""
        if self.authors_init:
            beit_authors_init(self)

    def check_patch_grid(self, grid_hw: Tuple[int, int]) -> None:
        if self._has_rel_pos:
            check_relative_position_grid(
                self, grid_hw, 'set img_size to the training input size')


@MODELS.register_module()
class ROPIMBEiTViT(BEiTAuthorsViT):
    """BEiT-style ViT for ROPIM pre-training, as the ROPIM authors use it
    (their code is BEiT's; see :class:`BEiTAuthorsViT` for the arguments).

    Defaults follow the authors: no absolute position embedding, a relative
    position bias shared by all layers, layer scale 0.1, q/v bias, LayerNorm
    eps 1e-6, a final norm, drop path once, BEiT's init.
    ``forward(x, token_projection)`` applies the sketch projector to the
    patch embeddings before the class token is prepended; without a
    projection it is MMPretrain's ``BEiTViT``. Its weights load into
    ``BEiTViT`` for fine-tuning without any key change (``BEiTViT`` copies
    the shared relative position table into every layer when it loads
    them).
    """

    def forward(self,
                x: torch.Tensor,
                token_projection: Optional[TokenProjection] = None
                ) -> Tuple[torch.Tensor, ...]:
        """Extract features, projecting the patch embeddings if asked to.

        Args:
            x (torch.Tensor): Images of shape (B, 3, H, W).
            token_projection (callable, optional): Maps patch embeddings of
                shape (B, K, C) to the same shape, e.g. the sketch projector
                Pi. When None, this is ``BEiTViT``'s forward.

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
        # then the class token (no absolute position), the blocks with the
        # shared relative position bias
        tokens = self.add_class_token_and_position(patches, grid_hw)
        _, outs = self.run_layers(tokens, grid_hw)
        return tuple(
            tokens_to_featmap(out, grid_hw, self.num_extra_tokens)
            for out in outs)
