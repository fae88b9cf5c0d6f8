from typing import Optional, Tuple

import torch
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS

from ...utils import check_positive_int
from ..utils import TokenSplit, build_aggregator, complete_grid
from .ropim_neck import PixelShuffleDecoder


@MODELS.register_module()
class PRMIMLinearDecoder(BaseModule):
    """SimMIM's linear decoder behind PR-MIM's spatial aggregator.

    The encoded tokens go back on the grid, the aggregator rebuilds the
    thrown ones, and a 1x1 convolution + pixel shuffle predicts pixels.

    Args:
        in_channels (int): Encoder width.
        patch_size (int): Patch side p.
        aggregator (dict, optional): ``SpatialAggregator`` config (channels
            default to ``in_channels``); None = plain partial reconstruction.
        in_chans (int): Image channels. Defaults to 3.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 in_channels: int,
                 patch_size: int,
                 aggregator: Optional[dict] = dict(
                     type='SpatialAggregator', kernel_size=7),
                 in_chans: int = 3,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        check_positive_int(in_channels, 'in_channels')
        self.aggregator = build_aggregator(aggregator, in_channels)
        self.pixel_decoder = PixelShuffleDecoder(in_channels, patch_size,
                                                 in_chans)

    def forward(self, latent: torch.Tensor, split: TokenSplit,
                grid_hw: Tuple[int, int]) -> torch.Tensor:
        """Rebuild the grid and decode pixels.

        Args:
            latent (torch.Tensor): (B, 1 + Nv + Nr, C) encoder output.
            split (TokenSplit): Visible / retained / thrown indices.
            grid_hw (tuple[int, int]): Token grid (h, w).

        Returns:
            torch.Tensor: (B, 3, H, W) reconstruction.
        """
        grid = complete_grid(latent[:, 1:], split, grid_hw, self.aggregator)
        featmap = grid.transpose(1, 2).reshape(grid.shape[0], -1, *grid_hw)
        return self.pixel_decoder(featmap)
