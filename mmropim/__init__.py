"""mmropim: ROPIM and PR-MIM pre-training for MMPretrain.

Importing this package registers every component into MMPretrain's
registries (and MMSeg's / MMDet's when installed), installs the checkpoint
loader of :mod:`mmropim.utils.checkpoint_compat` and the SciPy >= 1.14 fix of
:mod:`mmropim.utils.scipy_compat`.
"""
from .version import __version__
from . import datasets, engine, models  # noqa: F401  (registers them)
from .downstream import register_downstream
from .utils import install_checkpoint_loader, install_interp2d_replacement

install_checkpoint_loader()
install_interp2d_replacement()
register_downstream()

__all__ = ['__version__']
