"""Registers the transfer components into MMSegmentation's and MMDetection's
registries when those libraries are installed, so that their configs can use
``type='TransferViT'`` etc. under ``default_scope='mmseg'`` / ``'mmdet'``."""
import importlib

from .engine import BackboneLayerDecayOptimWrapperConstructor
from .models.backbones.transfer_vit import TransferBEiTViT, TransferViT

BACKBONES = (TransferViT, TransferBEiTViT)
CONSTRUCTORS = (BackboneLayerDecayOptimWrapperConstructor, )


def register_downstream() -> list:
    """Register into every installed downstream library.

    Returns:
        list[str]: The libraries registered into.
    """
    registered = []
    for library in ('mmseg', 'mmdet'):
        try:
            registry = importlib.import_module(f'{library}.registry')
        except ImportError:
            continue
        for backbone in BACKBONES:
            registry.MODELS.register_module(module=backbone, force=True)
        for constructor in CONSTRUCTORS:
            registry.OPTIM_WRAPPER_CONSTRUCTORS.register_module(
                module=constructor, force=True)
        registered.append(library)
    return registered
