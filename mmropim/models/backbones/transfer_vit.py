import math
from typing import Callable, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models import BEiTViT, VisionTransformer
from mmpretrain.models.backbones.beit import BEiTTransformerEncoderLayer
from mmpretrain.models.utils import resize_pos_embed
from mmpretrain.registry import MODELS

from ...compat import PosEmbedLoadHook
from ...utils.backbone_checkpoint import (check_fresh_parameters,
                                          load_backbone_weights)
from ...utils.scipy_compat import RelativeTableResizeMixin
from .vit_token_path import ViTTokenPathMixin
from .vit_tokens import (arch_num_layers, check_out_indices,
                         check_relative_position_grid)
from .vit_tokens import drop_path_once as single_drop_path


def window_partition(tokens: torch.Tensor, grid_hw: Tuple[int, int],
                     window: int) -> Tuple[torch.Tensor, Tuple[int, int]]:
    """(B, h*w, C) tokens -> (B * nW, window * window, C) windows, padding
    the grid with zeros to a multiple of the window.

    Returns:
        tuple: The windows and the padded grid (hp, wp).
    """
    b, _, c = tokens.shape
    h, w = grid_hw
    grid = tokens.view(b, h, w, c)
    pad_h, pad_w = (-h) % window, (-w) % window
    if pad_h or pad_w:
        grid = F.pad(grid, (0, 0, 0, pad_w, 0, pad_h))
    hp, wp = h + pad_h, w + pad_w
    grid = grid.view(b, hp // window, window, wp // window, window, c)
    windows = grid.permute(0, 1, 3, 2, 4, 5).reshape(-1, window * window, c)
    return windows, (hp, wp)


def window_unpartition(windows: torch.Tensor, batch: int,
                       padded_hw: Tuple[int, int], grid_hw: Tuple[int, int],
                       window: int) -> torch.Tensor:
    """Inverse of :func:`window_partition`: (B, h*w, C) tokens."""
    hp, wp = padded_hw
    c = windows.shape[-1]
    grid = windows.view(batch, hp // window, wp // window, window, window, c)
    grid = grid.permute(0, 1, 3, 2, 4, 5).reshape(batch, hp, wp, c)
    return grid[:, :grid_hw[0], :grid_hw[1]].reshape(batch, -1, c)


def relative_position_table(size: int, table: torch.Tensor) -> torch.Tensor:
    """ViTDet's ``get_rel_pos`` for self-attention: the (size, size, C)
    embeddings of the query-key offsets along one axis, with the (2 * s - 1,
    C) table linearly resized when it was built for another size."""
    if table.shape[0] != 2 * size - 1:
        table = F.interpolate(
            table.t()[None], size=2 * size - 1, mode='linear')[0].t()
    coords = torch.arange(size, device=table.device)
    return table[coords[:, None] - coords[None, :] + size - 1]


def decomposed_relative_bias(q: torch.Tensor, rel_pos_h: torch.Tensor,
                             rel_pos_w: torch.Tensor,
                             grid_hw: Tuple[int, int]) -> torch.Tensor:
    """ViTDet's decomposed relative position bias (``add_decomposed_rel_pos``)
    as an attention mask.

    Args:
        q (torch.Tensor): (B, heads, h * w, C) queries (before scaling).
        rel_pos_h, rel_pos_w (torch.Tensor): (2 * s - 1, C) tables.
        grid_hw (tuple[int, int]): The (h, w) grid of the tokens.

    Returns:
        torch.Tensor: (B, heads, h * w, h * w) bias added to the logits.
    """
    h, w = grid_hw
    b, heads, length, c = q.shape
    grid_q = q.reshape(b, heads, h, w, c)
    rel_h = torch.einsum('bnhwc,hkc->bnhwk', grid_q,
                         relative_position_table(h, rel_pos_h).to(q.dtype))
    rel_w = torch.einsum('bnhwc,wkc->bnhwk', grid_q,
                         relative_position_table(w, rel_pos_w).to(q.dtype))
    bias = rel_h[..., :, None] + rel_w[..., None, :]  # (b, n, h, w, h, w)
    return bias.reshape(b, heads, length, length)


def attend_in_windows(attend: Callable[[torch.Tensor], torch.Tensor],
                      x: torch.Tensor, grid_hw: Tuple[int, int],
                      window: int, num_extra_tokens: int) -> torch.Tensor:
    """Self-attention within windows of normed tokens, as ViTDet: the patch
    grid is zero-padded (after the norm) to a multiple of ``window`` and cut
    into windows; each window attends with a copy of the extra (class)
    tokens, whose outputs are averaged back over the windows.

    Args:
        attend (callable): (N, extra + window * window, C) -> the same.
        x (torch.Tensor): (B, extra + h * w, C) normed tokens.
        grid_hw (tuple[int, int]): The patch grid (h, w).
        window (int): Window side.
        num_extra_tokens (int): Leading extra tokens of ``x``.

    Returns:
        torch.Tensor: (B, extra + h * w, C) attention outputs.
    """
    batch = x.shape[0]
    windows, padded_hw = window_partition(x[:, num_extra_tokens:], grid_hw,
                                          window)
    per_window = windows.shape[0] // batch
    if num_extra_tokens:
        extra = x[:, :num_extra_tokens].repeat_interleave(per_window, dim=0)
        windows = torch.cat([extra, windows], dim=1)
    out = attend(windows)
    patches = window_unpartition(out[:, num_extra_tokens:], batch, padded_hw,
                                 grid_hw, window)
    if not num_extra_tokens:
        return patches
    extra = out[:, :num_extra_tokens].reshape(batch, per_window,
                                              num_extra_tokens, -1).mean(1)
    return torch.cat([extra, patches], dim=1)


def vitdet_block(layer: nn.Module,
                 tokens: torch.Tensor,
                 grid_hw: Tuple[int, int],
                 window: Optional[int],
                 num_extra_tokens: int = 0) -> torch.Tensor:
    """One MMPretrain ``TransformerEncoderLayer`` as ViTDet's ``Block``:
    norm, then attention within zero-padded windows (``window`` None:
    global), with the decomposed relative bias when the attention has
    ``rel_pos_h`` / ``rel_pos_w``; the drop path of both branches per image
    and the FFN on the unpadded tokens.

    Args:
        layer (nn.Module): The layer (``ln1``, ``attn``, ``ln2``, ``ffn``).
        tokens (torch.Tensor): (B, extra + h * w, C) tokens; ViTDet's
            backbone has no extra (class) token, with one each window
            attends with a copy (see :func:`attend_in_windows`).
        grid_hw (tuple[int, int]): The patch grid.
        window (int, optional): Window side.
        num_extra_tokens (int): Leading extra tokens. Defaults to 0.

    Returns:
        torch.Tensor: (B, extra + h * w, C).
    """
    attn = layer.attn
    channels = tokens.shape[-1]
    size = grid_hw if window is None else (window, window)

    def attend(x: torch.Tensor) -> torch.Tensor:
        b, length, _ = x.shape
        q, k, v = attn.qkv(x).reshape(b, length, 3, attn.num_heads,
                                      attn.head_dims).permute(2, 0, 3, 1, 4)
        bias = None
        if getattr(attn, 'rel_pos_h', None) is not None:
            bias = decomposed_relative_bias(q, attn.rel_pos_h,
                                            attn.rel_pos_w, size)
        x = F.scaled_dot_product_attention(
            q, k, v, attn_mask=bias,
            dropout_p=attn.attn_drop if attn.training else 0.)
        x = x.transpose(1, 2).reshape(b, length, channels)
        return attn.gamma1(attn.proj_drop(attn.proj(x)))

    x = layer.ln1(tokens)
    if window is None:
        x = attend(x)
    else:
        x = attend_in_windows(attend, x, grid_hw, window, num_extra_tokens)
    x = tokens + attn.out_drop(x)  # drop path per image
    return layer.ffn(layer.ln2(x), identity=x)


def beit_windowed_block(layer: nn.Module,
                        tokens: torch.Tensor,
                        grid_hw: Tuple[int, int],
                        window: int,
                        rel_pos_bias: Optional[torch.Tensor] = None
                        ) -> torch.Tensor:
    """MMPretrain's ``BEiTTransformerEncoderLayer`` with its attention
    within ViTDet's windows (:func:`attend_in_windows`, each window with a
    copy of the class token, whose relative tables the layer has): norm,
    windowed attention, layer scale, drop path per image, then the FFN
    branch as the layer's own forward.

    Args:
        layer (nn.Module): The BEiT layer, its attention's relative tables
            built for ``window``.
        tokens (torch.Tensor): (B, 1 + h * w, C).
        grid_hw (tuple[int, int]): The patch grid.
        window (int): Window side.
        rel_pos_bias (torch.Tensor, optional): A shared bias, as the layer's
            forward takes it.

    Returns:
        torch.Tensor: (B, 1 + h * w, C).
    """

    def scaled(gamma: Optional[torch.Tensor], x: torch.Tensor):
        return x if gamma is None else gamma * x

    x = attend_in_windows(
        lambda windows: layer.attn(windows, rel_pos_bias=rel_pos_bias),
        layer.ln1(tokens), grid_hw, window, 1)
    x = tokens + layer.drop_path(scaled(layer.gamma_1, x))
    return x + layer.drop_path(scaled(layer.gamma_2,
                                      layer.ffn(layer.ln2(x))))


class WindowedAttentionMixin(ViTTokenPathMixin):
    """ViTDet-style attention for detection: most layers attend within
    non-overlapping windows, the layers of ``global_indices`` attend
    globally.

    The windowed layers run as ViTDet's block (:func:`vitdet_block`,
    :func:`beit_windowed_block`): norm, attention within windows of the
    grid zero-padded after the norm, drop path per image, the FFN on the
    real tokens. Each window attends with a copy of the class token (so
    BEiT-style relative position tables, which include the class token,
    apply unchanged), averaged back after the attention. This path adds no
    decomposed relative position (ViTDet's, which :class:`TransferViT` adds
    without a class token): the pre-trained absolute embedding or relative
    tables are interpolated instead.
    """

    window_size: Optional[int] = None
    global_indices: Tuple[int, ...] = ()
    pad_partial_patches = True  # as MMPretrain's ViTs (MMCV's PatchEmbed)
    #: whether windows may run without a class token (ViTDet's way); BEiT's
    #: relative tables include the class token, so BEiT-style ViTs need it
    windows_without_class_token: bool = False

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        if self.window_size is None:
            return super().forward(x)
        return self.forward_featmaps(x, run_layer=self.run_layer_windowed)

    def run_layer_windowed(self, index: int, layer: torch.nn.Module,
                           tokens: torch.Tensor, grid_hw: Tuple[int, int],
                           **layer_kwargs) -> torch.Tensor:
        """One block: the layer itself (global attention) for
        ``global_indices``, otherwise ViTDet's block with attention within
        windows, each with a copy of the class token, drop path per
        image."""
        if index in self.global_indices:
            return layer(tokens, **layer_kwargs)
        if isinstance(layer, BEiTTransformerEncoderLayer):
            return beit_windowed_block(layer, tokens, grid_hw,
                                       self.window_size, **layer_kwargs)
        return vitdet_block(layer, tokens, grid_hw, self.window_size,
                            self.num_extra_tokens)


def square_side(num_positions: int) -> Optional[int]:
    """The side of the square grid of ``num_positions`` patch positions, or
    None when they form no square."""
    side = math.isqrt(max(num_positions, 0))
    return side if side > 0 and side * side == num_positions else None


def has_class_position(length: int, has_class_token: bool,
                       expected_length: int) -> bool:
    """Whether a checkpoint's (1, ``length``, C) position embedding holds
    a class token's entry: it has a class token, or (detectron2's ViTDet
    keeps the entry without one) the length does not fit ``expected_length``
    and only one entry more than a square grid explains it."""
    if has_class_token:
        return True
    return length != expected_length and square_side(
        length - 1) is not None and square_side(length) is None


def check_window_args(window_size, global_indices, num_layers):
    if not isinstance(global_indices, Sequence):
        raise TypeError(f'global_indices must be a sequence of layer '
                        f'indices, got {global_indices!r}')
    if window_size is None:
        if len(global_indices):
            raise ValueError(
                f'global_indices {tuple(global_indices)} only apply with '
                'window attention: set window_size too (or drop '
                'global_indices for global attention in every layer)')
        return ()
    if isinstance(window_size, bool) or not isinstance(window_size, int) \
            or window_size < 1:
        raise ValueError(
            f'window_size must be a positive integer, got {window_size!r}')
    bad = [i for i in global_indices if not 0 <= i < num_layers]
    if bad:
        raise ValueError(f'global_indices {bad} are not layers of a '
                         f'{num_layers}-layer ViT')
    return tuple(global_indices)


def check_window_fits(vit) -> None:
    """Raise a clear error if the window is larger than the patch grid of
    ``img_size`` (its one window would be mostly zero padding), or if the
    ViT lacks what window attention needs: exactly one class token (each
    window gets a copy) and no relative position bias shared by all layers
    (windowed layers need tables of the window's size)."""
    if vit.window_size is None:
        return
    grid = tuple(vit.patch_resolution)
    if vit.window_size > max(grid):
        raise ValueError(
            f'window_size={vit.window_size} is larger than the {grid} patch '
            f'grid of img_size={vit.img_size}: use at most {max(grid)} (or '
            'window_size=None for global attention)')
    if vit.num_extra_tokens > 1 or (vit.num_extra_tokens == 0 and
                                    not vit.windows_without_class_token):
        raise ValueError(
            f'window_size={vit.window_size} needs the class token (each '
            'window attends with a copy of it): set with_cls_token=True, '
            'or window_size=None')
    if getattr(vit, 'rel_pos_bias', None) is not None:
        raise ValueError(
            f'window_size={vit.window_size} cannot be combined with '
            'use_shared_rel_pos_bias=True: windowed layers need relative '
            'tables of the window\'s size; use per-layer tables '
            '(use_rel_pos_bias=True, the default), which are resized from '
            'a shared checkpoint table when the weights load')


class LoudPretrainedMixin:
    """``init_cfg=dict(type='Pretrained', checkpoint=..., prefix=...)``
    loads through :func:`load_backbone_weights`, which raises when backbone
    weights are missing, instead of MMEngine's silent ``strict=False``."""

    def init_weights(self) -> None:
        init_cfg = self.init_cfg
        if not (isinstance(init_cfg, dict)
                and init_cfg.get('type') == 'Pretrained'):
            super().init_weights()
            return
        self.init_cfg = None  # default init for anything not loaded
        super().init_weights()
        self.init_cfg = init_cfg
        report = load_backbone_weights(self, init_cfg.get('checkpoint'),
                                       init_cfg.get('prefix', 'backbone.'),
                                       getattr(self, 'fresh_parameters', ()))
        self.init_fresh_parameters(report['fresh'])
        self.is_init = True

    def init_fresh_parameters(self, names: Sequence[str]) -> None:
        """Initialize the parameters the checkpoint lacked and the recipe
        allows (``fresh_parameters``): relative position tables start at
        zero (no bias, as MAE's transfer recipe); others keep their
        construction values (layer scale at ``layer_scale_init_value``)."""
        parameters = dict(self.named_parameters())
        with torch.no_grad():
            for name in names:
                if name.endswith('relative_position_bias_table'):
                    parameters[name].zero_()


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
            return self.forward_featmaps(x, run_layer=self.run_vitdet_block)
        if self.window_size is None and \
                self.pos_embed_grid != tuple(self.patch_resolution):
            # MMPretrain's forward resizes from the grid of img_size
            return self.forward_featmaps(x)
        return super().forward(x)

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
        return super().forward(x)
