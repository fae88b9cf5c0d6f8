import copy
from typing import Optional

import torch.nn as nn
from mmpretrain.models.necks import SimMIMLinearDecoder
from mmpretrain.registry import MODELS

from ...utils import check_positive_int


@MODELS.register_module()
class PixelShuffleDecoder(SimMIMLinearDecoder):
    """MMPretrain's ``SimMIMLinearDecoder`` (a 1x1 convolution to ``p * p *
    in_chans`` channels and a pixel shuffle) for any number of image
    channels; with 3 it is that module, weight names included. ROPIM's
    linear decoder for grayscale (1) or RGBA (4) images.

    Args:
        in_channels (int): Channels of the encoder feature map.
        encoder_stride (int): Patch size p (the encoder's total stride).
        in_chans (int): Image channels to reconstruct. Defaults to 3.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 encoder_stride: int,
                 in_chans: int = 3,
                 init_cfg: Optional[dict] = None) -> None:
        check_positive_int(in_channels, 'in_channels')
        check_positive_int(encoder_stride, 'encoder_stride')
        check_positive_int(in_chans, 'in_chans')
        super().__init__(in_channels, encoder_stride)
        self.init_cfg = copy.deepcopy(init_cfg)
        if in_chans != 3:
            self.decoder[0] = nn.Conv2d(in_channels,
                                        encoder_stride**2 * in_chans, 1)
        self.in_chans = in_chans


def reconstructed_channels(decoder: SimMIMLinearDecoder) -> int:
    """The image channels MMPretrain's ``SimMIMLinearDecoder`` or a subclass
    (:class:`PixelShuffleDecoder`, a user's) reconstructs: the outputs of
    its 1x1 convolution over the ``p * p`` pixels of the shuffle.

    Args:
        decoder (SimMIMLinearDecoder): The decoder.

    Returns:
        int: Channels of the reconstructed image.
    """
    convolution, shuffle = decoder.decoder[0], decoder.decoder[1]
    return convolution.out_channels // shuffle.upscale_factor**2
