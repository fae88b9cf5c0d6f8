from .ropim_head import ROPIMHead, patchify

__all__ = ['ROPIMHead', 'patchify']
