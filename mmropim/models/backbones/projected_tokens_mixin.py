from typing import Callable, Optional, Tuple

import torch
from mmpretrain.models.utils import resize_pos_embed

TokenProjection = Callable[[torch.Tensor], torch.Tensor]


def check_image_size(image_hw: Tuple[int, int], patch_size: int) -> None:
    """Raise a clear error unless both image sides are multiples of the patch.

    Args:
        image_hw (tuple[int, int]): Image height and width.
        patch_size (int): Patch side length.
    """
    height, width = image_hw
    if height % patch_size or width % patch_size:
        raise ValueError(
            f'image size (H, W) = ({height}, {width}) is not divisible by the '
            f'patch size {patch_size}; use an input size that is a multiple '
            f'of {patch_size} (e.g. {height // patch_size * patch_size or patch_size} x '
            f'{width // patch_size * patch_size or patch_size}).')


class ProjectedTokensMixin:
    """Adds a pre-training forward that transforms the patch embeddings along
    the token axis before the class token and position information are added.

    Mixed into MMPretrain's ``VisionTransformer`` (absolute position
    embedding) and ``BEiTViT`` (relative position bias, layer scale), it adds
    no parameter, so the pre-trained weights load into those classes as they
    are.
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
                Pi. When None, this is the parent class's forward.

        Returns:
            tuple[torch.Tensor]: For the projected forward, one feature map
            of shape (B, C, H / p, W / p) per entry of ``out_indices``.
        """
        check_image_size(x.shape[-2:], self.patch_embed.projection.stride[0])
        if token_projection is None:
            return super().forward(x)

        tokens, patch_hw = self.patch_embed(x)
        self._check_patch_resolution(patch_hw)
        tokens = token_projection(tokens)

        if self.cls_token is not None:
            cls_token = self.cls_token.expand(tokens.shape[0], -1, -1)
            tokens = torch.cat((cls_token, tokens), dim=1)
        if self.pos_embed is not None:
            tokens = tokens + resize_pos_embed(
                self.pos_embed,
                self.patch_resolution,
                patch_hw,
                mode=self.interpolate_mode,
                num_extra_tokens=self.num_extra_tokens)
        tokens = self.drop_after_pos(tokens)
        pre_norm = getattr(self, 'pre_norm', None)
        if pre_norm is not None:
            tokens = pre_norm(tokens)

        layer_kwargs = self._layer_kwargs()
        outs = []
        for i, layer in enumerate(self.layers):
            tokens = layer(tokens, **layer_kwargs)
            if i == len(self.layers) - 1 and self.final_norm:
                tokens = self.ln1(tokens)
            if i in self.out_indices:
                patch_tokens = tokens[:, self.num_extra_tokens:]
                outs.append(
                    patch_tokens.reshape(tokens.shape[0], *patch_hw,
                                         -1).permute(0, 3, 1, 2))
        return tuple(outs)

    def _layer_kwargs(self) -> dict:
        """Extra arguments of each encoder layer (none for a plain ViT)."""
        return {}

    def _check_patch_resolution(self, patch_hw: Tuple[int, int]) -> None:
        """Hook for backbones tied to one token grid."""
