import numbers
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

    Args:
        optim_wrapper_cfg (dict): The optimizer wrapper config.
        paramwise_cfg (dict, optional): ``layer_decay_rate`` in (0, 1]
            (defaults to 1: no decay); ``custom_keys`` may set
            ``decay_mult`` but not ``lr_mult``, which MMPretrain's
            constructor ignores.
    """

    def __init__(self,
                 optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None) -> None:
        super().__init__(optim_wrapper_cfg, paramwise_cfg)
        rate = self.paramwise_cfg.get('layer_decay_rate', 1.0)
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) \
                or not 0.0 < rate <= 1.0:
            raise ValueError(
                'paramwise_cfg.layer_decay_rate must be a number in (0, 1] '
                f'(1: no decay), got {rate!r}')
        for key, cfg in self.paramwise_cfg.get('custom_keys', {}).items():
            if 'lr_mult' in cfg:
                raise ValueError(
                    f'paramwise_cfg.custom_keys[{key!r}] sets lr_mult, which '
                    'layer-wise lr decay ignores (layer_decay_rate sets the '
                    'learning rates): drop it')

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
