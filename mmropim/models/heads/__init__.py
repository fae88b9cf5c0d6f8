from .prmim_head import PRMIMHead
from .ropim_head import ROPIMHead

__all__ = ['PRMIMHead', 'ROPIMHead']
