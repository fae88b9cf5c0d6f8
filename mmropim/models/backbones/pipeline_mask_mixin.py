from typing import Optional, Tuple

import torch
from mmpretrain.models import VisionTransformer

from ..utils import TokenSplit
from .vit_token_path import ViTTokenPathMixin
from .vit_tokens import check_image_size


class PipelineMaskMixin(ViTTokenPathMixin):
    """Makes an MAE-family encoder (``MAEViT`` or a subclass such as
    ``MFFViT``) take its mask from the data pipeline.

    MMPretrain's MAE encoders draw a random mask inside ``forward``. PR-MIM
    draws mask and thrown tokens together in the ``FurthestSampling``
    transform; each encoder's own ``forward(x, token_split)`` (in its file)
    runs the token path of :class:`ViTTokenPathMixin` over the visible tokens
    of the batch's :class:`TokenSplit` (:meth:`visible_tokens`) and returns
    what the parent returns: ``(latent, mask, ids_restore, ...)``. No weight
    is added: checkpoints load into the parent class and into
    ``VisionTransformer`` as they are.

    The parent's ``mask_ratio`` is accepted so that configs inheriting
    MMPretrain's MAE / MFF encoders build, but the mask is the pipeline's:
    when it is given, a batch whose mask ratio differs is an error that
    says to set ``FurthestSampling``'s ``mask_ratio`` instead.

    Args:
        mask_ratio (float, optional): What ``FurthestSampling`` must mask;
            None (default) checks nothing.
        in_channels (int): Image channels, as ``VisionTransformer``'s
            (MMPretrain's MAE encoders do not take it; it goes to their
            ``patch_cfg``). Defaults to 3.
        **kwargs: Arguments of the parent encoder.
    """

    def __init__(self,
                 *args,
                 mask_ratio: Optional[float] = None,
                 in_channels: int = 3,
                 **kwargs) -> None:
        if mask_ratio is not None:
            kwargs['mask_ratio'] = mask_ratio
        if in_channels != 3:
            kwargs['patch_cfg'] = dict(
                kwargs.get('patch_cfg') or {}, in_channels=in_channels)
        super().__init__(*args, **kwargs)
        self.expected_mask_ratio = mask_ratio

    def plain_forward(self, x: torch.Tensor) -> Tuple:
        """The ViT forward on all tokens (feature extraction, without a
        split): ``VisionTransformer``'s, as ``MAEViT.forward(x, mask=False)``
        runs it; ``MFFViT.forward(x, mask=None)`` would mask instead."""
        check_image_size(x.shape[-2:], self.patch_embed.projection.stride[0])
        return VisionTransformer.forward(self, x)

    def visible_tokens(self, x: torch.Tensor, token_split: TokenSplit
                       ) -> Tuple[torch.Tensor, Tuple[int, int]]:
        """Patch embedding, position embedding, then the class token and the
        visible tokens of ``token_split`` (as ``MAEViT``'s masked forward:
        no dropout or pre-norm after the position embedding).

        Returns:
            tuple: (B, 1 + Nv, C) tokens for the first block, and the patch
            grid.
        """
        patches, grid_hw = self.embed_patches(x)
        self.check_patch_grid(grid_hw)
        self.check_mask_ratio(token_split, grid_hw[0] * grid_hw[1])
        tokens = self.add_class_token_and_position(
            patches,
            grid_hw,
            ids_kept=token_split.ids_visible,
            dropout_and_pre_norm=False)
        return tokens, grid_hw

    def check_patch_grid(self, grid_hw: Tuple[int, int]) -> None:
        # MAE's masked forward adds the fixed position embedding unresized
        if tuple(grid_hw) != tuple(self.patch_resolution):
            patch = self.patch_embed.projection.stride[0]
            raise ValueError(
                f'{type(self).__name__} was built for img_size='
                f'{self.img_size} (a {tuple(self.patch_resolution)} patch '
                f'grid) but got {grid_hw[0] * patch}x{grid_hw[1] * patch} '
                f'images (a {tuple(grid_hw)} grid): set img_size to the '
                'training input size')

    def check_mask_ratio(self, token_split: TokenSplit,
                         num_tokens: int) -> None:
        """Raise if ``mask_ratio`` was given and the pipeline's mask has
        another ratio (it would be silently ignored)."""
        if self.expected_mask_ratio is None:
            return
        num_masked = num_tokens - token_split.ids_visible.shape[1]
        if abs(num_masked - num_tokens * self.expected_mask_ratio) >= 1:
            raise ValueError(
                f'{type(self).__name__}.mask_ratio='
                f'{self.expected_mask_ratio} but the data pipeline masks '
                f'{num_masked} of {num_tokens} tokens '
                f'({num_masked / num_tokens:.3f}): the mask comes from '
                f'FurthestSampling, set its mask_ratio='
                f'{self.expected_mask_ratio} (or drop the backbone\'s '
                'mask_ratio, which only checks it)')

    def random_masking(self, x: torch.Tensor, mask_ratio: float = 0.75):
        """Not used: the data pipeline draws the mask."""
        raise RuntimeError(
            f'{type(self).__name__} masks with the data pipeline\'s tokens '
            '(FurthestSampling): call it as backbone(images, '
            'token_split=split)')
