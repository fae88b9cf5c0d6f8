"""Top-level, nested, ``--cfg-options`` and loop keys that nothing reads."""
import ast
import inspect
import os.path as osp
import warnings
from typing import Iterable, List, Mapping, Optional

from mmengine.runner import Runner

from ...compat import config_base_files
from ..arg_checks import config_type_name
from .base import (ConfigKeyError, _registered_class, _short, check_arguments,
                   did_you_mean, refuse_unknown_arguments, typo_of)
from .optim import (LAYER_DECAY_PARAMWISE_KEYS, _optimizer_configs,
                    check_custom_key_settings, paramwise_keys_read)

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


# what the runner passes to the loops it builds
LOOP_ARGUMENTS_SET_BY_RUNNER = ('self', 'runner', 'dataloader', 'evaluator')


# the keys of the nested dicts the runner reads with .get (MMEngine 0.10)
AUTO_SCALE_LR_KEYS = ('enable', 'base_batch_size')


ENV_CFG_KEYS = ('cudnn_benchmark', 'mp_cfg', 'dist_cfg', 'resource_limit')


def runner_keys() -> List[str]:
    """The top-level config keys MMEngine's runner (and its config loader)
    reads."""
    names = inspect.signature(Runner.__init__).parameters
    return sorted(set(names) - {'self', 'cfg'} | set(EXTRA_RUNNER_KEYS))


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
    randomness = cfg.get('randomness')
    if isinstance(randomness, Mapping):  # Runner.set_randomness(**it)
        refuse_unknown_arguments(
            'Runner.set_randomness',
            [name for name in inspect.signature(
                Runner.set_randomness).parameters if name != 'self'],
            randomness, 'randomness')
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
