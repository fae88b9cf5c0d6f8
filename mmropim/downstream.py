"""Importing this module registers the transfer components into
MMSegmentation's and MMDetection's registries (those installed), so that
their configs can use ``type='TransferViT'`` etc. under
``default_scope='mmseg'`` / ``'mmdet'``:
``custom_imports = dict(imports=['mmropim.downstream'])``. ``import
mmropim`` alone does not import MMSeg or MMDet. A name the library already
has for another module is left to the library (with a warning); nothing is
overwritten."""
import importlib

from mmengine.logging import print_log

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
           ('LayerNorm2d', LayerNorm2d),
           ('LN2d', LayerNorm2d)])  # ViTDet's name in MMDet's projects
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
        entries = [(registry.MODELS, name, module)
                   for name, module in MODELS[library]]
        entries += [(registry.OPTIM_WRAPPER_CONSTRUCTORS, module.__name__,
                     module) for module in CONSTRUCTORS]
        for target, name, module in entries:
            register_if_absent(target, name, module)
        registered.append(library)
    return registered


def register_if_absent(registry, name: str, module) -> bool:
    """Register ``module`` as ``name`` unless the registry already has that
    name (for this module, or for its own one, which is kept).

    Returns:
        bool: Whether ``module`` is now what the registry finds by ``name``.
    """
    existing = registry.module_dict.get(name)
    if existing is None:
        registry.register_module(name=name, module=module)
        return True
    if existing is not module:
        print_log(
            f'{registry.scope}.{registry.name} already has {name} '
            f'({existing.__module__}); mmropim\'s {module.__module__}.'
            f'{module.__qualname__} is not registered under that name there',
            logger='current', level=30)
        return False
    return True


register_downstream()
