from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS

from ...utils import check_positive_int
from .token_grid import TokenSplit, gather_tokens, scatter_to_grid


@MODELS.register_module()
class SpatialAggregator(BaseModule):
    """PR-MIM's spatial aggregator: one depth-wise convolution over the token
    grid, which rebuilds thrown tokens from their decoded neighbours.

    Its cost is negligible: 2 * k * k * C * N multiply-adds (0.02 GFLOPs for
    k = 7, C = 512, a 14 x 14 grid), against about 0.4 GFLOPs for a ConvNeXt
    block.

    Args:
        channels (int): Token channels C.
        kernel_size (int): Odd kernel side k. Defaults to 7 (the best of the
            paper's five sizes).
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, channels: int, kernel_size: int = 7,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        check_positive_int(channels, 'channels')
        if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) \
                or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f'kernel_size must be a positive odd integer '
                             f'(the grid keeps its size), got {kernel_size!r}')
        self.kernel_size = kernel_size
        self.conv = nn.Conv2d(
            channels,
            channels,
            kernel_size,
            padding=kernel_size // 2,
            groups=channels)

    def forward(self, tokens: torch.Tensor,
                grid_hw: Tuple[int, int]) -> torch.Tensor:
        """Aggregate every token from its k x k neighbourhood.

        Args:
            tokens (torch.Tensor): (B, N, C) tokens in raster order, N = h*w,
                zeros where nothing was decoded.
            grid_hw (tuple[int, int]): The grid (h, w).

        Returns:
            torch.Tensor: (B, N, C).
        """
        b, n, c = tokens.shape
        grid = tokens.transpose(1, 2).reshape(b, c, *grid_hw)
        return self.conv(grid).flatten(2).transpose(1, 2)


def build_aggregator(cfg: Optional[dict],
                     channels: int) -> Optional[SpatialAggregator]:
    """Build an aggregator from its config, ``channels`` by default.

    Args:
        cfg (dict, optional): Config; None means no aggregator.
        channels (int): Token channels, unless the config says otherwise.

    Returns:
        SpatialAggregator | None
    """
    if cfg is None:
        return None
    cfg = dict(cfg)
    cfg.setdefault('channels', channels)
    return MODELS.build(cfg)


def complete_grid(decoded: torch.Tensor, split: TokenSplit,
                  grid_hw: Tuple[int, int],
                  aggregator: Optional[SpatialAggregator]) -> torch.Tensor:
    """Put decoded tokens on the grid and rebuild the thrown ones.

    Only the thrown positions are taken from the aggregator; decoded tokens
    are kept as they are. Without an aggregator thrown positions stay zero
    (plain partial reconstruction). A training aggregator with nothing to
    rebuild is an error (its parameters would get no gradient).

    Args:
        decoded (torch.Tensor): (B, Nv + Nr, C) tokens in
            ``split.ids_decoded`` order (no class token).
        split (TokenSplit): Visible / retained / thrown indices.
        grid_hw (tuple[int, int]): Token grid (h, w).
        aggregator (SpatialAggregator, optional): Rebuilds thrown tokens.

    Returns:
        torch.Tensor: (B, N, C) tokens in raster order.
    """
    num_tokens = grid_hw[0] * grid_hw[1]
    grid = scatter_to_grid(decoded, split.ids_decoded, num_tokens)
    nothing_thrown = split.ids_thrown.shape[1] == 0
    if aggregator is not None and nothing_thrown and aggregator.training:
        raise ValueError(
            'the batch has no thrown tokens (throw_ratio=0) but an aggregator '
            'is configured: its parameters would get no gradient, which '
            'distributed training rejects (find_unused_parameters=False). Set '
            'aggregator=None: with nothing thrown, PR-MIM is exactly MAE '
            '(SimMIM).')
    if aggregator is None or nothing_thrown:
        return grid
    thrown = gather_tokens(aggregator(grid, grid_hw), split.ids_thrown)
    return grid + scatter_to_grid(thrown, split.ids_thrown, num_tokens)
