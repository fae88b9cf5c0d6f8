"""Importing this module installs mmropim's safe checkpoint loader into
MMEngine (:func:`mmropim.utils.install_safe_checkpoint_loader`): an
explicit opt-in for tools that are not ours, e.g. MMSeg's or MMDet's
``tools/train.py`` running our downstream configs, which name it in their
``custom_imports``. Every checkpoint MMEngine loads afterwards
(``load_from``, ``--resume``, ``init_cfg=dict(type='Pretrained')``, any
scheme) goes through ``torch.load(weights_only=True)``; no file is
trusted (those tools have no ``--trust-checkpoint``).

``import mmropim`` does not import this module.
"""
from .checkpoint_compat import install_safe_checkpoint_loader

install_safe_checkpoint_loader()
