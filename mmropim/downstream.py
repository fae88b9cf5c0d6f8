"""Registers the transfer components into MMSegmentation's and MMDetection's
registries when those libraries are installed, so that their configs can use
``type='TransferViT'`` etc. under ``default_scope='mmseg'`` / ``'mmdet'``."""
import importlib

from .engine import BackboneLayerDecayOptimWrapperConstructor
from .models.backbones.transfer_vit import TransferBEiTViT, TransferViT
from .models.necks.simple_feature_pyramid import (LayerNorm2d,
                                                  SimpleFeaturePyramid)

# library -> (name, module) pairs for its MODELS registry
MODELS = dict(
    mmseg=[('TransferViT', TransferViT),
           ('TransferBEiTViT', TransferBEiTViT)],
    mmdet=[('TransferViT', TransferViT), ('TransferBEiTViT', TransferBEiTViT),
           ('SimpleFeaturePyramid', SimpleFeaturePyramid),
           ('LN2d', LayerNorm2d)])
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
        for name, module in MODELS[library]:
            registry.MODELS.register_module(
                name=name, module=module, force=True)
        for constructor in CONSTRUCTORS:
            registry.OPTIM_WRAPPER_CONSTRUCTORS.register_module(
                module=constructor, force=True)
        registered.append(library)
    return registered
