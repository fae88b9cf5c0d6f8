from typing import Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from ...utils import check_positive_int


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of a (B, C, H, W) map (ViTDet's LN2d).

    Args:
        normalized_shape (int): The channels C.
        eps (float): ViTDet's 1e-6 by default (``nn.LayerNorm``'s is 1e-5;
            configs that build it through ``norm_cfg`` give it, as MMCV's
            ``build_norm_layer`` fills in 1e-5).
        **kwargs: Other arguments of ``nn.LayerNorm``.
    """

    def __init__(self, normalized_shape, eps: float = 1e-6, **kwargs) -> None:
        super().__init__(normalized_shape, eps=eps, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


def conv_ln(in_channels: int, out_channels: int, kernel_size: int):
    """Convolution without bias followed by LayerNorm2d."""
    return nn.Sequential(
        nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            padding=kernel_size // 2,
            bias=False), LayerNorm2d(out_channels))


class SimpleFeaturePyramid(BaseModule):
    """ViTDet's simple feature pyramid: multi-scale maps from the single
    stride-p map of a plain ViT (MMDetection's pip package does not ship
    ``projects/ViTDet``).

    Scale 4: two stride-2 transposed convolutions (LN2d + GELU between);
    scale 2: one; scale 1: identity; scale 0.5: 2x2 max pooling. Each level
    then gets a 1x1 and a 3x3 convolution with LN2d to ``out_channels``, and
    a last level is max-pooled from the coarsest one (for the RPN).

    Args:
        in_channels (int): Channels of the ViT map.
        out_channels (int): Channels of every output level. Defaults to 256.
        scale_factors (Sequence[float]): A non-empty sequence of 4, 2, 1
            and 0.5. Defaults to (4.0, 2.0, 1.0, 0.5).
        add_pooled_level (bool): Add the max-pooled extra level. Defaults to
            True.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int = 256,
                 scale_factors: Sequence[float] = (4.0, 2.0, 1.0, 0.5),
                 add_pooled_level: bool = True,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        check_positive_int(in_channels, 'in_channels')
        check_positive_int(out_channels, 'out_channels')
        if not isinstance(scale_factors, Sequence) or not scale_factors:
            raise ValueError(f'scale_factors must be a non-empty sequence of '
                             f'4, 2, 1 and 0.5, got {scale_factors!r}')
        for scale in scale_factors:
            if scale in (4.0, 2.0) and in_channels < scale:
                raise ValueError(
                    f'in_channels={in_channels} is too small for scale '
                    f'factor {scale}: its upsampling halves the channels at '
                    f'every 2x step; use in_channels >= {int(scale)}')
        self.add_pooled_level = add_pooled_level
        self.stages = nn.ModuleList()
        for scale in scale_factors:
            if scale == 4.0:
                resample = nn.Sequential(
                    nn.ConvTranspose2d(in_channels, in_channels // 2, 2, 2),
                    LayerNorm2d(in_channels // 2), nn.GELU(),
                    nn.ConvTranspose2d(in_channels // 2, in_channels // 4, 2,
                                       2))
                channels = in_channels // 4
            elif scale == 2.0:
                resample = nn.ConvTranspose2d(in_channels, in_channels // 2,
                                              2, 2)
                channels = in_channels // 2
            elif scale == 1.0:
                resample, channels = nn.Identity(), in_channels
            elif scale == 0.5:
                resample, channels = nn.MaxPool2d(2, 2), in_channels
            else:
                raise ValueError(f'scale factors must be among 4, 2, 1 and '
                                 f'0.5, got {scale}')
            self.stages.append(
                nn.Sequential(resample, conv_ln(channels, out_channels, 1),
                              conv_ln(out_channels, out_channels, 3)))

    def forward(self, inputs: Tuple[torch.Tensor, ...]) -> tuple:
        """Build the pyramid from the last backbone map.

        Args:
            inputs (tuple[torch.Tensor]): Backbone maps; the last one,
                (B, C, H/p, W/p), is used.

        Returns:
            tuple[torch.Tensor]: One map per scale factor, finest first,
            plus the pooled level.
        """
        x = inputs[-1]
        outs = [stage(x) for stage in self.stages]
        if self.add_pooled_level:
            outs.append(F.max_pool2d(outs[-1], kernel_size=1, stride=2))
        return tuple(outs)
