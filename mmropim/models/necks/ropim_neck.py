import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS

from ...utils import check_positive_int


@MODELS.register_module()
class ROPIMNeck(BaseModule):
    """ROPIM's linear decoder: a 1x1 convolution to ``p * p * out_channels``
    channels followed by a pixel shuffle, giving a full-resolution image.

    Args:
        in_channels (int): Channels of the encoder feature map.
        patch_size (int): Patch size p of the encoder (its total stride).
        out_channels (int): Channels of the reconstructed image.
            Defaults to 3.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 patch_size: int,
                 out_channels: int = 3,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        check_positive_int(in_channels, 'in_channels')
        check_positive_int(patch_size, 'patch_size')
        check_positive_int(out_channels, 'out_channels')
        self.decoder = nn.Sequential(
            nn.Conv2d(in_channels, patch_size**2 * out_channels, 1),
            nn.PixelShuffle(patch_size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Decode a feature map into pixels.

        Args:
            x (torch.Tensor): Feature map of shape (B, C, H / p, W / p).

        Returns:
            torch.Tensor: Reconstruction of shape (B, out_channels, H, W).
        """
        return self.decoder(x)
