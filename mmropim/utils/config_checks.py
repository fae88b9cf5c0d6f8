"""Config keys that nothing reads, refused when a run is built.

MMEngine reads the top-level keys it knows and ignores the rest, so a
misspelt one (``trian_cfg``) or one of MMCV 1.x (``lr_config``,
``optimizer``, ``resume_from``) is silently dropped; so is a misspelt key
of ``optim_wrapper.paramwise_cfg``, ``auto_scale_lr`` or ``env_cfg``, which
are read with ``dict.get``; and MMEngine's ``CheckpointHook`` hands
arguments it does not know to ``runner.save_checkpoint``, so a misspelt one
(``default_hooks.checkpoint.max_keep_ckpt``) fails at the first save, maybe
hours into a run. All are refused here before anything is built, with the
key and the names it is close to or what replaced it.

Configs hold more top-level names than the runner reads (``_base_``,
``custom_imports``, variables such as ``train_pipeline``, ``data_root`` or
``bgr_mean``), so a top-level key is refused only when it is not a key the
runner reads but is, ignoring case, one typo away from one (a letter
added, dropped, changed, or two swapped), or two typos away from a runner
key of nine letters or more (``defualt_hook``). Shorter keys allow only one:
among the top-level names of MMPretrain's, MMSeg's and MMDet's shipped
configs, ``conv_cfg`` is two from ``env_cfg`` and a variable, not a typo.

An MMCV 1.x key (:data:`MMCV1_KEYS`) is refused unless it is None or only
repeats what the MMEngine keys say (a few shipped configs still carry a
leftover such as ``data = dict(samples_per_gpu=64)`` next to
``train_dataloader = dict(batch_size=64)``); a top-level ``optimizer`` also
passes where the config files use it as a variable (MMSeg's and MMDet's
schedules name their optimizer, then write ``optim_wrapper = dict(
optimizer=optimizer)``; a config replacing that optim_wrapper leaves the
variable behind). The MMCV 1.x keys that only set up the environment
(``cudnn_benchmark``: MMDet's SSD configs) are warned about, not refused.

A top-level key that ``--cfg-options`` adds to a config lacking it is
refused unless the runner reads it (:func:`check_option_keys`): a config
variable is read only while the config file loads, so ``max_epochs=1``
or ``data_root=/x`` would change nothing. Nested keys that would stop the
run late, once the runner has written to the work dir, are refused too: an
argument the train, val or test loop or a hook does not take
(``train_cfg.val_intervel``, ``default_hooks.logger.intervel``) and a
``default_hooks`` entry that replaces none of MMEngine's default hooks and
cannot be built (``default_hooks.chekpoint.interval=1``), and so is an
argument that the optimizer, optim wrapper, ``clip_grad``, a parameter
scheduler, the log processor, the visualizer, a metric or a data loader
does not take (:func:`check_built_arguments`). A misspelt setting of a
``paramwise_cfg.custom_keys`` entry (``decay_mul``) is refused
(:func:`check_custom_key_settings`), as are a run length, validation
interval or checkpoint interval that would stop the run late or make it
do nothing (:func:`check_run_values`). A key of
``paramwise_cfg.custom_keys`` that is in no parameter's name is refused
once the model is built (:func:`check_custom_keys`).
"""
import ast
import difflib
import inspect
import numbers
import os.path as osp
import string
import warnings
from typing import Iterable, Iterator, List, Mapping, Optional, Tuple

from mmengine.runner import Runner

from ..compat import config_base_files
from .arg_checks import config_type_name

# read by Runner beyond its __init__ arguments, or by MMEngine's config
# loader and the OpenMMLab tools
EXTRA_RUNNER_KEYS = (
    '_base_', 'custom_imports', 'model_wrapper_cfg', 'sync_bn',
    'find_unused_parameters', 'activation_checkpointing',
    'efficient_conv_bn_eval', 'compile', 'runner_type', 'strategy',
    'init_weights_for_test_or_val')

# top-level variables that OpenMMLab tools read after the file is parsed
# (MMPretrain's, MMSeg's and MMDet's test.py --tta)
READ_BY_TOOLS = ('tta_model', 'tta_pipeline')

# names OpenMMLab configs use by convention (read by their tools, or shared
# variables): never taken for typos, though some are close to runner keys
# ('train_pipeline' / 'tta_pipeline', 'val_pipeline' / 'val_cfg')
CONVENTIONAL_KEYS = ('tta_model', 'tta_pipeline', 'train_pipeline',
                     'val_pipeline', 'test_pipeline', 'dataset_type',
                     'data_root', 'backend_args', 'models')

# what CheckpointHook passes to runner.save_checkpoint itself; an extra
# argument of the hook may only be another argument of save_checkpoint
SAVE_ARGUMENTS_SET_BY_HOOK = ('self', 'out_dir', 'filename',
                              'file_client_args', 'save_optimizer',
                              'save_param_scheduler', 'meta', 'by_epoch',
                              'backend_args')

CHECKPOINT_HOOKS = ('CheckpointHook', 'SafeCheckpointHook')

# top-level keys of MMCV 1.x configs, which MMEngine's runner does not read,
# and what replaced them
MMCV1_KEYS = {
    'lr_config': 'param_scheduler',
    'momentum_config': 'param_scheduler',
    'runner': "train_cfg (type='EpochBasedTrainLoop' with max_epochs, or "
    "'IterBasedTrainLoop' with max_iters)",
    'total_epochs': 'train_cfg.max_epochs',
    'workflow': 'train_cfg and val_cfg',
    'optimizer': 'optim_wrapper.optimizer',
    'optimizer_config': 'optim_wrapper (clip_grad, accumulative_counts; '
    "type='AmpOptimWrapper' for mixed precision)",
    'fp16': "optim_wrapper = dict(type='AmpOptimWrapper', loss_scale=...)",
    'resume_from': 'resume=True with load_from (tools/train.py --resume)',
    'auto_resume': 'resume=True without load_from (tools/train.py '
    '--resume)',
    'data': 'train_dataloader, val_dataloader and test_dataloader '
    '(batch_size, num_workers, dataset)',
    'evaluation': 'val_evaluator, val_cfg and train_cfg.val_interval',
    'checkpoint_config': 'default_hooks.checkpoint',
    'log_config': 'default_hooks.logger, log_processor and visualizer',
    'dist_params': 'env_cfg.dist_cfg',
    'cudnn_benchmark': 'env_cfg.cudnn_benchmark',
    'mp_start_method': 'env_cfg.mp_cfg.mp_start_method',
    'opencv_num_threads': 'env_cfg.mp_cfg.opencv_num_threads',
}
# MMCV 1.x keys that only set up the environment (speed, processes), not
# what is trained: a warning, not a refusal (MMDet's SSD configs still set
# cudnn_benchmark = True)
MMCV1_ENVIRONMENT_KEYS = ('dist_params', 'cudnn_benchmark',
                          'mp_start_method', 'opencv_num_threads')

