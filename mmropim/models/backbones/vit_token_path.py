"""The one token path of every ViT backbone of this package."""
from typing import Callable, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmpretrain.models.utils import resize_pos_embed

from ..utils import gather_tokens
from .vit_tokens import check_image_size, tokens_to_featmap

GridHW = Tuple[int, int]
# run_layer(index, layer, tokens, grid_hw, **layer_kwargs) -> tokens
LayerRunner = Callable[..., torch.Tensor]


class ViTTokenPathMixin:
    """The ViT forward, step by step, for subclasses of MMPretrain's
    ``VisionTransformer``, ``BEiTViT`` and ``MAEViT``:

    1. :meth:`embed_patches`: images -> (B, N, C) patch tokens;
    2. the caller's own step on the patch tokens, if any: ROPIM's sketch
       projection, SimMIM's mask token;
    3. :meth:`add_class_token_and_position`: position embedding, then an
       optional selection of tokens (PR-MIM's visible / decoded ones), then
       the class token, dropout and pre-norm;
    4. :meth:`run_layers`: the blocks (with BEiT's relative position bias,
       or a caller's layer runner such as window attention), the final norm,
       the tokens of ``out_indices``.

    :meth:`forward_featmaps` chains them into the multi-level forward of
    the transfer backbones; the pre-training backbones write their forward
    out in their own files. The methods read the module's own parameters
    only and keep no state between calls; for unselected tokens the
    arithmetic is MMPretrain's own forward (position and class token added
    element-wise, the same blocks), so the weights and outputs are those of
    the parent class.
    """

    # What the host gives: MMPretrain's VisionTransformer (BEiTViT,
    # MAEViT) builds these; a test builds every backbone of the package and
    # checks it has each one, except the optional ones (absent on some
    # hosts, read with getattr / hasattr): no absolute position embedding on
    # BEiT-style ViTs, no pre-norm on BEiTViT, a shared relative position
    # bias on BEiTViT only, no final norm ``ln1`` without ``final_norm``.
    patch_embed: nn.Module
    patch_resolution: GridHW
    img_size: GridHW
    num_extra_tokens: int
    cls_token: Optional[nn.Parameter]
    interpolate_mode: str
    drop_after_pos: nn.Module
    layers: nn.ModuleList
    final_norm: bool
    ln1: nn.Module
    out_indices: Sequence[int]
    pos_embed: Optional[nn.Parameter]
    pre_norm: nn.Module
    rel_pos_bias: Optional[nn.Module]
    optional_host_attributes = ('pos_embed', 'pre_norm', 'rel_pos_bias',
                                'ln1')

    #: The patch grid the position embedding is stored on; None: the grid
    #: of ``img_size`` (``TransferViT(pretrain_img_size)`` keeps its own).
    pos_embed_grid: Optional[GridHW] = None

    #: Let MMCV's ``PatchEmbed`` zero-pad image sides that are not a
    #: multiple of the patch size (the transfer backbones, as MMPretrain's
    #: ViTs do); pre-training backbones raise instead (their targets are
    #: cut into whole patches).
    pad_partial_patches: bool = False

    def embed_patches(self, images: torch.Tensor
                      ) -> Tuple[torch.Tensor, GridHW]:
        """Patch embedding.

        Args:
            images (torch.Tensor): (B, 3, H, W); H and W multiples of the
                patch size unless ``pad_partial_patches``.

        Returns:
            tuple: (B, N, C) patch tokens and the patch grid (h, w).
        """
        if not self.pad_partial_patches:
            check_image_size(images.shape[-2:],
                             self.patch_embed.projection.stride[0])
        return self.patch_embed(images)

    def add_class_token_and_position(
            self,
            patches: torch.Tensor,
            grid_hw: GridHW,
            ids_kept: Optional[torch.Tensor] = None,
            dropout_and_pre_norm: bool = True) -> torch.Tensor:
        """Add the position embedding (resized to ``grid_hw``; none for a
        BEiT-style ViT without one), keep the tokens of ``ids_kept``,
        prepend the class token (with its position), then dropout and
        pre-norm.

        Args:
            patches (torch.Tensor): (B, N, C) patch tokens in raster order.
            grid_hw (tuple[int, int]): Their patch grid.
            ids_kept (torch.Tensor, optional): (B, M) raster indices of the
                tokens to keep; all when None.
            dropout_and_pre_norm (bool): Apply ``drop_after_pos`` and
                ``pre_norm`` (MMPretrain's ViT forward does; ``MAEViT``'s
                masked forward does not). Defaults to True.

        Returns:
            torch.Tensor: (B, extra + M, C) tokens for the first block.
        """
        extra = self.num_extra_tokens
        pos_embed = getattr(self, 'pos_embed', None)
        if pos_embed is not None:
            pos_embed = resize_pos_embed(
                pos_embed,
                self.pos_embed_grid or self.patch_resolution,
                grid_hw,
                mode=self.interpolate_mode,
                num_extra_tokens=extra)
            patches = patches + pos_embed[:, extra:]
        if ids_kept is not None:
            patches = gather_tokens(patches, ids_kept)
        if self.cls_token is not None:
            cls_token = self.cls_token
            if pos_embed is not None:
                cls_token = cls_token + pos_embed[:, :extra]
            patches = torch.cat(
                (cls_token.expand(patches.shape[0], -1, -1), patches), dim=1)
        if not dropout_and_pre_norm:
            return patches
        tokens = self.drop_after_pos(patches)
        pre_norm = getattr(self, 'pre_norm', None)
        return tokens if pre_norm is None else pre_norm(tokens)

    def layer_kwargs(self, ids_kept: Optional[torch.Tensor] = None) -> dict:
        """Extra arguments of every block: BEiT's shared relative position
        bias (``None`` for per-layer tables); none for a plain ViT.

        Args:
            ids_kept (torch.Tensor, optional): (B, M) raster indices of the
                patch tokens in the sequence (see
                :meth:`add_class_token_and_position`): the shared bias is cut
                to their rows and columns, one (heads, L, L) bias per
                image. All tokens when None.
        """
        if not hasattr(self, 'rel_pos_bias'):
            return {}
        shared = self.rel_pos_bias
        if shared is None:
            return dict(rel_pos_bias=None)
        bias = shared()  # (heads, extra + N, extra + N)
        if ids_kept is not None:
            extra = self.num_extra_tokens
            rows = torch.cat([
                torch.arange(extra, device=ids_kept.device).expand(
                    ids_kept.shape[0], extra), ids_kept + extra
            ], dim=1)  # (B, L) positions in the full sequence
            bias = bias[:, rows[:, :, None], rows[:, None, :]]
            bias = bias.transpose(0, 1)  # (B, heads, L, L)
        return dict(rel_pos_bias=bias)

    def run_layers(
        self,
        tokens: torch.Tensor,
        grid_hw: GridHW,
        run_layer: Optional[LayerRunner] = None,
        ids_kept: Optional[torch.Tensor] = None
    ) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        """The blocks, then the final norm (when ``final_norm``).

        Args:
            tokens (torch.Tensor): (B, L, C) tokens for the first block.
            grid_hw (tuple[int, int]): Patch grid of the patch tokens.
            run_layer (callable, optional): ``run_layer(index, layer,
                tokens, grid_hw, **layer_kwargs)`` in place of
                ``layer(tokens, **layer_kwargs)``.
            ids_kept (torch.Tensor, optional): The patch tokens the sequence
                holds, as given to :meth:`add_class_token_and_position`
                (for the relative position bias); all when None.

        Returns:
            tuple: The last tokens and the list of the tokens after each
            layer of ``out_indices`` (the last one final-normed).
        """
        kwargs = self.layer_kwargs(ids_kept)
        last = len(self.layers) - 1
        outs = []
        for index, layer in enumerate(self.layers):
            if run_layer is None:
                tokens = layer(tokens, **kwargs)
            else:
                tokens = run_layer(index, layer, tokens, grid_hw, **kwargs)
            if index == last and self.final_norm:
                tokens = self.ln1(tokens)
            if index in self.out_indices:
                outs.append(tokens)
        return tokens, outs

    def forward_featmaps(
        self,
        images: torch.Tensor,
        run_layer: Optional[LayerRunner] = None
    ) -> Tuple[torch.Tensor, ...]:
        """The multi-level forward: one (B, C, h, w) map per entry of
        ``out_indices``.

        Args:
            images (torch.Tensor): (B, 3, H, W).
            run_layer (callable, optional): See :meth:`run_layers`.

        Returns:
            tuple[torch.Tensor]: The feature maps.
        """
        patches, grid_hw = self.embed_patches(images)
        self.check_patch_grid(grid_hw)
        tokens = self.add_class_token_and_position(patches, grid_hw)
        _, outs = self.run_layers(tokens, grid_hw, run_layer)
        return tuple(
            tokens_to_featmap(out, grid_hw, self.num_extra_tokens)
            for out in outs)

    def check_patch_grid(self, grid_hw: GridHW) -> None:
        """Raise a clear error for a grid the backbone cannot take (e.g.
        relative position tables of another size); any grid by default."""
