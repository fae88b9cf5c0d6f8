"""Values that would stop a run late or make part of it silently not
happen."""
import inspect
import numbers
import warnings
from typing import Mapping

from .base import ConfigValueError, _is_count, _registered_class
from .built import _scheduler_configs
from .hooks import _hook_class, check_checkpoint_filename_tmpl, hook_configs


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
    for where, hook in hook_configs(cfg):
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
    for where, hook in hook_configs(cfg):
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
