"""The backbones of dense transfer: MMPretrain's ``VisionTransformer`` and
``BEiTViT`` returning multi-level feature maps, loading our pre-training
checkpoints loudly, with optional ViTDet-style window attention."""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmpretrain.models import BEiTViT, VisionTransformer
from mmpretrain.models.utils import resize_pos_embed
from mmpretrain.registry import MODELS

from ...compat import PosEmbedLoadHook
from ...utils.backbone_checkpoint import check_fresh_parameters
from .loud_pretrained import (LoudPretrainedMixin, has_class_position,
                              square_side)
from .relative_position_tables import RelativeTableResizeMixin
from .vit_tokens import (arch_num_layers, check_out_indices,
                         check_relative_position_grid)
from .vit_tokens import drop_path_once as single_drop_path
from .window_attention import (WindowedAttentionMixin, check_window_args,
                               check_window_fits, vitdet_block)


@MODELS.register_module()
class TransferViT(LoudPretrainedMixin, WindowedAttentionMixin,
                  PosEmbedLoadHook, VisionTransformer):
    """MMPretrain's ``VisionTransformer`` returning multi-level feature maps
    for dense downstream tasks, loading our pre-training checkpoints loudly.

    The position embedding is interpolated to ``img_size`` when the weights
    load (without the class token's entry when ``with_cls_token=False``).
    Parameter names are MMPretrain's, so ``get_layer_depth`` drives
    layer-wise learning-rate decay.

    Without a class token (``with_cls_token=False``, ViTDet's backbone) the
    layers run as ViTDet's blocks (:func:`vitdet_block`): attention within
    zero-padded windows or globally, optionally with ViTDet's decomposed
    relative positions (``use_rel_pos``), drop path per image. With a class
    token, windows attend with a copy of it
    (:class:`WindowedAttentionMixin`).

    Args:
        out_indices (Sequence[int]): Layers whose tokens are returned as
            (B, C, H/p, W/p) maps, increasing (negative ones count from the
            end). Defaults to (3, 5, 7, 11).
        final_norm (bool): Defaults to False.
        window_size (int, optional): ViTDet-style window attention in the
            layers not in ``global_indices``, at most the patch grid side
            of ``img_size``. None: global everywhere.
        global_indices (Sequence[int]): Layers with global attention when
            ``window_size`` is set, e.g. (2, 5, 8, 11); empty without it.
        use_rel_pos (bool): ViTDet's decomposed relative position bias in
            every layer, per axis a (2 * s - 1, head_dims) table for the
            window side s (the grid of ``img_size`` in global layers),
            zero-initialized (``rel_pos_zero_init``); needs
            ``with_cls_token=False``. The tables are new at transfer: list
            ``'rel_pos_h', 'rel_pos_w'`` in ``fresh_parameters``. Defaults
            to False.
        fresh_parameters (Sequence[str]): Endings of parameter names the
            recipe adds to a checkpoint that lacks them; logged, and any
            other missing weight still raises. Defaults to ().
        pretrain_img_size (int, optional): Keep the position embedding on
            the patch grid of this (pre-training) image size and interpolate
            it (``interpolate_mode``, bicubic) to the input's grid in every
            forward, as ViTDet (``pretrain_img_size=224``, ``get_abs_pos``):
            the positions stay the pre-trained ones, learned at that size.
            None: MMPretrain's way, the embedding is resized to the grid of
            ``img_size`` once, when the weights load, and learned there.
            Defaults to None.
        **kwargs: Other arguments of ``VisionTransformer`` (arch, img_size,
            patch_size, drop_path_rate, with_cls_token, init_cfg, ...).
    """

    windows_without_class_token = True

    def __init__(self,
                 out_indices: Sequence[int] = (3, 5, 7, 11),
                 final_norm: bool = False,
                 window_size: Optional[int] = None,
                 global_indices: Sequence[int] = (),
                 use_rel_pos: bool = False,
                 fresh_parameters: Sequence[str] = (),
                 pretrain_img_size: Optional[int] = None,
                 **kwargs) -> None:
        kwargs.setdefault('out_type', 'featmap')
        self.fresh_parameters = check_fresh_parameters(fresh_parameters)
        out_indices = check_out_indices(
            out_indices, arch_num_layers(self, kwargs.get('arch', 'base')))
        super().__init__(
            out_indices=out_indices, final_norm=final_norm, **kwargs)
        self.pos_embed_grid = tuple(self.patch_resolution)
        if pretrain_img_size is not None:
            if self.out_type != 'featmap':
                raise ValueError(
                    f'pretrain_img_size={pretrain_img_size} returns feature '
                    f"maps only: out_type must be 'featmap', got "
                    f'{self.out_type!r}')
            self.keep_position_grid(pretrain_img_size)
        self.global_indices = check_window_args(window_size, global_indices,
                                                self.num_layers)
        self.window_size = window_size
        check_window_fits(self)
        self.use_rel_pos = use_rel_pos
        if use_rel_pos:
            self.add_decomposed_relative_positions()

    def keep_position_grid(self, pretrain_img_size: int) -> None:
        """A position embedding on the patch grid of ``pretrain_img_size``
        (see ``pretrain_img_size`` in the class docstring)."""
        patch = self.patch_embed.projection.stride[0]
        if isinstance(pretrain_img_size, bool) or not isinstance(
                pretrain_img_size, int) or pretrain_img_size < patch or \
                pretrain_img_size % patch:
            raise ValueError(
                f'pretrain_img_size must be a multiple of the patch size '
                f'{patch} (the pre-training image side, e.g. 224), got '
                f'{pretrain_img_size!r}')
        side = pretrain_img_size // patch
        self.pos_embed_grid = (side, side)
        self.pos_embed = nn.Parameter(
            torch.zeros(1, self.num_extra_tokens + side * side,
                        self.embed_dims),
            requires_grad=self.pos_embed.requires_grad)  # frozen_stages

    def add_decomposed_relative_positions(self) -> None:
        """Zero (2 * s - 1, head_dims) tables per axis in every layer's
        attention (``layers.i.attn.rel_pos_h`` / ``rel_pos_w``, so that
        layer-wise lr decay sees their layer)."""
        if self.num_extra_tokens:
            raise ValueError(
                'use_rel_pos=True (ViTDet\'s decomposed relative positions) '
                'needs with_cls_token=False: ViTDet\'s backbone has no class '
                'token in its sequence')
        for index, layer in enumerate(self.layers):
            windowed = self.window_size is not None and \
                index not in self.global_indices
            sides = (self.window_size, ) * 2 if windowed else tuple(
                self.patch_resolution)
            head_dims = layer.attn.head_dims
            layer.attn.rel_pos_h = nn.Parameter(
                torch.zeros(2 * sides[0] - 1, head_dims))
            layer.attn.rel_pos_w = nn.Parameter(
                torch.zeros(2 * sides[1] - 1, head_dims))

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        if self.num_extra_tokens == 0 and (self.window_size is not None
                                           or self.use_rel_pos):
            # ViTDet's blocks: windows without a class token, or global
            # attention with decomposed relative positions
            return self.forward_featmaps(x, run_layer=self.run_vitdet_block)
        if self.window_size is not None:
            # windows, each with a copy of the class token
            return self.forward_featmaps(x,
                                         run_layer=self.run_layer_windowed)
        if self.pos_embed_grid != tuple(self.patch_resolution):
            # MMPretrain's forward resizes from the grid of img_size
            return self.forward_featmaps(x)
        return VisionTransformer.forward(self, x)

    def run_vitdet_block(self, index: int, layer: nn.Module,
                         tokens: torch.Tensor, grid_hw: Tuple[int, int],
                         **layer_kwargs) -> torch.Tensor:
        windowed = self.window_size is not None and \
            index not in self.global_indices
        return vitdet_block(layer, tokens, grid_hw,
                            self.window_size if windowed else None)

    def prepare_pos_embed(self, state_dict, prefix, *args, **kwargs):
        """Without a class token, drop the class token's entry of the
        position embedding of a checkpoint with a class token before
        MMPretrain resizes it (which removes it only when the grids
        match)."""
        name = prefix + 'pos_embed'
        if name not in state_dict:
            return
        if not self.with_cls_token and has_class_position(
                state_dict[name].shape[1], prefix + 'cls_token' in state_dict,
                self.pos_embed.shape[1]):
            state_dict[name] = state_dict[name][:, 1:]
        if self.pos_embed_grid != tuple(self.patch_resolution) and \
                state_dict[name].shape != self.pos_embed.shape:
            # MMPretrain resizes to the grid of img_size: resize to the
            # kept (pre-training) grid instead
            extra = self.num_extra_tokens
            length = state_dict[name].shape[1] - extra
            side = square_side(length)
            if side is None:
                raise ValueError(
                    f'{name} of the checkpoint has {length} patch positions '
                    f'(+{extra}), not a square grid to resize to '
                    f'{self.pos_embed_grid}')
            state_dict[name] = resize_pos_embed(
                state_dict[name], (side, side), self.pos_embed_grid,
                self.interpolate_mode, extra)
        super().prepare_pos_embed(state_dict, prefix, *args, **kwargs)