# the hooks MMEngine's runner registers unless default_hooks sets them to
# None (Runner.register_default_hooks, MMEngine 0.10)
DEFAULT_HOOK_NAMES = ('runtime_info', 'timer', 'sampler_seed', 'logger',
                      'param_scheduler', 'checkpoint')

# what the runner passes to the loops it builds
LOOP_ARGUMENTS_SET_BY_RUNNER = ('self', 'runner', 'dataloader', 'evaluator')

# custom_keys of MMPretrain's, MMSeg's and MMDet's shipped configs that name
# parameters only some models have (a BEiT has no pos_embed): they may match
# no parameter of a model they are mixed with (also with a leading '.' or
# 'backbone.')
STOCK_CUSTOM_KEYS = ('pos_embed', 'absolute_pos_embed', 'cls_token',
                     'dist_token', 'mask_token',
                     'relative_position_bias_table', 'rel_pos_h',
                     'rel_pos_w', 'q_bias', 'v_bias', 'gamma', 'ln', 'norm',
                     'bn', 'bias', 'pos_block', 'query_embed', 'level_embed')

# runner keys this long are refused two typos away (shorter: one)
TWO_TYPOS_MIN_LENGTH = 9

# the keys of the nested dicts the runner reads with .get (MMEngine 0.10)
AUTO_SCALE_LR_KEYS = ('enable', 'base_batch_size')
ENV_CFG_KEYS = ('cudnn_benchmark', 'mp_cfg', 'dist_cfg', 'resource_limit')
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


class ConfigKeyError(KeyError):
    """A config key that nothing reads."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class ConfigValueError(ValueError):
    """A config value that would stop the run late or change nothing."""


def runner_keys() -> List[str]:
    """The top-level config keys MMEngine's runner (and its config loader)
    reads."""
    names = inspect.signature(Runner.__init__).parameters
    return sorted(set(names) - {'self', 'cfg'} | set(EXTRA_RUNNER_KEYS))


def one_typo_apart(first: str, second: str) -> bool:
    """Whether ``second`` is ``first`` with one letter added, dropped or
    changed, or two neighbouring letters swapped."""
    if first == second or abs(len(first) - len(second)) > 1:
        return False
    if len(first) == len(second):
        wrong = [i for i, (a, b) in enumerate(zip(first, second)) if a != b]
        return len(wrong) == 1 or (
            len(wrong) == 2 and wrong[1] == wrong[0] + 1
            and first[wrong[0]] == second[wrong[1]]
            and first[wrong[1]] == second[wrong[0]])
    shorter, longer = sorted((first, second), key=len)
    return any(longer[:i] + longer[i + 1:] == shorter
               for i in range(len(longer)))


def edit_distance(first: str, second: str) -> int:
    """Letters added, dropped or changed, or neighbours swapped, to turn
    ``first`` into ``second`` (optimal string alignment distance)."""
    rows = [list(range(len(second) + 1))]
    for i, a in enumerate(first, 1):
        row = [i]
        for j, b in enumerate(second, 1):
            row.append(min(rows[-1][j] + 1, row[j - 1] + 1,
                           rows[-1][j - 1] + (a != b)))
            if i > 1 and j > 1 and a == second[j - 2] and \
                    first[i - 2] == b:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def typo_of(name: str, key: str) -> bool:
    """Whether ``name`` looks like a misspelt ``key``: another name that is,
    ignoring case, one typo from it, or two from a key of
    :data:`TWO_TYPOS_MIN_LENGTH` letters or more."""
    if name == key:
        return False
    lower = name.lower()
    return lower == key or one_typo_apart(lower, key) or (
        len(key) >= TWO_TYPOS_MIN_LENGTH and edit_distance(lower, key) <= 2)


def did_you_mean(key: str, choices: Iterable[str]) -> str:
    """``"did you mean 'a' or 'b'? "`` for the choices close to ``key``, or
    an empty string."""
    matches = close_matches(key, choices)
    return (f'did you mean {" or ".join(map(repr, matches))}? '
            if matches else '')


def close_matches(name: str, known: Iterable[str],
                  cutoff: float = 0.6) -> List[str]:
    """Up to three names of ``known`` most like ``name`` (difflib)."""
    return difflib.get_close_matches(name, list(known), n=3, cutoff=cutoff)


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


def _train_loop_by_epoch(train_cfg: Mapping) -> Optional[bool]:
    """Whether the train loop the runner builds is epoch-based (None when
    the config does not say so by a loop MMEngine ships)."""
    name = config_type_name(train_cfg)
    if name == 'EpochBasedTrainLoop':
        return True
    if name == 'IterBasedTrainLoop':
        return False
    if train_cfg.get('type') is None and 'by_epoch' in train_cfg:
        return bool(train_cfg['by_epoch'])
    return None


def config_files(filename: str) -> List[str]:
    """A Python config file and its ``_base_`` files, recursively, found as
    MMEngine finds them (``mmseg::`` ones too)."""
    files, todo = [], [filename]
    while todo:
        path = todo.pop()
        if path in files or not path.endswith('.py') or not osp.isfile(path):
            continue
        files.append(path)
        todo += config_base_files(path)
    return files


def _is_config_variable(cfg: Mapping, name: str) -> bool:
    """Whether every config file of ``cfg`` that assigns the top-level
    ``name`` also reads it, as a variable (MMSeg's and MMDet's schedules:
    ``optimizer = dict(...)``, then ``optim_wrapper = dict(
    optimizer=optimizer)``); False for a config not loaded from files."""
    filename = getattr(cfg, 'filename', None)
    if not isinstance(filename, str):
        return False
    trees = []
    try:
        for path in config_files(filename):
            with open(path, encoding='utf-8') as file:
                trees.append(ast.parse(file.read()))
    except Exception:  # MMEngine loaded it; unreadable here: not known
        return False
    assigning = 0
    for tree in trees:
        assigned = any(
            isinstance(target, ast.Name) and target.id == name
            for node in tree.body if isinstance(node, ast.Assign)
            for target in node.targets)
        if not assigned:
            continue
        assigning += 1
        if not any(isinstance(node, ast.Name) and node.id == name
                   and isinstance(node.ctx, ast.Load)
                   for node in ast.walk(tree)):
            return False
    return assigning > 0


def _short(value, length: int = 80) -> str:
    """``repr(value)``, cut to ``length`` characters."""
    text = repr(value.to_dict() if hasattr(value, 'to_dict') else value)
    return text if len(text) <= length else text[:length - 3] + '...'


def _mmcv1_key_repeats_config(key: str, value, cfg: Mapping) -> bool:
    """Whether an MMCV 1.x key is None or only says what the MMEngine keys
    of ``cfg`` say, so that dropping it changes nothing."""
    if value is None:
        return True
    train_cfg = cfg.get('train_cfg') or {}
    optim_wrapper = cfg.get('optim_wrapper') or {}
    if key == 'optimizer':
        return any(optimizer == value for optimizer in _optimizer_configs(
            optim_wrapper)) or _is_config_variable(cfg, key)
    if not isinstance(value, Mapping):
        if key == 'total_epochs':
            return value == train_cfg.get('max_epochs')
        return False
    if key == 'runner':
        by_epoch = _train_loop_by_epoch(train_cfg)
        length = 'max_epochs' if by_epoch else 'max_iters'
        kind = 'EpochBasedRunner' if by_epoch else 'IterBasedRunner'
        return by_epoch is not None and value.get('type') == kind and set(
            value) <= {'type', length} and value.get(
                length) == train_cfg.get(length)
    if key == 'data':
        loader = cfg.get('train_dataloader') or {}
        names = dict(samples_per_gpu='batch_size',
                     workers_per_gpu='num_workers')
        return set(value) <= set(names) and all(
            loader.get(names[k]) == v for k, v in value.items())
    if key == 'fp16':
        return config_type_name(optim_wrapper) == 'AmpOptimWrapper' and set(
            value) <= {
            'loss_scale'} and value.get('loss_scale', 'dynamic') == \
            optim_wrapper.get('loss_scale', 'dynamic')
    if key == 'optimizer_config':
        return set(value) <= {'grad_clip'} and value.get(
            'grad_clip') == optim_wrapper.get('clip_grad')
    return False


def _what_the_config_says(key: str, cfg: Mapping) -> str:
    """The MMEngine setting an MMCV 1.x key would have repeated, for the
    message."""
    optim_wrapper = cfg.get('optim_wrapper') or {}
    loader = cfg.get('train_dataloader') or {}
    said = dict(
        optimizer=('optim_wrapper.optimizer',
                   optim_wrapper.get('optimizer')),
        runner=('train_cfg', cfg.get('train_cfg')),
        total_epochs=('train_cfg', cfg.get('train_cfg')),
        data=('train_dataloader.batch_size', loader.get('batch_size')),
        fp16=('optim_wrapper.type', optim_wrapper.get('type')),
        optimizer_config=('optim_wrapper.clip_grad',
                          optim_wrapper.get('clip_grad')))
    if key not in said:
        return ''
    name, value = said[key]
    return f' (the config has {name} = {_short(value)})'


def check_top_level_keys(cfg: Mapping) -> None:
    """Refuse a top-level key that the runner does not read: one of MMCV
    1.x (:data:`MMCV1_KEYS`) unless it only repeats the config, or one
    that looks like a misspelt runner key (``trian_cfg``, ``work_dirs``,
    ``default_hook``, ``auto_scale_LR``; see :func:`typo_of`).

    Args:
        cfg (Mapping): The run config (``mmengine.Config``).

    Raises:
        ConfigKeyError: Naming the key and the runner keys it is close to,
            or what replaced the MMCV 1.x key.
    """
    known = runner_keys()
    for key in cfg.keys():
        if key in known:
            continue
        if key in MMCV1_KEYS:
            value = cfg[key]
            if _mmcv1_key_repeats_config(key, value, cfg):
                continue
            if key in MMCV1_ENVIRONMENT_KEYS:
                warnings.warn(
                    f'the config sets {key!r} = {_short(value)}, an MMCV 1.x '
                    "key that MMEngine's runner does not read; use "
                    f'{MMCV1_KEYS[key]} instead', UserWarning)
                continue
            raise ConfigKeyError(
                f'the config sets {key!r} = {_short(value)}, an MMCV 1.x key '
                "that MMEngine's runner does not read, so the run would go "
                f'on without it, silently{_what_the_config_says(key, cfg)}; '
                f'use {MMCV1_KEYS[key]} instead, and drop {key!r}')
        if key in CONVENTIONAL_KEYS:
            continue
        matches = [name for name in known if typo_of(key, name)]
        if matches:
            raise ConfigKeyError(
                f'the config sets {key!r}, which nothing reads; did you mean '
                f'{" or ".join(map(repr, matches))}? (a typo would otherwise '
                'be ignored silently; rename the key, or give a variable '
                'a name further from a runner key)')


def check_unread_keys(section: str, given: Iterable[str],
                      read: Iterable[str], reader: str) -> None:
    """Refuse keys of a config dict that its reader does not read.

    Args:
        section (str): Where the dict is, for the message
            (``'env_cfg'``).
        given (Iterable[str]): The keys the config gives.
        read (Iterable[str]): The keys the reader reads.
        reader (str): What reads them, for the message.

    Raises:
        ConfigKeyError: Naming the key, the close read ones and all of them.
    """
    read = list(read)
    for key in given:
        if key in read or key.startswith('_'):
            continue
        hint = did_you_mean(key, read)
        raise ConfigKeyError(
            f'{section} sets {key!r}, which {reader} does not read (it would '
            f'be ignored silently); {hint}the keys read are '
            f'{", ".join(map(repr, read))}')


def _registered_class(registry, kind, scope: Optional[str]):
    """The class a config ``type`` names in ``registry`` under the
    config's default scope; None if it names none."""
    if not isinstance(kind, str):
        return kind if inspect.isclass(kind) else None
    try:
        with registry.switch_scope_and_registry(scope) as scoped:
            return scoped.get(kind)
    except Exception:  # an unknown scope: the runner reports it
        return None


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

    from ..engine.backbone_layer_decay_constructor import \
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


