from .backbone_layer_decay_constructor import \
    BackboneLayerDecayOptimWrapperConstructor
from .hooks import AtomicLocalBackend, FiniteLossHook, SafeCheckpointHook

__all__ = [
    'BackboneLayerDecayOptimWrapperConstructor', 'AtomicLocalBackend',
    'FiniteLossHook', 'SafeCheckpointHook'
]
