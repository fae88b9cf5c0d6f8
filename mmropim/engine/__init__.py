from .backbone_layer_decay_constructor import \
    BackboneLayerDecayOptimWrapperConstructor
from .hooks import FiniteLossHook, PlainCheckpointHook

__all__ = ['BackboneLayerDecayOptimWrapperConstructor', 'FiniteLossHook',
           'PlainCheckpointHook']
