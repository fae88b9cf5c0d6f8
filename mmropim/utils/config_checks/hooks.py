"""Hook arguments, ``default_hooks`` entries and checkpoint names."""
import inspect
import os.path as osp
import re
import string
from typing import Iterable, Iterator, List, Mapping, Optional, Tuple

from mmengine.runner import Runner

from .base import (ConfigKeyError, ConfigValueError, _registered_class,
                   check_arguments, did_you_mean)

# what CheckpointHook passes to runner.save_checkpoint itself; an extra
# argument of the hook may only be another argument of save_checkpoint
SAVE_ARGUMENTS_SET_BY_HOOK = ('self', 'out_dir', 'filename',
                              'file_client_args', 'save_optimizer',
                              'save_param_scheduler', 'meta', 'by_epoch',
                              'backend_args')


CHECKPOINT_HOOKS = ('CheckpointHook', 'SafeCheckpointHook')


# the hooks MMEngine's runner registers unless default_hooks sets them to
# None (Runner.register_default_hooks, MMEngine 0.10)
DEFAULT_HOOK_NAMES = ('runtime_info', 'timer', 'sampler_seed', 'logger',
                      'param_scheduler', 'checkpoint')


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


def _hook_class(hook_type, scope: Optional[str]):
    """The hook class a config ``type`` names; None if it names none."""
    from mmengine.hooks import CheckpointHook
    from mmengine.registry import HOOKS

    from ...engine.hooks.safe_checkpoint_hook import SafeCheckpointHook
    known = dict(CheckpointHook=CheckpointHook,
                 SafeCheckpointHook=SafeCheckpointHook)
    if isinstance(hook_type, str) and hook_type in known:
        return known[hook_type]
    return _registered_class(HOOKS, hook_type, scope)


def hook_configs(cfg: Mapping) -> Iterator[Tuple[str, object]]:
    """``(where, config)`` of every hook of a run config: the entries of
    ``default_hooks`` (``'default_hooks.checkpoint'``), then those of
    ``custom_hooks`` (``'custom_hooks.0'``), as given (a dict, None or a
    built hook)."""
    default_hooks = cfg.get('default_hooks')
    if isinstance(default_hooks, Mapping):
        for name, hook in default_hooks.items():
            yield f'default_hooks.{name}', hook
    for i, hook in enumerate(cfg.get('custom_hooks') or []):
        yield f'custom_hooks.{i}', hook


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


def check_checkpoint_filename_tmpl(filename_tmpl, where: str,
                                   rotated: bool = True) -> None:
    """Refuse a checkpoint hook's ``filename_tmpl`` that would write outside
    its folder (a path: ``'../x_{}.pth'``, ``'ckpts/x_{}.pth'``) or, for a
    hook that writes before it deletes (``rotated``, our
    ``SafeCheckpointHook``), one whose names it could not tell apart or
    recognize as its own: it must hold one field for the step, ``{}`` or an
    integer format (``{:06d}``), and no other (``'latest.pth'`` named every
    checkpoint alike, so each save deleted the file it had just written).

    Args:
        filename_tmpl: The template.
        where (str): Its config key, for the message.
        rotated (bool): Require the one step field. Defaults to True.

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
        fields = [(field, spec, conversion) for _, field, spec, conversion
                  in string.Formatter().parse(filename_tmpl)
                  if field is not None]
    except ValueError:  # an unmatched brace
        fields = [None]
    # one field, the step: '{}', '{0}', or an integer format ('{:06d}')
    if len(fields) != 1 or fields[0] is None or fields[0][0] not in (
            '', '0') or fields[0][2] is not None or not re.fullmatch(
                r'(0?\d*d?)?', fields[0][1] or ''):
        raise ConfigValueError(
            f'{where} must be {allowed}, got {filename_tmpl!r}: the hook '
            'writes each checkpoint before it deletes the oldest, and finds '
            'its own by this name, so every step needs its own name: one '
            "field for the step, '{}' or an integer format such as "
            "'{:06d}'")
