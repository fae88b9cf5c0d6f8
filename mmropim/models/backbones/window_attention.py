"""Window attention for dense downstream tasks: ViTDet's windowed blocks
(partition, attention within windows, decomposed relative positions) and
the checks of their arguments."""
from typing import Callable, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.backbones.beit import BEiTTransformerEncoderLayer

from .vit_token_path import ViTTokenPathMixin


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
