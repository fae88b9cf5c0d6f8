"""mmropim: ROPIM and PR-MIM pre-training for MMPretrain.

Importing this package registers every component into MMPretrain's
registries and installs the checkpoint loader of
:mod:`mmropim.utils.checkpoint_compat`.
"""
from .version import __version__
from . import datasets, models  # noqa: F401  (registers the components)
from .utils import install_checkpoint_loader

install_checkpoint_loader()

__all__ = ['__version__']
