from .prmim_decoder import PRMIMDecoder
from .prmim_linear_decoder import PRMIMLinearDecoder
from .ropim_neck import PixelShuffleDecoder

__all__ = ['PRMIMDecoder', 'PRMIMLinearDecoder', 'PixelShuffleDecoder']