def check_nested_keys(cfg: Mapping) -> None:
    """Refuse keys of ``optim_wrapper.paramwise_cfg`` (for MMEngine's and
    MMPretrain's constructors), ``auto_scale_lr`` and ``env_cfg`` that
    nothing reads (``flat_decay_mul``, ``enabel``, ``cudnn_benchmrk``).

    Args:
        cfg (Mapping): The run config.

    Raises:
        ConfigKeyError: See :func:`check_unread_keys`.
    """
    auto_scale_lr = cfg.get('auto_scale_lr')
    if isinstance(auto_scale_lr, Mapping):
        check_unread_keys('auto_scale_lr', auto_scale_lr, AUTO_SCALE_LR_KEYS,
                          'Runner.scale_lr')
    env_cfg = cfg.get('env_cfg')
    if isinstance(env_cfg, Mapping):
        check_unread_keys('env_cfg', env_cfg, ENV_CFG_KEYS,
                          'Runner.setup_env')
    optim_wrapper = cfg.get('optim_wrapper')
    paramwise_cfg = optim_wrapper.get('paramwise_cfg') if isinstance(
        optim_wrapper, Mapping) else None
    if isinstance(paramwise_cfg, Mapping):
        read = paramwise_keys_read(optim_wrapper,
                                   cfg.get('default_scope', 'mmpretrain'))
        if read is not None:
            constructor = optim_wrapper.get('constructor',
                                            'DefaultOptimWrapperConstructor')
            name = constructor if isinstance(constructor, str) else \
                constructor.__name__
            check_unread_keys('optim_wrapper.paramwise_cfg', paramwise_cfg,
                              read, name)
            check_custom_key_settings(
                optim_wrapper, name, read is LAYER_DECAY_PARAMWISE_KEYS,
                cfg.get('default_scope', 'mmpretrain'))


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


