"""The optim wrapper, its optimizer and ``paramwise_cfg`` (custom keys)."""
import inspect
from typing import Mapping, Optional

from .base import (ConfigKeyError, ConfigValueError, _registered_class, _short,
                   check_arguments, close_matches, init_arguments,
                   refuse_unknown_arguments, typo_of)

# the keys of paramwise_cfg that MMEngine's DefaultOptimWrapperConstructor
# reads, and those MMPretrain's LearningRateDecayOptimWrapperConstructor
# (and our BackboneLayerDecayOptimWrapperConstructor) reads
DEFAULT_PARAMWISE_KEYS = ('custom_keys', 'bias_lr_mult', 'bias_decay_mult',
                          'norm_decay_mult', 'dwconv_decay_mult',
                          'flat_decay_mult', 'dcn_offset_lr_mult',
                          'bypass_duplicate')


LAYER_DECAY_PARAMWISE_KEYS = ('custom_keys', 'bias_decay_mult',
                              'norm_decay_mult', 'flat_decay_mult',
                              'layer_decay_rate')


# what those constructors read of a ``custom_keys`` entry themselves; they
# copy the rest into its parameter groups, where the optimizer reads its
# own arguments (``betas``) and other code its own keys (MMPretrain's LARS:
# ``lars_exclude``, its SimSiamHook: ``fix_lr``)
DEFAULT_CUSTOM_KEY_SETTINGS = ('lr_mult', 'decay_mult')


LAYER_DECAY_CUSTOM_KEY_SETTINGS = ('decay_mult', )


# what layer-wise lr decay sets in every group after a custom key's
# settings are copied there (MMPretrain's constructor ignores lr_mult)
LAYER_DECAY_IGNORED_SETTINGS = ('lr_mult', 'lr')


# custom_keys of MMPretrain's, MMSeg's and MMDet's shipped configs that name
# parameters only some models have (a BEiT has no pos_embed): they may match
# no parameter of a model they are mixed with (also with a leading '.' or
# 'backbone.')
STOCK_CUSTOM_KEYS = ('pos_embed', 'absolute_pos_embed', 'cls_token',
                     'dist_token', 'mask_token',
                     'relative_position_bias_table', 'rel_pos_h',
                     'rel_pos_w', 'q_bias', 'v_bias', 'gamma', 'ln', 'norm',
                     'bn', 'bias', 'pos_block', 'query_embed', 'level_embed')


def _optimizer_configs(node) -> list:
    """Every ``optimizer`` dict inside an optim_wrapper config (one, or one
    per wrapper of an ``OptimWrapperDict``)."""
    found = []
    if isinstance(node, Mapping):
        if isinstance(node.get('optimizer'), Mapping):
            found.append(node['optimizer'])
        for value in node.values():
            found += _optimizer_configs(value)
    return found


def paramwise_keys_read(optim_wrapper: Mapping,
                        scope: Optional[str] = 'mmpretrain'):
    """The ``paramwise_cfg`` keys the optim wrapper's constructor reads:
    those of MMEngine's default constructor or of MMPretrain's layer-decay
    ones; None for another constructor, which reads its own.

    Args:
        optim_wrapper (Mapping): The ``optim_wrapper`` config.
        scope (str, optional): The config's default scope. Defaults to
            'mmpretrain'.
    """
    from mmengine.optim import DefaultOptimWrapperConstructor
    from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS
    from mmpretrain.engine.optimizers import \
        LearningRateDecayOptimWrapperConstructor

    from ...engine.backbone_layer_decay_constructor import \
        BackboneLayerDecayOptimWrapperConstructor
    constructor = _registered_class(
        OPTIM_WRAPPER_CONSTRUCTORS,
        optim_wrapper.get('constructor', 'DefaultOptimWrapperConstructor'),
        scope)
    if constructor is DefaultOptimWrapperConstructor:
        return DEFAULT_PARAMWISE_KEYS
    if constructor in (LearningRateDecayOptimWrapperConstructor,
                       BackboneLayerDecayOptimWrapperConstructor):
        return LAYER_DECAY_PARAMWISE_KEYS
    return None


def _optimizer_class(optimizer: Mapping, scope: Optional[str]):
    """The optimizer class an ``optimizer`` config names; None if it names
    none (or is not a dict)."""
    from mmengine.registry import OPTIMIZERS
    if not isinstance(optimizer, Mapping):
        return None
    return _registered_class(OPTIMIZERS, optimizer.get('type'),
                             optimizer.get('_scope_', scope))


