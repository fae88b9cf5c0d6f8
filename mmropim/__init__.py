"""mmropim: ROPIM and PR-MIM pre-training for MMPretrain.

Importing this package registers its components into MMPretrain's
registries and imports neither MMSeg nor MMDet; ``import mmropim.downstream``
(``custom_imports=dict(imports=['mmropim.downstream'])`` in an MMSeg / MMDet
config) registers the transfer components into theirs, never replacing a
name they already have. Nothing of those libraries or of MMEngine is
changed: the
safe checkpoint loader is installed by our tools
(:func:`mmropim.utils.install_safe_checkpoint_loader`), and the SciPy >= 1.14
fix applies to our backbones only (:mod:`mmropim.utils.scipy_compat`).
"""
from . import datasets, engine, models, visualization  # noqa: F401
from .version import __version__

__all__ = ['__version__']
