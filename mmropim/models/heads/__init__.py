from .prmim_head import PRMIMHead
from .ropim_head import ROPIMHead, patchify

__all__ = ['PRMIMHead', 'ROPIMHead', 'patchify']
