from typing import Callable

import torch
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS

from ...utils.arg_checks import check_positive_int
from ..utils import patch_targets, patchify


@MODELS.register_module()
class ROPIMHead(BaseModule):
    """ROPIM reconstruction loss, measured in the complement subspace.

    The residual between the target image and its reconstruction is cut into
    per-patch vectors (B, K, p*p*3), projected along the token axis onto the
    complement I - Pi of the sketch subspace, and reduced by ``loss``
    (L1 by default as in the paper; L2 is reported slightly better by the
    authors). Only the information that the sketch removed is supervised.

    Args:
        patch_size (int): Patch side p.
        loss (dict): Config of a pixel loss taking (pred, target), e.g.
            ``dict(type='PixelReconstructionLoss', criterion='L1')`` or
            ``criterion='L2'``.
        norm_pix (bool): Normalize every target patch to zero mean and unit
            variance (MAE's ``norm_pix``). Defaults to False: the target is
            the normalized input image.
    """

    def __init__(self,
                 patch_size: int,
                 loss: dict = dict(
                     type='PixelReconstructionLoss', criterion='L1'),
                 norm_pix: bool = False) -> None:
        super().__init__()
        check_positive_int(patch_size, 'patch_size')
        self.patch_size = patch_size
        self.norm_pix = norm_pix
        self.loss_module = MODELS.build(loss)

    def construct_target(self, target: torch.Tensor) -> torch.Tensor:
        """Patchify the target image, normalizing patches if configured.

        Args:
            target (torch.Tensor): Images of shape (B, C, H, W).

        Returns:
            torch.Tensor: Shape (B, K, p * p * C).
        """
        return patch_targets(target, self.patch_size, self.norm_pix)

    def loss(self, pred: torch.Tensor, target: torch.Tensor,
             loss_projection: Callable[[torch.Tensor],
                                       torch.Tensor]) -> torch.Tensor:
        """Compute the loss on the part of the residual the sketch removed.

        Args:
            pred (torch.Tensor): Reconstruction of shape (B, C, H, W).
            target (torch.Tensor): Target images of shape (B, C, H, W).
            loss_projection (callable): Projection along the token axis of
                (B, K, D) tensors, the complement (I - Pi) for ROPIM.

        Returns:
            torch.Tensor: Scalar loss.
        """
        if pred.shape != target.shape:
            raise ValueError(f'reconstruction shape {tuple(pred.shape)} does '
                             f'not match target shape {tuple(target.shape)}')
        pred_patches = patchify(pred, self.patch_size)
        target_patches = self.construct_target(target)
        return self.loss_module(
            loss_projection(pred_patches), loss_projection(target_patches))
