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
"""
import ast
import difflib
import inspect
import os.path as osp
import warnings
from typing import Iterable, List, Mapping, Optional

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


class ConfigKeyError(KeyError):
    """A config key that nothing reads."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


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


def check_checkpoint_hook_config(cfg: Mapping) -> None:
    """Check the arguments of ``default_hooks.checkpoint`` and of checkpoint
    hooks in ``custom_hooks`` (MMEngine's or ours) before the runner builds
    them.

    Args:
        cfg (Mapping): The run config.

    Raises:
        TypeError: See :func:`check_hook_arguments`.
    """
    from mmengine.hooks import CheckpointHook

    from ..engine.hooks.safe_checkpoint_hook import SafeCheckpointHook
    classes = dict(CheckpointHook=CheckpointHook,
                   SafeCheckpointHook=SafeCheckpointHook)
    hooks = [('default_hooks.checkpoint',
              (cfg.get('default_hooks') or {}).get('checkpoint'))]
    hooks += [(f'custom_hooks.{i}', hook)
              for i, hook in enumerate(cfg.get('custom_hooks') or [])]
    for where, hook in hooks:
        if not isinstance(hook, Mapping):
            continue
        hook_type = hook.get('type')
        hook_class = classes.get(hook_type) if isinstance(
            hook_type, str) else hook_type
        if isinstance(hook_class, type) and issubclass(
                hook_class, CheckpointHook):
            # 'type' and the registry's own keys ('_scope_') are not
            # arguments of the hook
            check_hook_arguments(
                hook_class,
                [k for k in hook if k != 'type' and not k.startswith('_')],
                where)


def check_config_keys(cfg: Mapping) -> None:
    """What ``tools/train.py`` and ``tools/test.py`` check before
    ``Runner.from_cfg``: :func:`check_top_level_keys`,
    :func:`check_nested_keys` and :func:`check_checkpoint_hook_config`."""
    check_top_level_keys(cfg)
    check_nested_keys(cfg)
    check_checkpoint_hook_config(cfg)