@MODELS.register_module()
class TransferBEiTViT(LoudPretrainedMixin, WindowedAttentionMixin,
                      RelativeTableResizeMixin, BEiTViT):
    """MMPretrain's ``BEiTViT`` (per-layer relative position bias, layer
    scale) returning multi-level feature maps; reads ROPIM's BEiT-style
    checkpoints: the shared relative position table is copied into every
    layer and resized to the downstream grid when the weights load (with
    MMPretrain's resize, or SciPy >= 1.14's replacement of ``interp2d``; see
    :mod:`mmropim.utils.scipy_compat`).

    Args:
        out_indices (Sequence[int]): Increasing layers (negative ones count
            from the end). Defaults to (3, 5, 7, 11).
        window_size (int, optional): ViTDet-style window attention; window
            layers get relative tables of the window's size, global layers
            of the whole grid (both resized from the checkpoint). At most
            the patch grid side; not combined with ``layer_cfgs``.
        global_indices (Sequence[int]): Layers with global attention; empty
            without ``window_size``.
        drop_path_once (bool): Stochastic depth once on the FFN branch, as
            BEiT (MMPretrain's layer applies it twice). Defaults to True.
        fresh_parameters (Sequence[str]): Endings of parameter names the
            recipe adds to a checkpoint that lacks them, e.g.
            ``('relative_position_bias_table', 'gamma_1', 'gamma_2')`` for
            MAE's ADE20K recipe on an MAE / PR-MIM checkpoint (zero relative
            position biases, layer scale ``layer_scale_init_value``); they
            are logged when they stay fresh, and any other missing weight
            still raises. Defaults to () (every weight from the checkpoint).
        **kwargs: Other arguments of ``BEiTViT``, with its defaults: no
            absolute position embedding, a relative position bias per layer,
            layer scale 0.1, no final norm.
    """

    def __init__(self,
                 out_indices: Sequence[int] = (3, 5, 7, 11),
                 window_size: Optional[int] = None,
                 global_indices: Sequence[int] = (),
                 drop_path_once: bool = True,
                 fresh_parameters: Sequence[str] = (),
                 **kwargs) -> None:
        kwargs.setdefault('out_type', 'featmap')
        self.fresh_parameters = check_fresh_parameters(fresh_parameters)
        # an unknown arch (num_layers None) is left to BEiTViT's message
        num_layers = arch_num_layers(self, kwargs.get('arch', 'base'))
        out_indices = check_out_indices(out_indices, num_layers)
        if num_layers is not None:
            global_indices = check_window_args(window_size, global_indices,
                                               num_layers)
        if window_size is not None and num_layers is not None:
            if 'layer_cfgs' in kwargs:
                raise ValueError(
                    'layer_cfgs cannot be combined with window_size: '
                    'TransferBEiTViT sets every layer\'s window_size itself')
            kwargs['layer_cfgs'] = [
                {} if i in global_indices else dict(
                    window_size=(window_size, window_size))
                for i in range(num_layers)
            ]
        if drop_path_once:
            kwargs['layer_cfgs'] = single_drop_path(
                kwargs.get('layer_cfgs', dict()))
        super().__init__(out_indices=out_indices, **kwargs)
        self.window_size = window_size
        self.global_indices = tuple(global_indices)
        check_window_fits(self)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        grid = tuple(side // self.patch_embed.projection.stride[0]
                     for side in x.shape[-2:])
        check_relative_position_grid(
            self, grid, 'resize or pad the inputs to img_size (e.g. Pad / '
            'BatchFixedSizePad)')
        if self.window_size is not None:
            # windows, each with a copy of the class token
            return self.forward_featmaps(x,
                                         run_layer=self.run_layer_windowed)
        return BEiTViT.forward(self, x)
