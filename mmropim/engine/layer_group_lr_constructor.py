import numbers
from typing import List, Optional, Sequence

import torch.nn as nn
from mmengine.model import is_model_wrapper
from mmengine.optim import DefaultOptimWrapperConstructor
from mmpretrain.registry import OPTIM_WRAPPER_CONSTRUCTORS

#: the ``paramwise_cfg`` keys this constructor reads
LAYER_GROUP_PARAMWISE_KEYS = ('layer_group_lr_scales', 'custom_keys')


def check_lr_scales(scales) -> List[float]:
    """``layer_group_lr_scales`` as a list of positive floats.

    Raises:
        ValueError: Not a non-empty sequence of positive numbers.
    """
    if isinstance(scales, (str, bytes)) or not isinstance(
            scales, Sequence) or not scales or not all(
                isinstance(s, numbers.Real) and not isinstance(s, bool)
                and s > 0 for s in scales):
        raise ValueError(
            'paramwise_cfg.layer_group_lr_scales must be a non-empty list '
            'of positive numbers, one per group of blocks from the lowest '
            f'(e.g. [1.5e-5, 1.5e-5, 1.5e-4]), got {scales!r}')
    return [float(s) for s in scales]


def block_group(depth: int, num_blocks: int, num_groups: int) -> int:
    """The group of a parameter at ``depth`` in MMPretrain's
    ``get_layer_depth`` numbering (0: patch embedding, class token, position
    embedding; ``i + 1``: block ``i``; more: everything after the blocks):
    the embeddings join the first group, the blocks split into
    ``num_groups`` equal runs, the rest joins the last group."""
    if depth <= 0:
        return 0
    if depth > num_blocks:
        return num_groups - 1
    return (depth - 1) // (num_blocks // num_groups)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class LayerGroupLrOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """Learning rates per group of blocks, as Layer Grafted Pre-training's
    contrastive stage sets them (its ``--lr_layer_wise``).

    The backbone's blocks split into as many equal runs as
    ``layer_group_lr_scales`` has values, from the lowest; each run's
    parameters get the optimizer's ``lr`` times its value. The patch
    embedding, class token and position embedding join the first run;
    everything after the blocks (the final norm, a shared relative position
    table, the projector, the predictor: any parameter outside the backbone)
    joins the last. 1-D parameters (norms, biases, layer scale, q / v
    biases) are not decayed; every other parameter is, the class token
    included, unless a ``custom_keys`` entry sets its ``decay_mult``.
    Frozen parameters (``requires_grad=False``: the momentum encoder, a
    stopped patch embedding) are left out.

    Args:
        optim_wrapper_cfg (dict): The optimizer wrapper config.
        paramwise_cfg (dict): ``layer_group_lr_scales`` (list of positive
            numbers, required), e.g. ``[1.5e-5, 1.5e-5, 1.5e-4]`` for 12
            blocks: blocks 0-7 at 1.5e-5 * lr, blocks 8-11 and the heads at
            1.5e-4 * lr; the block count must be a multiple of its length.
            ``custom_keys`` (optional): ``{name part: dict(decay_mult=m)}``.
    """

    def __init__(self, optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None) -> None:
        super().__init__(optim_wrapper_cfg, paramwise_cfg)
        unknown = sorted(
            set(self.paramwise_cfg) - set(LAYER_GROUP_PARAMWISE_KEYS))
        if unknown:
            raise KeyError(
                f'paramwise_cfg of {type(self).__name__} takes '
                f'{list(LAYER_GROUP_PARAMWISE_KEYS)}, got {unknown}')
        if 'layer_group_lr_scales' not in self.paramwise_cfg:
            raise KeyError(
                f'{type(self).__name__} needs paramwise_cfg.'
                'layer_group_lr_scales, e.g. [1.5e-5, 1.5e-5, 1.5e-4]')
        self.lr_scales = check_lr_scales(
            self.paramwise_cfg['layer_group_lr_scales'])
        for key, cfg in self.paramwise_cfg.get('custom_keys', {}).items():
            if not isinstance(cfg, dict) or set(cfg) - {'decay_mult'}:
                raise ValueError(
                    f'paramwise_cfg.custom_keys[{key!r}] may set decay_mult '
                    f'only (the groups set the learning rates), got {cfg!r}')

    def add_params(self,
                   params: List[dict],
                   module: nn.Module,
                   prefix: str = '',
                   **kwargs) -> None:
        if is_model_wrapper(module):
            module = module.module
        backbone = getattr(module, 'backbone', None)
        if not hasattr(backbone, 'get_layer_depth') or not hasattr(
                backbone, 'num_layers'):
            raise TypeError(
                f'{type(self).__name__} needs a model whose backbone has '
                f'get_layer_depth and num_layers (a ViT), '
                f'{type(module).__name__}.backbone is '
                f'{type(backbone).__name__}')
        num_blocks, num_groups = backbone.num_layers, len(self.lr_scales)
        if num_blocks % num_groups:
            raise ValueError(
                f'paramwise_cfg.layer_group_lr_scales has {num_groups} '
                f'values but the backbone has {num_blocks} blocks, which do '
                f'not split into {num_groups} equal groups: give a count '
                f'that divides {num_blocks}')
        custom_keys = self.paramwise_cfg.get('custom_keys', {})
        # the longest key first, as MMEngine's constructor matches them
        keys = sorted(sorted(custom_keys), key=len, reverse=True)
        for name, param in module.named_parameters():
            if not param.requires_grad:
                continue
            if name.startswith('backbone.'):
                depth, _ = backbone.get_layer_depth(name, prefix='backbone.')
            else:
                depth = num_blocks + 1  # projector, predictor
            group = block_group(depth, num_blocks, num_groups)
            settings = dict(
                params=[param],
                lr=self.base_lr * self.lr_scales[group],
                lr_group=group,
                param_name=name)
            if self.base_wd is not None:
                key = next((k for k in keys if k in name), None)
                if key is not None:
                    mult = custom_keys[key].get('decay_mult', 1.0)
                else:
                    mult = 0.0 if param.ndim == 1 else 1.0
                settings['weight_decay'] = self.base_wd * mult
            params.append(settings)