def check_custom_key_settings(optim_wrapper: Mapping, constructor: str,
                              layer_decay: bool,
                              scope: Optional[str] = 'mmpretrain') -> None:
    """Refuse a setting of a ``paramwise_cfg.custom_keys`` entry that looks
    like a misspelt one that is read (``decay_mul``): MMEngine's
    constructor reads ``lr_mult`` and ``decay_mult`` (MMPretrain's
    layer-decay ones ``decay_mult``) and copies the rest into the parameter
    groups, where nothing reads a typo, so it would be ignored, silently.
    Other settings pass: the optimizer's own arguments and keys that other
    code reads in the groups (see :data:`DEFAULT_CUSTOM_KEY_SETTINGS`).
    With layer decay, ``lr_mult`` and ``lr`` are refused: it sets every
    group's learning rate itself.

    Args:
        optim_wrapper (Mapping): The ``optim_wrapper`` config.
        constructor (str): Its constructor's name, for the message.
        layer_decay (bool): Whether the constructor is a layer-decay one.
        scope (str, optional): The config's default scope. Defaults to
            'mmpretrain'.

    Raises:
        ConfigKeyError: Naming the custom key, the setting and the close
            settings that are read.
    """
    custom_keys = (optim_wrapper.get('paramwise_cfg') or {}).get(
        'custom_keys')
    if not isinstance(custom_keys, Mapping):
        return
    own = LAYER_DECAY_CUSTOM_KEY_SETTINGS if layer_decay else \
        DEFAULT_CUSTOM_KEY_SETTINGS
    optimizer_class = _optimizer_class(optim_wrapper.get('optimizer'), scope)
    arguments = init_arguments(optimizer_class) if inspect.isclass(
        optimizer_class) else None
    if arguments:  # the first is the parameters
        first = next(iter(inspect.signature(optimizer_class).parameters))
        arguments = [name for name in arguments if name != first]
    known = list(own) + [name for name in arguments or [] if not (
        layer_decay and name in LAYER_DECAY_IGNORED_SETTINGS)]
    section = 'optim_wrapper.paramwise_cfg.custom_keys'
    for key, settings in custom_keys.items():
        if not isinstance(settings, Mapping):
            continue
        for name in settings:
            if layer_decay and name in LAYER_DECAY_IGNORED_SETTINGS:
                raise ConfigKeyError(
                    f'{section}[{key!r}] sets {name!r}, which {constructor} '
                    'ignores: layer-wise lr decay (paramwise_cfg.'
                    'layer_decay_rate) sets the learning rate of every '
                    'parameter group itself, so it would be ignored, '
                    'silently; drop it (a custom key may set decay_mult)')
            if name in known or str(name).startswith('_'):
                continue
            close = [k for k in known if typo_of(name, k)] or \
                close_matches(name, known)
            if not close:
                continue  # copied into the group, for code that reads it
            optimizer = f'{optimizer_class.__name__}\'s arguments' if \
                arguments else 'the optimizer\'s arguments'
            raise ConfigKeyError(
                f'{section}[{key!r}] sets {name!r}, which nothing reads '
                f'({constructor} reads {" and ".join(map(repr, own))} of a '
                f'custom key and copies the rest into its parameter groups, '
                f'where {optimizer} are read): it would be ignored, '
                f'silently; did you mean {" or ".join(map(repr, close))}?')


def _is_stock_custom_key(key: str) -> bool:
    """Whether a custom key is one of :data:`STOCK_CUSTOM_KEYS`, with or
    without a leading '.' or 'backbone.'."""
    name = key.strip('.')
    if name.startswith('backbone.'):
        name = name[len('backbone.'):]
    return name.strip('.') in STOCK_CUSTOM_KEYS


def check_custom_keys(model, optim_wrapper: Mapping,
                      scope: Optional[str] = 'mmpretrain') -> None:
    """Refuse a key of ``optim_wrapper.paramwise_cfg.custom_keys`` that is
    in no parameter's name: MMEngine's and MMPretrain's constructors apply
    a custom key to the parameters whose names hold it, so its settings
    would apply to nothing, silently. Stock keys
    (:data:`STOCK_CUSTOM_KEYS`) may match nothing; other constructors'
    ``paramwise_cfg`` (see :func:`paramwise_keys_read`) is not checked.

    Args:
        model (nn.Module): The built model (not wrapped).
        optim_wrapper (Mapping): The ``optim_wrapper`` config.
        scope (str, optional): The config's default scope. Defaults to
            'mmpretrain'.

    Raises:
        ConfigKeyError: Naming the key and the close parameter names.
    """
    if not isinstance(optim_wrapper, Mapping):
        return
    paramwise_cfg = optim_wrapper.get('paramwise_cfg')
    custom_keys = paramwise_cfg.get('custom_keys') if isinstance(
        paramwise_cfg, Mapping) else None
    if not isinstance(custom_keys, Mapping) or paramwise_keys_read(
            optim_wrapper, scope) is None:
        return
    names = [name for name, _ in model.named_parameters(
        remove_duplicate=False)]
    # MMEngine's constructor names a parameter of the model itself '.name'
    matched = names + ['.' + name for name in names if '.' not in name]
    for key in custom_keys:
        if any(key in name for name in matched) or _is_stock_custom_key(key):
            continue
        parts = set()
        for name in names:
            segments = name.split('.')
            parts |= {'.'.join(segments[i:j])
                      for i in range(len(segments))
                      for j in range(i + 1, min(i + 4, len(segments)) + 1)}
        close = close_matches(key.strip('.'), sorted(parts))
        hint = 'did you mean ' + ' or '.join(
            f'{part!r} (e.g. {next(n for n in names if part in n)})'
            for part in close) + '? ' if close else ''
        raise ConfigKeyError(
            f'optim_wrapper.paramwise_cfg.custom_keys sets {key!r}, which is '
            f'in the name of no parameter of {type(model).__name__} (a custom '
            'key applies to the parameters whose names hold it): its '
            f'settings {_short(custom_keys[key])} would apply to nothing, '
            f'silently; {hint}the model has {len(names)} parameters, e.g. '
            f'{", ".join(names[:3])}')