def checkpoint_hook_arguments(hook_class) -> List[str]:
    """Every argument a checkpoint hook class accepts: those of its and its
    bases' ``__init__`` and those of ``Runner.save_checkpoint`` that the
    hook does not pass itself (MMEngine forwards extra ones there)."""
    names = set()
    for cls in inspect.getmro(hook_class):
        init = cls.__dict__.get('__init__')
        if init is None:
            continue
        for name, parameter in inspect.signature(init).parameters.items():
            if parameter.kind not in (parameter.VAR_KEYWORD,
                                      parameter.VAR_POSITIONAL):
                names.add(name)
    saved = inspect.signature(Runner.save_checkpoint).parameters
    names |= set(saved) - set(SAVE_ARGUMENTS_SET_BY_HOOK)
    return sorted(names - {'self'})


def check_hook_arguments(hook_class, arguments: Iterable[str],
                         where: str = '') -> None:
    """Refuse arguments a checkpoint hook would only pass on to
    ``runner.save_checkpoint``, which does not take them.

    Args:
        hook_class (type): ``CheckpointHook`` or a subclass.
        arguments (Iterable[str]): The argument names the config gives.
        where (str): Where they are given, for the message (e.g.
            ``'default_hooks.checkpoint'``). Defaults to ''.

    Raises:
        TypeError: Naming the argument and the close accepted ones.
    """
    accepted = checkpoint_hook_arguments(hook_class)
    for name in arguments:
        if name in accepted:
            continue
        hint = did_you_mean(name, accepted)
        raise TypeError(
            f'{where + ": " if where else ""}{hook_class.__name__} has no '
            f'argument {name!r}; '
            f'{hint}it takes {", ".join(accepted)} (an unknown one would '
            'reach runner.save_checkpoint and fail at the first save)')


def _option_paths(node, key: str, prefix: str = '',
                  found: Optional[list] = None) -> List[str]:
    """Up to three dotted paths of ``node`` (dicts and lists) whose last
    key is ``key``, as ``--cfg-options`` names them."""
    found = [] if found is None else found
    if isinstance(node, Mapping):
        items = node.items()
    elif isinstance(node, (list, tuple)):
        items = enumerate(node)
    else:
        return found
    for name, value in items:
        path = f'{prefix}{name}'
        if name == key and len(found) < 3:
            found.append(path)
        _option_paths(value, key, path + '.', found)
    return found


def check_option_keys(cfg: Mapping, cfg_options: Mapping) -> None:
    """Refuse a top-level key set by ``--cfg-options`` that the runner
    does not read (:func:`runner_keys`; OpenMMLab's test tools read
    ``tta_model`` / ``tta_pipeline``): it would have no effect, whether the
    config lacks it or has it as a variable (``data_root``, resolved when
    the file was parsed).

    Args:
        cfg (Mapping): The config as loaded, before the options merge.
        cfg_options (Mapping): The options (``key.sub=value`` parsed by
            ``DictAction``).

    Raises:
        ConfigKeyError: Naming the key, where the config has a key of that
            name and the runner keys it is close to.
    """
    known = runner_keys()
    for option in cfg_options:
        key = str(option).split('.')[0]
        if key in known or key in READ_BY_TOOLS:
            continue
        if key in cfg:  # a variable: its value is already where it went
            paths = [path for path in _option_paths(
                cfg.to_dict() if hasattr(cfg, 'to_dict') else cfg, key)
                if path != key]
            where = (f'set where it was used (e.g. --cfg-options '
                     f'{paths[0]}=...)' if paths else
                     'set the keys it was used for')
            raise ConfigKeyError(
                f'--cfg-options sets {key!r}, a variable of the config file: '
                'it was read when the file was parsed, so setting it now has '
                f'no effect (what used it keeps the old value); {where}, or '
                'change it in a child config')
        if key in MMCV1_KEYS:
            hint = f'it is an MMCV 1.x key: use {MMCV1_KEYS[key]}'
        else:
            paths = _option_paths(
                cfg.to_dict() if hasattr(cfg, 'to_dict') else cfg, key)
            hint = (f'the config has it at {" and ".join(paths)}: set that '
                    f'(--cfg-options {paths[0]}=...)' if paths else '')
            close = '' if paths else did_you_mean(key, known).strip()
            hint = '; '.join(text for text in (hint, close) if text) or \
                'the top-level keys read are ' + ', '.join(known)
        raise ConfigKeyError(
            f'--cfg-options sets {key!r}, a top-level key that the config '
            'does not have and that nothing reads: it would have no effect '
            f'(the run would go on without it); {hint}')


