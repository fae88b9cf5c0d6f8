from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS

from ...utils import check_positive_int
from ..utils import TokenSplit, build_aggregator, complete_grid, patch_targets


@MODELS.register_module()
class PRMIMHead(BaseModule):
    """PR-MIM's progressive reconstruction and loss.

    The decoded tokens go back onto the h x w grid with zeros at the thrown
    positions; the spatial aggregator (a depth-wise convolution) produces the
    thrown tokens from their decoded neighbours; a norm layer and a linear
    layer, named as MAE's decoder names them (``ln1`` with LN,
    ``decoder_pred``), map every token to pixels; the loss is MAE's
    normalized-pixel L2 over ALL masked tokens, retained and thrown.

    Design decision: only the thrown tokens are taken from the aggregator;
    decoded (visible and retained) tokens go to the norm unchanged. So with
    nothing thrown the model computes exactly MAE's loss, and the aggregator
    learns only from the thrown tokens' loss.

    With ``aggregator=None`` this is plain partial reconstruction: thrown
    tokens get no prediction and no loss (the ablation baseline).

    Args:
        in_channels (int): Decoder width C_dec. Defaults to 512.
        patch_size (int): Patch side p, the backbone's. Defaults to 16.
        in_chans (int): Image channels. Defaults to 3.
        aggregator (dict, optional): Config of the aggregator, e.g.
            ``dict(type='SpatialAggregator', kernel_size=7)``; its
            ``channels`` default to ``in_channels``. None disables it.
        norm_cfg (dict): Norm before the prediction, named as
            ``build_norm_layer`` names it with postfix 1 (``ln1`` for LN).
            Defaults to LN 1e-6.
        norm_pix (bool): Per-patch normalized pixel targets. Defaults to True.
        loss (dict): Pixel loss taking (pred, target, mask). Defaults to
            ``PixelReconstructionLoss`` with L2.
        init_cfg (dict | list, optional): Initialization config.
    """

    def __init__(self,
                 in_channels: int = 512,
                 patch_size: int = 16,
                 in_chans: int = 3,
                 aggregator: Optional[dict] = dict(
                     type='SpatialAggregator', kernel_size=7),
                 norm_cfg: dict = dict(type='LN', eps=1e-6),
                 norm_pix: bool = True,
                 loss: dict = dict(
                     type='PixelReconstructionLoss', criterion='L2'),
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        check_positive_int(in_channels, 'in_channels')
        check_positive_int(patch_size, 'patch_size')
        check_positive_int(in_chans, 'in_chans')
        self.patch_size = patch_size
        self.in_chans = in_chans
        self.norm_pix = norm_pix
        self.aggregator = build_aggregator(aggregator, in_channels)
        # MAEPretrainDecoder's names for its final norm (``ln1`` with LN) and
        # prediction, so MMPretrain's MAE decay key 'ln' exempts the norm
        self.decoder_norm_name, decoder_norm = build_norm_layer(
            norm_cfg, in_channels, postfix=1)
        self.add_module(self.decoder_norm_name, decoder_norm)
        self.decoder_pred = nn.Linear(in_channels,
                                      patch_size**2 * in_chans)
        self.loss_module = MODELS.build(loss)

    @property
    def decoder_norm(self) -> nn.Module:
        """The norm layer before the prediction."""
        return getattr(self, self.decoder_norm_name)

    def reconstruct(self, decoded: torch.Tensor, split: TokenSplit,
                    grid_hw: Tuple[int, int]) -> torch.Tensor:
        """Predict the pixels of every token of the grid.

        Args:
            decoded (torch.Tensor): (B, 1 + Nv + Nr, C_dec) decoder output
                (class token first, then ``split.ids_decoded`` order).
            split (TokenSplit): Visible / retained / thrown indices.
            grid_hw (tuple[int, int]): Token grid (h, w).

        Returns:
            torch.Tensor: (B, N, p * p * 3) predictions in raster order;
            rows of thrown tokens are garbage without an aggregator.
        """
        grid = complete_grid(decoded[:, 1:], split, grid_hw, self.aggregator)
        return self.decoder_pred(self.decoder_norm(grid))

    def construct_target(self, target: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) images -> (B, N, p*p*3) targets, per-patch normalized
        when ``norm_pix``."""
        return patch_targets(target, self.patch_size, self.norm_pix)

    def loss(self, decoded: torch.Tensor, split: TokenSplit,
             target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Reconstruction loss over the masked tokens.

        Args:
            decoded (torch.Tensor): (B, 1 + Nv + Nr, C_dec) decoder output.
            split (TokenSplit): Visible / retained / thrown indices.
            target (torch.Tensor): (B, 3, H, W) normalized images.
            mask (torch.Tensor): (B, N) or (B, h, w), 1 = masked.

        Returns:
            torch.Tensor: Scalar loss (mean over supervised tokens).
        """
        if decoded.shape[-1] != self.decoder_pred.in_features:
            raise ValueError(
                f'in_channels={self.decoder_pred.in_features} but the decoder '
                f'gives {decoded.shape[-1]}-channel tokens: set the head\'s '
                'in_channels to the decoder width (decoder_embed_dim)')
        grid_hw = (target.shape[-2] // self.patch_size,
                   target.shape[-1] // self.patch_size)
        if mask[0].numel() != grid_hw[0] * grid_hw[1]:
            raise ValueError(
                f'patch_size={self.patch_size} cuts the '
                f'{target.shape[-2]}x{target.shape[-1]} images into a '
                f'{grid_hw} grid but the mask has {mask[0].numel()} tokens: '
                'set the head\'s patch_size to the backbone\'s')
        pred = self.reconstruct(decoded, split, grid_hw)
        # The loss and its denominator in float32 whatever the compute dtype:
        # a (B, N) mask summed in fp16 overflows past 65,504 masked tokens
        # (batch 512 x 147), and the loss would be exactly 0.
        supervised = mask.flatten(1).float()
        if self.aggregator is None:
            supervised = supervised.scatter(1, split.ids_thrown, 0.)
        return self.loss_module(pred.float(), self.construct_target(target),
                                supervised)
