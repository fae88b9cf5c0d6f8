from typing import Dict

import torch
from mmpretrain.registry import MODELS

from ..backbones.prmim_simmim_vit import SimMIMMaskedForwardMixin
from ..necks import PRMIMLinearDecoder
from ..utils import TokenSplit
from .prmim import PipelineMaskSelfSupervisor


@MODELS.register_module()
class PRMIMSimMIM(PipelineMaskSelfSupervisor):
    """SimMIM on a plain ViT with PR-MIM's partial reconstruction.

    Thrown masked tokens are dropped from the encoder input; the aggregator
    after the encoder rebuilds them; SimMIM's linear decoder and masked L1
    loss follow. With a throw ratio of 0 this is plain SimMIM on a ViT.

    Args:
        backbone (dict): ``PRMIMSimMIMViT`` (absolute positions) or
            ``PRMIMSimMIMBEiTViT`` (SimMIM's ViT recipe).
        neck (dict): ``PRMIMLinearDecoder``.
        head (dict): MMPretrain's ``SimMIMHead``.
        **kwargs: Other arguments of ``BaseSelfSupervisor``.
    """

    def loss_on_split(self, inputs: torch.Tensor, mask: torch.Tensor,
                      throw_mask: torch.Tensor,
                      split: TokenSplit) -> Dict[str, torch.Tensor]:
        """SimMIM's masked L1 loss over the masked tokens that get a
        prediction (all of them with an aggregator)."""
        latent = self.backbone(inputs, mask, split.ids_decoded)
        reconstruction = self.neck(latent, split, tuple(mask.shape[-2:]))
        supervised = mask.bool()
        if self.neck.aggregator is None:  # thrown tokens get no prediction
            supervised = supervised & ~throw_mask.bool()
        loss = self.head.loss(reconstruction, inputs, supervised.float())
        return dict(loss=loss)

    required_parts = dict(
        backbone=(SimMIMMaskedForwardMixin,
                  'use PRMIMSimMIMBEiTViT or PRMIMSimMIMViT, which drop the '
                  'thrown tokens from the encoder input'),
        neck=(PRMIMLinearDecoder, 'use PRMIMLinearDecoder, which rebuilds '
              'the thrown tokens before the pixel decoder'))
