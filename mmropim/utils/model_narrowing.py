"""Narrow copies of model configs: every channel width and attention head
count divided, depths optionally capped, for checks and timings of the
full-size configs on small machines.

This module imports nothing of mmropim, so that a check of what
``import mmropim`` changes can load it on its own.
"""
import copy
from typing import Iterator, Optional

from mmengine.config import ConfigDict

# Config keys that hold a channel width (and only a width).
WIDTH_KEYS = frozenset({
    'embed_dims', 'embed_dim', 'decoder_embed_dim', 'in_channels',
    'channels', 'out_channels', 'feat_channels', 'fc_out_channels',
    'conv_out_channels', 'feedforward_channels',
    'input_features'  # ClsBatchNormNeck's (the linear probe's)
})
# Attention head counts, divided with the widths (the head dimension stays
# as shipped): the (B, heads, T, T) attention maps do not shrink with width.
HEAD_KEYS = frozenset({'num_heads', 'decoder_num_heads'})
# Widths below this are image channels or class counts, never divided.
MIN_WIDTH_TO_DIVIDE = 64


def _divide(width: int, divisor: int) -> int:
    if width < MIN_WIDTH_TO_DIVIDE:
        return width
    if width % divisor:
        raise ValueError(f'width {width} is not divisible by the width '
                         f'divisor {divisor}')
    return width // divisor


def _expand_arch(node: dict) -> None:
    """Replace a named ViT ``arch`` (e.g. ``'b'``) by its settings dict, so
    that its widths can be divided."""
    from mmpretrain.registry import MODELS
    arch = node.get('arch')
    if not isinstance(arch, str):
        return
    cls = MODELS.get(node['type'])
    zoo = getattr(cls, 'arch_zoo', None)
    if zoo is None or arch.lower() not in zoo:
        raise KeyError(f'cannot expand arch={arch!r} of {node["type"]}')
    settings = dict(zoo[arch.lower()])
    settings.pop('_delete_', None)
    node['arch'] = ConfigDict(settings)


def iter_dicts(node) -> Iterator[dict]:
    """Every dict in a nested config (``node`` itself included), parents
    before children."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from iter_dicts(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from iter_dicts(value)


def without_stochastic_depth(model_cfg: dict) -> ConfigDict:
    """A copy of a model config with every ``drop_path_rate`` set to 0.

    Stochastic depth drops a residual branch per sample; at a per-GPU batch
    of 2 a branch is now and then dropped for every sample of every audited
    iteration, and its parameters get an all-zero gradient by chance.
    """
    model_cfg = copy.deepcopy(ConfigDict(model_cfg))
    for node in iter_dicts(model_cfg):
        if 'drop_path_rate' in node:
            node['drop_path_rate'] = 0.
    return model_cfg


def narrow_model(model_cfg: dict,
                 width_divisor: int = 16,
                 max_depth: Optional[int] = None) -> ConfigDict:
    """A copy of a model config with every channel width and attention head
    count divided (at least one head).

    Head dimensions, patch sizes, token counts and all other settings are
    kept, and so are depths unless ``max_depth`` is given. Named ViT
    architectures are expanded into their settings first. The backbone's
    ``init_cfg`` of type ``Pretrained`` is dropped (there is no checkpoint of
    the narrow model).

    Args:
        model_cfg (dict): The ``model`` field of a config.
        width_divisor (int): Divisor of every width >= 64. Defaults to 16.
        max_depth (int, optional): Cap on encoder and decoder depths
            (``num_layers``, ``decoder_depth``); ``out_indices`` and
            ``frozen_stages`` are clipped to it. None keeps the depths.

    Returns:
        ConfigDict: The narrow model config.
    """
    if width_divisor < 1:
        raise ValueError(f'width_divisor must be >= 1, got {width_divisor}')
    model_cfg = copy.deepcopy(ConfigDict(model_cfg))

    def shallow(node):
        if max_depth is None:
            return
        depth = max_depth
        if isinstance(node.get('arch'), dict):
            depth = min(node['arch']['num_layers'], max_depth)
            node['arch']['num_layers'] = depth
        if 'decoder_depth' in node:
            node['decoder_depth'] = min(node['decoder_depth'], max_depth)
        indices = node.get('out_indices')
        if isinstance(indices, (list, tuple)):
            node['out_indices'] = sorted({min(i, depth - 1) for i in indices})
        frozen = node.get('frozen_stages')
        if isinstance(frozen, int) and frozen > depth:  # all of them
            node['frozen_stages'] = depth

    def visit(node):
        if isinstance(node, dict):
            if 'type' in node and 'arch' in node:
                _expand_arch(node)
            shallow(node)
            for key, value in node.items():
                if key in WIDTH_KEYS and isinstance(value, int):
                    node[key] = _divide(value, width_divisor)
                elif key in HEAD_KEYS and isinstance(value, int):
                    node[key] = max(1, value // width_divisor)
                elif key in WIDTH_KEYS and isinstance(value, (list, tuple)) \
                        and all(isinstance(v, int) for v in value):
                    node[key] = type(value)(
                        _divide(v, width_divisor) for v in value)
                else:
                    visit(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                visit(value)

    visit(model_cfg)
    backbone = model_cfg.get('backbone', {})
    init_cfg = backbone.get('init_cfg')
    if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
        backbone['init_cfg'] = None
    return model_cfg