def check_optim_wrapper_arguments(cfg: Mapping) -> None:
    """Refuse arguments that ``optim_wrapper`` (``OptimWrapper``,
    ``AmpOptimWrapper``), its ``optimizer`` (torch's and MMPretrain's
    optimizers) or its ``clip_grad`` (torch's ``clip_grad_norm_`` or
    ``clip_grad_value_``, by ``type``) would not take, when the
    constructor is MMEngine's default one or a subclass building as it
    does (MMPretrain's, MMSeg's and MMDet's layer-decay ones).

    Args:
        cfg (Mapping): The run config.

    Raises:
        ConfigKeyError: See :func:`refuse_unknown_arguments`; also a
            ``clip_grad`` lacking an argument its function needs.
        ConfigValueError: A ``clip_grad`` type other than 'norm' or
            'value'.
    """
    import torch
    from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
    from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS
    optim_wrapper = cfg.get('optim_wrapper')
    if not isinstance(optim_wrapper, Mapping) or \
            'optimizer' not in optim_wrapper:
        return
    scope = cfg.get('default_scope', 'mmpretrain')
    constructor = _registered_class(
        OPTIM_WRAPPER_CONSTRUCTORS,
        optim_wrapper.get('constructor', 'DefaultOptimWrapperConstructor'),
        scope)
    if not (inspect.isclass(constructor)
            and issubclass(constructor, DefaultOptimWrapperConstructor)
            and constructor.__call__ is
            DefaultOptimWrapperConstructor.__call__):
        return  # another constructor reads the config its own way
    optimizer = optim_wrapper['optimizer']
    optimizer_class = _optimizer_class(optimizer, scope)
    if inspect.isclass(optimizer_class):
        # the constructor passes the parameters as the first argument
        first = next(iter(inspect.signature(optimizer_class).parameters))
        check_arguments(optimizer_class, optimizer,
                        'optim_wrapper.optimizer', (first, ))
    wrapper_class = _registered_class(
        OPTIM_WRAPPERS, optim_wrapper.get('type', 'OptimWrapper'),
        optim_wrapper.get('_scope_', scope))
    if not inspect.isclass(wrapper_class):
        return
    given = [key for key in optim_wrapper
             if key not in ('constructor', 'paramwise_cfg', 'optimizer')]
    taken = init_arguments(wrapper_class) or []
    optimizer_arguments = init_arguments(optimizer_class) if \
        inspect.isclass(optimizer_class) else None
    for key in given:
        if key not in taken and key in (optimizer_arguments or ()):
            raise ConfigKeyError(
                f'optim_wrapper sets {key!r}, which {wrapper_class.__name__} '
                f'does not take but the optimizer '
                f'{optimizer_class.__name__} does: set '
                f'optim_wrapper.optimizer.{key} (here it would stop the run '
                'with a TypeError when the runner builds the optim wrapper)')
    check_arguments(wrapper_class, given, 'optim_wrapper', ('optimizer', ))
    clip_grad = optim_wrapper.get('clip_grad')
    if not issubclass(wrapper_class, OptimWrapper) or not isinstance(
            clip_grad, Mapping):
        return
    functions = dict(norm=torch.nn.utils.clip_grad_norm_,
                     value=torch.nn.utils.clip_grad_value_)
    kind = clip_grad.get('type', 'norm')
    if kind not in functions:
        raise ConfigValueError(
            f'optim_wrapper.clip_grad.type must be \'norm\' (torch\'s '
            'clip_grad_norm_, the default) or \'value\' (clip_grad_value_), '
            f'got {kind!r} (OptimWrapper would refuse it when the runner '
            'builds it, after writing to the work dir)')
    function = functions[kind]
    parameters = list(inspect.signature(function).parameters.values())[1:]
    given = [key for key in clip_grad if key != 'type']
    refuse_unknown_arguments(
        function.__name__, [p.name for p in parameters], given,
        'optim_wrapper.clip_grad', 'at the first optimizer step')
    for parameter in parameters:
        if parameter.default is parameter.empty and \
                parameter.name not in given:
            raise ConfigKeyError(
                f'optim_wrapper.clip_grad lacks {parameter.name!r}, which '
                f'{function.__name__} needs (clip_grad type {kind!r}; the '
                'run would stop with a TypeError at the first optimizer '
                'step, after writing to the work dir): set it, or drop '
                'clip_grad')
