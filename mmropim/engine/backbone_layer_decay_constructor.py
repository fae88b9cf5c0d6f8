from typing import Callable, List, Optional

import torch.nn as nn
from mmpretrain.engine.optimizers import \
    LearningRateDecayOptimWrapperConstructor
from mmpretrain.registry import OPTIM_WRAPPER_CONSTRUCTORS


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class BackboneLayerDecayOptimWrapperConstructor(
        LearningRateDecayOptimWrapperConstructor):
    """Layer-wise learning-rate decay for any model whose ``backbone`` has
    ``get_layer_depth`` (MMPretrain's ViTs and ours), e.g. MMSeg's
    ``EncoderDecoder`` or MMDet's ``MaskRCNN``.

    MMPretrain's constructor needs ``get_layer_depth`` on the model itself,
    MMSeg's only accepts backbones named BEiT, MAE or ConvNeXt. Parameters
    outside the backbone (neck, heads) get the last depth, i.e. the full
    learning rate. Options are MMPretrain's: ``paramwise_cfg=dict(
    layer_decay_rate=0.65, custom_keys=...)``.
    """

    def add_params(self,
                   params: List[dict],
                   module: nn.Module,
                   prefix: str = '',
                   get_layer_depth: Optional[Callable] = None,
                   **kwargs) -> None:
        if get_layer_depth is None and not hasattr(module, 'get_layer_depth'):
            backbone = getattr(module, 'backbone', None)
            if not hasattr(backbone, 'get_layer_depth'):
                raise TypeError(
                    f'layer-wise lr decay needs a backbone with '
                    f'get_layer_depth, {type(module).__name__}.backbone is '
                    f'{type(backbone).__name__}')

            def get_layer_depth(name):
                return backbone.get_layer_depth(name, prefix='backbone.')

        super().add_params(
            params, module, prefix=prefix, get_layer_depth=get_layer_depth)
