from .backbone_layer_decay_constructor import \
    BackboneLayerDecayOptimWrapperConstructor
from .hooks import (AtomicLocalBackend, FiniteLossHook,
                    PretrainedWeightsCheckHook, SafeCheckpointHook)
from .layer_group_lr_constructor import LayerGroupLrOptimWrapperConstructor

__all__ = [
    'BackboneLayerDecayOptimWrapperConstructor', 'AtomicLocalBackend',
    'FiniteLossHook', 'LayerGroupLrOptimWrapperConstructor',
    'PretrainedWeightsCheckHook', 'SafeCheckpointHook'
]
