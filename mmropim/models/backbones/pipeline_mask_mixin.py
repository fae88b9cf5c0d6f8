from typing import Optional, Tuple

import torch

from ..utils import TokenSplit, gather_tokens
from .vit_tokens import check_image_size


class PipelineMaskMixin:
    """Makes an MAE-family encoder (``MAEViT`` or a subclass such as
    ``MFFViT``) take its mask from the data pipeline.

    MMPretrain's MAE encoders draw a random mask inside ``forward`` through
    ``random_masking``. PR-MIM draws mask and thrown tokens together in the
    ``FurthestSampling`` transform, so this mixin replaces ``random_masking``
    by a lookup of the batch's :class:`TokenSplit` and otherwise runs the
    parent's forward unchanged (its outputs too: ``(latent, mask,
    ids_restore, ...)``). No weight is added: checkpoints load into the
    parent class and into ``VisionTransformer`` as they are.
    """

    _token_split: Optional[TokenSplit] = None

    def forward(self, x: torch.Tensor,
                token_split: Optional[TokenSplit] = None) -> Tuple:
        """Encode the visible tokens of ``token_split``.

        Args:
            x (torch.Tensor): Images (B, 3, H, W).
            token_split (TokenSplit, optional): Visible / retained / thrown
                token indices from the data pipeline. When None, the plain
                ViT forward on all tokens (feature extraction).

        Returns:
            tuple: The parent's outputs; with a split, first the (B, 1 + Nv,
            C) class + visible tokens after the final norm.
        """
        patch_size = self.patch_embed.projection.stride[0]
        check_image_size(x.shape[-2:], patch_size)
        if token_split is None:
            return super().forward(x, mask=None)
        grid = tuple(side // patch_size for side in x.shape[-2:])
        if grid != tuple(self.patch_resolution):
            # MAE's masked forward adds the position embedding unresized
            raise ValueError(
                f'{type(self).__name__} was built for img_size='
                f'{self.img_size} (a {tuple(self.patch_resolution)} patch '
                f'grid) but got {x.shape[-2]}x{x.shape[-1]} images (a {grid} '
                'grid): set img_size to the training input size')
        self._token_split = token_split
        try:
            return super().forward(x, mask=True)
        finally:
            self._token_split = None

    def random_masking(
        self,
        x: torch.Tensor,
        mask_ratio: float = 0.75
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Keep the visible tokens of the current split (``mask_ratio`` is
        ignored: the data pipeline decided).

        Args:
            x (torch.Tensor): (B, N, C) tokens with position embedding.
            mask_ratio (float): Unused.

        Returns:
            tuple: visible tokens (B, Nv, C) in raster order, the (B, N)
            mask (1 = masked) and the ids that restore raster order from
            [visible, retained, thrown].
        """
        split = self._token_split
        if split is None:
            raise RuntimeError(
                f'{type(self).__name__} masks with the data pipeline\'s '
                'tokens: call it as backbone(images, token_split=split)')
        order = torch.cat(
            [split.ids_visible, split.ids_retained, split.ids_thrown], dim=1)
        ids_restore = torch.argsort(order, dim=1)
        # float32 as MAEViT's own mask: a head that sums it (MMPretrain's
        # PixelReconstructionLoss) overflows in fp16 at real batch sizes
        mask = torch.ones(order.shape, device=x.device)
        mask[:, :split.ids_visible.shape[1]] = 0
        mask = mask.gather(1, ids_restore)
        return gather_tokens(x, split.ids_visible), mask, ids_restore
