from .backbone_layer_decay_constructor import \
    BackboneLayerDecayOptimWrapperConstructor
from .hooks import (AtomicLocalBackend, FiniteLossHook,
                    PretrainedWeightsCheckHook, SafeCheckpointHook)

__all__ = [
    'BackboneLayerDecayOptimWrapperConstructor', 'AtomicLocalBackend',
    'FiniteLossHook', 'PretrainedWeightsCheckHook', 'SafeCheckpointHook'
]
