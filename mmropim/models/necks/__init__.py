from .prmim_decoder import PRMIMDecoder
from .ropim_neck import ROPIMNeck

__all__ = ['PRMIMDecoder', 'ROPIMNeck']
