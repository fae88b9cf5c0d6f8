from .ropim_neck import ROPIMNeck

__all__ = ['ROPIMNeck']
