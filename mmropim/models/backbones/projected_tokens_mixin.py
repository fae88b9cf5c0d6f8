from typing import Callable, Optional, Tuple

import torch

from .vit_tokens import check_image_size, embed_tokens, tokens_to_featmap

TokenProjection = Callable[[torch.Tensor], torch.Tensor]


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

        tokens, patch_hw = embed_tokens(self, x, token_projection)
        self._check_patch_resolution(patch_hw)

        layer_kwargs = self._layer_kwargs()
        outs = []
        for i, layer in enumerate(self.layers):
            tokens = layer(tokens, **layer_kwargs)
            if i == len(self.layers) - 1 and self.final_norm:
                tokens = self.ln1(tokens)
            if i in self.out_indices:
                outs.append(
                    tokens_to_featmap(tokens, patch_hw,
                                      self.num_extra_tokens))
        return tuple(outs)

    def _layer_kwargs(self) -> dict:
        """Extra arguments of each encoder layer (none for a plain ViT)."""
        return {}

    def _check_patch_resolution(self, patch_hw: Tuple[int, int]) -> None:
        """Hook for backbones tied to one token grid."""