def init_arguments(cls) -> Optional[List[str]]:
    """The keyword arguments building ``cls`` takes: those of its and its
    bases' ``__init__`` up to the first that takes no ``**kwargs``; None
    when the ``**kwargs`` go elsewhere (unknown here)."""
    names = set()
    for base in inspect.getmro(cls):
        init = base.__dict__.get('__init__')
        if init is None:
            continue
        if base is object:
            return [] if not names else None
        parameters = inspect.signature(init).parameters.values()
        names |= {p.name for p in parameters
                  if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
        if not any(p.kind == p.VAR_KEYWORD for p in parameters):
            return sorted(names - {'self'})
    return None


def check_arguments(cls, given: Iterable[str], where: str,
                    set_by_builder: Iterable[str] = (),
                    read_by_builder: Iterable[str] = ()) -> None:
    """Refuse config keys that building ``cls`` would not take (a
    ``TypeError`` when the runner builds it, after it has written to the
    work dir); nothing when its ``**kwargs`` go elsewhere.

    Args:
        cls (type): The class the config builds.
        given (Iterable[str]): The config's keys (``type`` and registry
            keys such as ``_scope_`` are skipped).
        where (str): Where the config is, for the message.
        set_by_builder (Iterable[str]): Arguments the runner passes itself.
        read_by_builder (Iterable[str]): Keys the builder takes out of the
            config before it builds ``cls`` (accepted too).

    Raises:
        ConfigKeyError: Naming the key, the close accepted ones and all of
            them.
    """
    accepted = init_arguments(cls)
    if accepted is None:
        return
    refuse_unknown_arguments(
        cls.__name__, [name for name in accepted
                       if name not in set_by_builder] + list(read_by_builder),
        [name for name in given if name != 'type'], where)


def refuse_unknown_arguments(
        taker: str, accepted: List[str], given: Iterable[str], where: str,
        when: str = 'when the runner builds it') -> None:
    """Refuse a config key that is not among the arguments ``taker``
    accepts (keys starting with '_', such as ``_scope_``, are skipped).

    Args:
        taker (str): What takes the arguments, for the message.
        accepted (List[str]): The arguments it takes.
        given (Iterable[str]): The config's keys.
        where (str): Where the config is, for the message.
        when (str): When the ``TypeError`` would come. Defaults to
            'when the runner builds it'.

    Raises:
        ConfigKeyError: Naming the key, the close accepted ones and all of
            them.
    """
    for name in given:
        if name in accepted or str(name).startswith('_'):
            continue
        raise ConfigKeyError(
            f'{where} sets {name!r}, which {taker} does not take (the '
            f'run would stop with a TypeError {when}, after writing to the '
            f'work dir); {did_you_mean(name, accepted)}it takes '
            f'{", ".join(map(repr, accepted)) or "no arguments"}')


def check_loop_keys(cfg: Mapping) -> None:
    """Refuse keys of ``train_cfg``, ``val_cfg`` and ``test_cfg`` that the
    loop the runner builds from them does not take (``val_intervel``):
    MMEngine builds ``EpochBasedTrainLoop`` or ``IterBasedTrainLoop`` from
    ``by_epoch`` when ``train_cfg`` has no type, ``ValLoop`` and
    ``TestLoop`` when the others have none.

    Args:
        cfg (Mapping): The run config.

    Raises:
        ConfigKeyError: See :func:`check_arguments`.
    """
    from mmengine.registry import LOOPS
    from mmengine.runner import (EpochBasedTrainLoop, IterBasedTrainLoop,
                                 TestLoop, ValLoop)
    scope = cfg.get('default_scope', 'mmpretrain')
    for section, default in (('train_cfg', None), ('val_cfg', ValLoop),
                             ('test_cfg', TestLoop)):
        loop = cfg.get(section)
        if not isinstance(loop, Mapping):
            continue
        given = list(loop)
        if 'type' in loop:
            loop_class = _registered_class(LOOPS, loop['type'], scope)
        elif default is not None:
            loop_class = default
        elif 'by_epoch' in loop:
            loop_class = EpochBasedTrainLoop if loop['by_epoch'] else \
                IterBasedTrainLoop
            given.remove('by_epoch')
        else:
            continue
        if inspect.isclass(loop_class):
            check_arguments(loop_class, given, section,
                            LOOP_ARGUMENTS_SET_BY_RUNNER)


def _hook_class(hook_type, scope: Optional[str]):
    """The hook class a config ``type`` names; None if it names none."""
    from mmengine.hooks import CheckpointHook
    from mmengine.registry import HOOKS

    from ..engine.hooks.safe_checkpoint_hook import SafeCheckpointHook
    known = dict(CheckpointHook=CheckpointHook,
                 SafeCheckpointHook=SafeCheckpointHook)
    if isinstance(hook_type, str) and hook_type in known:
        return known[hook_type]
    return _registered_class(HOOKS, hook_type, scope)


def check_hook_config(cfg: Mapping) -> None:
    """Check ``default_hooks`` and ``custom_hooks`` before the runner builds
    them: a ``default_hooks`` entry that replaces none of MMEngine's default
    hooks (:data:`DEFAULT_HOOK_NAMES`) must be a hook with a type
    (``default_hooks.chekpoint.interval=1`` is not), and every hook's
    arguments must be ones it takes (checkpoint hooks: see
    :func:`check_hook_arguments`).

    Args:
        cfg (Mapping): The run config.

    Raises:
        ConfigKeyError: Naming the entry or argument and the close names.
        TypeError: See :func:`check_hook_arguments`.
    """
    from mmengine.hooks import CheckpointHook
    scope = cfg.get('default_scope', 'mmpretrain')
    default_hooks = cfg.get('default_hooks') or {}
    hooks = []
    for name, hook in default_hooks.items():
        if name in DEFAULT_HOOK_NAMES or isinstance(hook, Mapping) and \
                'type' in hook:
            hooks.append((f'default_hooks.{name}', hook))
            continue
        if hook is not None and not isinstance(hook, Mapping):
            continue  # a built hook
        hint = did_you_mean(name, DEFAULT_HOOK_NAMES)
        what = 'is None, which removes nothing' if hook is None else \
            'has no type, so the runner cannot build it'
        raise ConfigKeyError(
            f'default_hooks sets {name!r}, which is not one of MMEngine\'s '
            f'default hooks and {what} (the run would stop after writing to '
            f'the work dir); {hint}the default hooks are '
            f'{", ".join(map(repr, DEFAULT_HOOK_NAMES))}')
    custom_hooks = cfg.get('custom_hooks') or []
    hooks += [(f'custom_hooks.{i}', hook)
              for i, hook in enumerate(custom_hooks)]
    for where, hook in hooks:
        if not isinstance(hook, Mapping) or 'type' not in hook:
            continue
        hook_class = _hook_class(hook['type'], scope)
        if not inspect.isclass(hook_class):
            continue
        # Runner.register_hook takes priority out before it builds the hook
        arguments = [k for k in hook if k not in ('type', 'priority')
                     and not k.startswith('_')]
        if issubclass(hook_class, CheckpointHook):
            check_hook_arguments(hook_class, arguments, where)
        else:
            check_arguments(hook_class, arguments, where)


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


# the parts of ``model`` that its class builds from their own configs
MODEL_PARTS = ('backbone', 'neck', 'head', 'data_preprocessor')


def check_model_keys(cfg: Mapping) -> None:
    """Refuse keys of ``model`` and of its ``backbone``, ``neck``, ``head``
    and ``data_preprocessor`` that the class their ``type`` names does not
    take, e.g. MAEViT's ``mask_ratio`` left in a stock config whose
    backbone type became another (a child config's dict merges into its
    base's, so a new ``type`` keeps the old keys).

    Args:
        cfg (Mapping): The run config.

    Raises:
        ConfigKeyError: Naming the key, the class, the close accepted
            ones and the ``_delete_=True`` fix.
    """
    from mmengine.registry import MODELS
    model = cfg.get('model')
    if not isinstance(model, Mapping):
        return
    scope = cfg.get('default_scope', 'mmpretrain')
    parts = [('model', model)] + [
        (f'model.{name}', model[name]) for name in MODEL_PARTS
        if isinstance(model.get(name), Mapping)]
    for where, part in parts:
        cls = _registered_class(MODELS, part.get('type'),
                                part.get('_scope_', scope))
        if cls is None:
            continue
        try:
            check_arguments(cls, [key for key in part
                                  if key not in MODEL_PARTS], where)
        except ConfigKeyError as error:
            raise ConfigKeyError(
                f'{error} (a key of a _base_ config stays when only the '
                f'type changes: set {where}._delete_=True and give all its '
                'keys)') from None


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


def _scheduler_configs(node, where: str) -> list:
    """``(where, config)`` of each scheduler of ``param_scheduler``: one
    dict, a list of them, or a dict of those per optimizer."""
    if isinstance(node, Mapping):
        if 'type' in node:
            return [(where, node)]
        found = []
        for name, value in node.items():
            if isinstance(value, (Mapping, list, tuple)):
                found += _scheduler_configs(value, f'{where}.{name}')
        return found
    if isinstance(node, (list, tuple)):
        return [(f'{where}.{i}', item) for i, item in enumerate(node)
                if isinstance(item, Mapping)]
    return []


def _metric_configs(evaluator, where: str) -> list:
    """``(where, config)`` of each metric of an evaluator config, as the
    runner builds it: a metric dict, a list of them, or a dict with
    ``metrics`` (one or a list)."""
    if isinstance(evaluator, Mapping):
        if 'metrics' not in evaluator:
            return [(where, evaluator)]
        return _metric_configs(evaluator['metrics'], f'{where}.metrics')
    if isinstance(evaluator, (list, tuple)):
        return [(f'{where}.{i}', metric)
                for i, metric in enumerate(evaluator)
                if isinstance(metric, Mapping)]
    return []


# what Runner.build_dataloader takes out of a data loader config before
# passing the rest to torch's DataLoader (MMEngine 0.10)
DATALOADER_KEYS_READ_BY_RUNNER = ('dataset', 'sampler', 'batch_sampler',
                                  'collate_fn', 'worker_init_fn',
                                  'num_batch_per_epoch',
                                  'disable_subprocess_warning')


def dataloader_keys() -> List[str]:
    """The keys of a data loader config that MMEngine's
    ``Runner.build_dataloader`` takes: its own and the arguments of torch's
    ``DataLoader`` it does not set itself."""
    from torch.utils.data import DataLoader
    arguments = set(inspect.signature(DataLoader.__init__).parameters)
    arguments -= {'self', 'dataset', 'sampler', 'batch_sampler',
                  'collate_fn', 'worker_init_fn'}
    return sorted(arguments | set(DATALOADER_KEYS_READ_BY_RUNNER))


def check_built_arguments(cfg: Mapping) -> None:
    """Refuse arguments of the other objects the runner builds that their
    classes would not take: ``optim_wrapper`` (see
    :func:`check_optim_wrapper_arguments`), each ``param_scheduler``,
    ``log_processor``, ``visualizer`` and its ``vis_backends``, the metrics
    (and ``Evaluator``) of ``val_evaluator`` and ``test_evaluator``, and the
    data loaders (torch's ``DataLoader``, less what the runner sets).
    Classes are looked up under the config's default scope; those whose
    ``**kwargs`` go elsewhere are skipped.

    Args:
        cfg (Mapping): The run config.

    Raises:
        ConfigKeyError: See :func:`refuse_unknown_arguments`.
    """
    from mmengine.evaluator import Evaluator
    from mmengine.registry import (EVALUATOR, LOG_PROCESSORS, METRICS,
                                   PARAM_SCHEDULERS, VISBACKENDS, VISUALIZERS)
    from mmengine.runner import LogProcessor
    from mmengine.visualization import Visualizer
    scope = cfg.get('default_scope', 'mmpretrain')

    def check(registry, config, where, set_by_builder=(), default=None):
        cls = _registered_class(registry, config.get('type', default),
                                config.get('_scope_', scope))
        if inspect.isclass(cls):
            check_arguments(cls, config, where, set_by_builder)
        return cls

    check_optim_wrapper_arguments(cfg)
    for where, scheduler in _scheduler_configs(
            cfg.get('param_scheduler'), 'param_scheduler'):
        cls = _registered_class(PARAM_SCHEDULERS, scheduler.get('type'),
                                scheduler.get('_scope_', scope))
        if not inspect.isclass(cls):
            continue
        # an LR / momentum scheduler's mixin passes param_name itself
        set_by_builder = ['optimizer', 'epoch_length']
        if any(base.__name__.endswith('SchedulerMixin')
               for base in inspect.getmro(cls)):
            set_by_builder.append('param_name')
        check_arguments(cls, scheduler, where, set_by_builder,
                        read_by_builder=('convert_to_iter_based', ))
    log_processor = cfg.get('log_processor')
    if isinstance(log_processor, Mapping):
        if 'type' in log_processor:
            check(LOG_PROCESSORS, log_processor, 'log_processor')
        else:
            check_arguments(LogProcessor, log_processor, 'log_processor')
    visualizer = cfg.get('visualizer')
    if isinstance(visualizer, Mapping) and 'type' in visualizer:
        cls = check(VISUALIZERS, visualizer, 'visualizer')
        backends = visualizer.get('vis_backends')
        if isinstance(backends, Mapping):  # Visualizer takes one too
            backends = [backends]
        if not (inspect.isclass(cls) and issubclass(cls, Visualizer)
                and isinstance(backends, (list, tuple))):
            backends = []
        for i, backend in enumerate(backends):
            if isinstance(backend, Mapping) and 'type' in backend:
                # Visualizer takes the name of a backend itself
                where = 'visualizer.vis_backends' + (
                    f'.{i}' if isinstance(visualizer['vis_backends'],
                                          (list, tuple)) else '')
                check(VISBACKENDS, {k: v for k, v in backend.items()
                                    if k != 'name'}, where)
    for section in ('val_evaluator', 'test_evaluator'):
        evaluator = cfg.get(section)
        if isinstance(evaluator, Mapping) and 'metrics' in evaluator:
            cls = check(EVALUATOR, evaluator, section, default='Evaluator')
            if not (inspect.isclass(cls) and issubclass(cls, Evaluator)):
                kind = evaluator.get('type')
                metric = _registered_class(METRICS, kind,
                                           evaluator.get('_scope_', scope))
                what = 'a metric' if metric is not None else \
                    'no registered evaluator'
                raise ConfigValueError(
                    f'{section} sets metrics and type {kind!r}, which is '
                    f'{what}: the runner builds a dict with metrics as an '
                    "evaluator (type 'Evaluator' unless given), and would "
                    f'stop with a KeyError; drop {section}.type, or give '
                    'the metric in metrics')
        for where, metric in _metric_configs(evaluator, section):
            if 'type' in metric:
                check(METRICS, metric, where)
    accepted = dataloader_keys()
    for section in ('train_dataloader', 'val_dataloader',
                    'test_dataloader'):
        loader = cfg.get(section)
        if isinstance(loader, Mapping):
            refuse_unknown_arguments('DataLoader (through '
                                     'Runner.build_dataloader)', accepted,
                                     loader, section)


def check_checkpoint_filename_tmpl(filename_tmpl, where: str,
                                   rotated: bool = True) -> None:
    """Refuse a checkpoint hook's ``filename_tmpl`` that would write outside
    its folder (a path: ``'../x_{}.pth'``, ``'ckpts/x_{}.pth'``) or, for a
    hook that writes before it deletes (``rotated``, our
    ``SafeCheckpointHook``), one whose names it could not tell apart or
    recognize as its own: it must hold ``{}`` once, with no other field
    (``'latest.pth'`` named every checkpoint alike, so each save deleted
    the file it had just written).

    Args:
        filename_tmpl: The template.
        where (str): Its config key, for the message.
        rotated (bool): Require one ``{}``. Defaults to True.

    Raises:
        ConfigValueError: Naming the key, the value and what is allowed.
    """
    allowed = ("a file name with {} once for the epoch or iteration, e.g. "
               "'epoch_{}.pth' (the default)")
    if not isinstance(filename_tmpl, str) or not filename_tmpl or \
            filename_tmpl in ('.', '..') or \
            osp.basename(filename_tmpl.replace('\\', '/')) != filename_tmpl:
        raise ConfigValueError(
            f'{where} must be {allowed}, got {filename_tmpl!r}: a checkpoint '
            'is written into the out dir, never beside or below it')
    if not rotated:
        return
    try:
        fields = [field for _, field, spec, conversion in
                  string.Formatter().parse(filename_tmpl)
                  if field is not None]
        plain = [field for _, field, spec, conversion in
                 string.Formatter().parse(filename_tmpl)
                 if field == '' and not spec and conversion is None]
    except ValueError:  # an unmatched brace
        fields, plain = [None], []
    if fields != [''] or len(plain) != 1:
        raise ConfigValueError(
            f'{where} must be {allowed}, got {filename_tmpl!r}: the hook '
            'writes each checkpoint before it deletes the oldest, and finds '
            'its own by this name, so every step needs its own name and the '
            'step must be the one plain {}')


def _is_count(value) -> bool:
    """Whether ``value`` is a whole number >= 1 (not a bool)."""
    return not isinstance(value, bool) and (
        isinstance(value, numbers.Integral) or isinstance(value, float)
        and value.is_integer()) and value >= 1


def check_run_values(cfg: Mapping) -> None:
    """Refuse values that would stop a run late or make it do nothing:
    ``max_epochs`` / ``max_iters`` of MMEngine's train loops that are not
    whole numbers >= 1 (0 trained nothing, with exit status 0; 1.5 failed
    MMEngine's assertion when the loop was built), a ``val_interval`` or an
    interval of ``dynamic_intervals`` that is not one (0: a
    ``ZeroDivisionError`` after the first epoch), and a checkpoint hook's
    ``interval`` other than -1 (no checkpoints at intervals, MMEngine's
    default) or a whole number >= 1 (0 saved none, silently).

    Args:
        cfg (Mapping): The run config.

    Raises:
        ConfigValueError: Naming the key, the value and what is allowed.
    """
    from mmengine.hooks import CheckpointHook
    from mmengine.registry import LOOPS
    from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop
    scope = cfg.get('default_scope', 'mmpretrain')
    train_cfg = cfg.get('train_cfg')
    if isinstance(train_cfg, Mapping):
        if 'type' in train_cfg:
            loop = _registered_class(LOOPS, train_cfg['type'],
                                     train_cfg.get('_scope_', scope))
        elif 'by_epoch' in train_cfg:
            loop = EpochBasedTrainLoop if train_cfg['by_epoch'] else \
                IterBasedTrainLoop
        else:
            loop = None
        length, unit = ('max_epochs', 'epochs') if inspect.isclass(
            loop) and issubclass(loop, EpochBasedTrainLoop) else (
                'max_iters', 'iterations') if inspect.isclass(
                    loop) and issubclass(loop, IterBasedTrainLoop) else (
                        None, None)
        if length is not None:
            value = train_cfg.get(length)
            if length in train_cfg and not _is_count(value):
                raise ConfigValueError(
                    f'train_cfg.{length} must be an integer >= 1 (the '
                    f'{unit} to train), got {value!r}: 0 trains nothing and '
                    'ends with exit status 0, a fraction stops the run when '
                    'the runner builds the loop')
            intervals = [('val_interval', train_cfg['val_interval'])] if \
                'val_interval' in train_cfg else []
            dynamic = train_cfg.get('dynamic_intervals') or []
            if isinstance(dynamic, (list, tuple)):
                intervals += [
                    (f'dynamic_intervals[{i}]', pair[1])
                    for i, pair in enumerate(dynamic)
                    if isinstance(pair, (list, tuple)) and len(pair) == 2]
            for name, value in intervals:
                if not _is_count(value):
                    raise ConfigValueError(
                        f'train_cfg.{name} must be an integer >= 1 (validate '
                        f'every N {unit}), got {value!r}: 0 stops the run '
                        'with a ZeroDivisionError once the first '
                        f'{unit[:-1]} is trained, a fraction validates at '
                        f'other {unit} than meant; to validate only at the '
                        f'end, set it to train_cfg.{length}')
    hooks = [(f'default_hooks.{name}', hook) for name, hook in (
        cfg.get('default_hooks') or {}).items()]
    hooks += [(f'custom_hooks.{i}', hook)
              for i, hook in enumerate(cfg.get('custom_hooks') or [])]
    for where, hook in hooks:
        if not isinstance(hook, Mapping):
            continue
        hook_class = _hook_class(hook.get('type'),
                                 hook.get('_scope_', scope))
        if not (inspect.isclass(hook_class)
                and issubclass(hook_class, CheckpointHook)):
            continue
        if hook.get('filename_tmpl') is not None:  # None: MMEngine's
            check_checkpoint_filename_tmpl(
                hook['filename_tmpl'], f'{where}.filename_tmpl',
                rotated=hook_class.__name__ == 'SafeCheckpointHook' or any(
                    base.__name__ == 'SafeCheckpointHook'
                    for base in inspect.getmro(hook_class)))
        if 'interval' not in hook:
            continue
        interval = hook['interval']
        if interval != -1 and not _is_count(interval):
            raise ConfigValueError(
                f'{where}.interval must be -1 (no checkpoints at intervals, '
                'MMEngine\'s default; save_last still saves the last one) or '
                f'an integer >= 1 (every N epochs, or iterations with '
                f'by_epoch=False), got {interval!r}: MMEngine\'s '
                'CheckpointHook saves at no interval for 0 or a negative '
                'one, silently')


def _typed_parts(cfg: Mapping) -> Iterator[Tuple[str, Mapping, str]]:
    """``(where, config, registry name)`` of the parts of a run config
    that name a registered ``type``: hooks, parameter schedulers, the optim
    wrapper and its optimizer, the loops, the data loaders' samplers,
    datasets (wrapped ones too) and transforms, the metrics, the model and
    its parts, the visualizer and its backends."""
    hooks = cfg.get('default_hooks')
    if isinstance(hooks, Mapping):
        for name, hook in hooks.items():
            yield f'default_hooks.{name}', hook, 'HOOKS'
    for i, hook in enumerate(cfg.get('custom_hooks') or []):
        yield f'custom_hooks.{i}', hook, 'HOOKS'
    for where, scheduler in _scheduler_configs(cfg.get('param_scheduler'),
                                               'param_scheduler'):
        yield where, scheduler, 'PARAM_SCHEDULERS'
    optim_wrapper = cfg.get('optim_wrapper')
    if isinstance(optim_wrapper, Mapping) and 'optimizer' in optim_wrapper:
        yield 'optim_wrapper', optim_wrapper, 'OPTIM_WRAPPERS'
        yield ('optim_wrapper.optimizer', optim_wrapper['optimizer'],
               'OPTIMIZERS')
    for loop in ('train_cfg', 'val_cfg', 'test_cfg'):
        yield loop, cfg.get(loop), 'LOOPS'
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(split)
        if not isinstance(loader, Mapping):
            continue
        for sampler in ('sampler', 'batch_sampler'):
            yield f'{split}.{sampler}', loader.get(sampler), 'DATA_SAMPLERS'
        stack = [(f'{split}.dataset', loader.get('dataset'))]
        while stack:
            where, dataset = stack.pop()
            if not isinstance(dataset, Mapping):
                continue
            yield where, dataset, 'DATASETS'
            for i, transform in enumerate(dataset.get('pipeline') or []):
                yield f'{where}.pipeline.{i}', transform, 'TRANSFORMS'
            stack.append((f'{where}.dataset', dataset.get('dataset')))
            inner = dataset.get('datasets')
            if isinstance(inner, (list, tuple)):
                stack += [(f'{where}.datasets.{i}', item)
                          for i, item in enumerate(inner)]
    for section in ('val_evaluator', 'test_evaluator'):
        for where, metric in _metric_configs(cfg.get(section), section):
            yield where, metric, 'METRICS'
    model = cfg.get('model')
    if isinstance(model, Mapping):
        yield 'model', model, 'MODELS'
        for name in MODEL_PARTS:
            yield f'model.{name}', model.get(name), 'MODELS'
    visualizer = cfg.get('visualizer')
    if isinstance(visualizer, Mapping):
        yield 'visualizer', visualizer, 'VISUALIZERS'
        backends = visualizer.get('vis_backends')
        if isinstance(backends, (list, tuple)):
            for i, backend in enumerate(backends):
                yield f'visualizer.vis_backends.{i}', backend, 'VISBACKENDS'


def _registered_names(registry, scope: Optional[str]) -> List[str]:
    """The names ``registry`` finds under ``scope`` (its own and its
    parents'), after it imported its locations; empty for an unknown
    scope."""
    try:
        with registry.switch_scope_and_registry(scope) as scoped:
            names, node = set(), scoped
            while node is not None:
                names |= set(node.module_dict)
                node = node.parent
            return sorted(names)
    except Exception:  # an unknown scope: the runner reports it
        return []


def check_type_names(cfg: Mapping) -> None:
    """Refuse a ``type`` that no registry of the part has (a typo such as
    ``CosineAnnealingLr``), naming the close registered ones: the runner
    would stop with the registry's ``KeyError`` when it builds the part,
    after writing to the work dir. Types given as classes, with a scope
    (``mmdet.X``) or under an unknown scope are left to the runner.

    Args:
        cfg (Mapping): The run config.

    Raises:
        ConfigKeyError: Naming the key, the type and the close names.
    """
    import mmengine.registry as registries
    scope = cfg.get('default_scope', 'mmpretrain')
    for where, part, registry_name in _typed_parts(cfg):
        if not isinstance(part, Mapping):
            continue
        kind = part.get('type')
        if not isinstance(kind, str) or '.' in kind or ':' in kind:
            continue
        registry = getattr(registries, registry_name)
        part_scope = part.get('_scope_', scope)
        if _registered_class(registry, kind, part_scope) is not None:
            continue
        names = _registered_names(registry, part_scope)
        if not names:
            continue
        raise ConfigKeyError(
            f'{where}.type is {kind!r}, which nothing in the '
            f'{registry.name} registry of scope {part_scope!r} is (the run '
            'would stop with a KeyError when the runner builds it, after '
            f'writing to the work dir); {did_you_mean(kind, names)}'
            'register it, or import the module that does with '
            'custom_imports')


def check_late_failing_values(cfg: Mapping) -> None:
    """Refuse values that MMEngine or torch would refuse only once the run
    has started, or that would make a part of the run silently not happen:
    a logger hook's ``interval`` that is not an integer >= 1, a parameter
    scheduler whose ``end`` is not after its
    ``begin``, and ``persistent_workers`` without workers. A ``val_begin``
    after the last epoch (or iteration) of a run that validates is warned
    about: the run never validates (MMDet's YouTube-VIS configs use it so).

    Args:
        cfg (Mapping): The run config.

    Raises:
        ConfigValueError: Naming the key, the value and what is allowed.
    """
    from mmengine.hooks import LoggerHook
    scope = cfg.get('default_scope', 'mmpretrain')
    hooks = [(f'default_hooks.{name}', hook) for name, hook in (
        cfg.get('default_hooks') or {}).items()]
    hooks += [(f'custom_hooks.{i}', hook)
              for i, hook in enumerate(cfg.get('custom_hooks') or [])]
    for where, hook in hooks:
        if not isinstance(hook, Mapping) or 'interval' not in hook:
            continue
        hook_class = _hook_class(hook.get('type'),
                                 hook.get('_scope_', scope))
        interval = hook['interval']
        if inspect.isclass(hook_class) and issubclass(
                hook_class, LoggerHook) and not (
                    isinstance(interval, int) and _is_count(interval)):
            raise ConfigValueError(
                f'{where}.interval must be an integer >= 1 (log every N '
                f'iterations), got {interval!r}: MMEngine\'s LoggerHook '
                'refuses it once the runner is built')
    train_cfg = cfg.get('train_cfg')
    if isinstance(train_cfg, Mapping) and 'val_begin' in train_cfg \
            and cfg.get('val_cfg') is not None:
        length = 'max_epochs' if 'max_epochs' in train_cfg else 'max_iters'
        last, begin = train_cfg.get(length), train_cfg['val_begin']
        if isinstance(last, numbers.Number) and isinstance(
                begin, numbers.Number) and begin > last:
            # a stock way to train without validating (MMDet's
            # YouTube-VIS configs): said, not refused
            warnings.warn(
                f'train_cfg.val_begin is {begin!r}, after the last of '
                f'train_cfg.{length} ({last}): the run never validates; '
                'to say so, set val_cfg=None, val_dataloader=None and '
                'val_evaluator=None', UserWarning)
    for where, scheduler in _scheduler_configs(
            cfg.get('param_scheduler'), 'param_scheduler'):
        begin, end = scheduler.get('begin', 0), scheduler.get('end')
        if isinstance(begin, numbers.Number) and isinstance(
                end, numbers.Number) and end <= begin:
            raise ConfigValueError(
                f'{where} has begin={begin!r} and end={end!r}: end must be '
                'larger than begin (MMEngine refuses it once training '
                'starts); leave end out to schedule to the end of the run')
    for section in ('train_dataloader', 'val_dataloader',
                    'test_dataloader'):
        loader = cfg.get(section)
        if isinstance(loader, Mapping) and loader.get(
                'persistent_workers') and not loader.get('num_workers'):
            raise ConfigValueError(
                f'{section}.persistent_workers=True needs worker processes, '
                f'but {section}.num_workers is '
                f'{loader.get("num_workers", 0)!r} (torch\'s DataLoader '
                'refuses it once the loader is built): set num_workers >= 1 '
                'or persistent_workers=False')


def check_config_keys(cfg: Mapping) -> None:
    """What ``tools/train.py`` and ``tools/test.py`` check before
    ``Runner.from_cfg``: :func:`check_top_level_keys`,
    :func:`check_nested_keys`, :func:`check_loop_keys`,
    :func:`check_hook_config`, :func:`check_model_keys`,
    :func:`check_built_arguments`, :func:`check_run_values` and
    :func:`check_late_failing_values`."""
    check_top_level_keys(cfg)
    check_nested_keys(cfg)
    check_loop_keys(cfg)
    check_type_names(cfg)
    check_hook_config(cfg)
    check_model_keys(cfg)
    check_built_arguments(cfg)
    check_run_values(cfg)
    check_late_failing_values(cfg)
