from typing import Dict, List

import torch
from mmpretrain.models import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ..utils import split_tokens
from .prmim import collect_masks


@MODELS.register_module()
class PRMIMSimMIM(BaseSelfSupervisor):
    """SimMIM on a plain ViT with PR-MIM's partial reconstruction.

    Thrown masked tokens are dropped from the encoder input; the aggregator
    after the encoder rebuilds them; SimMIM's linear decoder and masked L1
    loss follow. With a throw ratio of 0 this is plain SimMIM on a ViT.

    Args:
        backbone (dict): ``PRMIMSimMIMViT``.
        neck (dict): ``PRMIMLinearDecoder``.
        head (dict): MMPretrain's ``SimMIMHead``.
        **kwargs: Other arguments of ``BaseSelfSupervisor``.
    """

    def loss(self, inputs: torch.Tensor, data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """Compute the masked L1 loss of a batch.

        Args:
            inputs (torch.Tensor): (B, 3, H, W) normalized images.
            data_samples (list[DataSample]): Samples with ``mask`` and
                ``throw_mask`` from ``FurthestSampling``.

        Returns:
            dict[str, torch.Tensor]: ``{'loss': scalar}``.
        """
        mask, throw_mask = collect_masks(data_samples, inputs.device)
        split = split_tokens(mask, throw_mask)
        latent = self.backbone(inputs, mask, split.ids_decoded)
        reconstruction = self.neck(latent, split, tuple(mask.shape[-2:]))
        supervised = mask.bool()
        if self.neck.aggregator is None:  # thrown tokens get no prediction
            supervised = supervised & ~throw_mask.bool()
        loss = self.head.loss(reconstruction, inputs, supervised.float())
        return dict(loss=loss)
