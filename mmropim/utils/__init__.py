from .checkpoint_compat import install_checkpoint_loader, load_local_checkpoint

__all__ = ['install_checkpoint_loader', 'load_local_checkpoint']
