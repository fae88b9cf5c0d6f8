"""Typos in config keys, refused when a run is built.

MMEngine reads the top-level keys it knows and ignores the rest, so a
misspelt one (``trian_cfg``) is silently dropped; and MMEngine's
``CheckpointHook`` hands arguments it does not know to
``runner.save_checkpoint``, so a misspelt one
(``default_hooks.checkpoint.max_keep_ckpt``) fails at the first save, maybe
hours into a run. Both are refused here before anything is built, with the
key and the names it is close to.

Configs hold more top-level names than the runner reads (``_base_``,
``custom_imports``, variables such as ``train_pipeline``, ``data_root`` or
``bgr_mean``), so a top-level key is refused only when it is not a key the
runner reads but is one typo away from one (a letter added, dropped,
changed, or two swapped). Names two edits away are left alone: among the
top-level names of MMPretrain's, MMSeg's and MMDet's shipped configs they
are variables (``conv_cfg`` is two from ``env_cfg``, ``gallery_dataloader``
and ``val_evaluator_dice`` are others' relatives), not typos.
"""
import difflib
import inspect
from typing import Iterable, List, Mapping

from mmengine.runner import Runner

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


class ConfigKeyError(KeyError):
    """A config key that nothing reads, close to one that is read."""

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


def close_matches(name: str, known: Iterable[str],
                  cutoff: float = 0.6) -> List[str]:
    """Up to three names of ``known`` most like ``name`` (difflib)."""
    return difflib.get_close_matches(name, list(known), n=3, cutoff=cutoff)


def check_top_level_keys(cfg: Mapping) -> None:
    """Refuse a top-level key that the runner does not read but that is one
    typo away from one it reads (``trian_cfg``, ``work_dirs``,
    ``default_hook``).

    Args:
        cfg (Mapping): The run config (``mmengine.Config``).

    Raises:
        ConfigKeyError: Naming the key and the runner keys it is close to.
    """
    known = runner_keys()
    for key in cfg.keys():
        if key in known or key in CONVENTIONAL_KEYS:
            continue
        matches = [name for name in known if one_typo_apart(key, name)]
        if matches:
            raise ConfigKeyError(
                f'the config sets {key!r}, which nothing reads; did you mean '
                f'{" or ".join(map(repr, matches))}? (a typo would otherwise '
                'be ignored silently; rename the key, or give a variable '
                'a name that is not one letter from a runner key)')


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
        matches = close_matches(name, accepted)
        hint = (f'did you mean {" or ".join(map(repr, matches))}? '
                if matches else '')
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
    ``Runner.from_cfg``: :func:`check_top_level_keys` and
    :func:`check_checkpoint_hook_config`."""
    check_top_level_keys(cfg)
    check_checkpoint_hook_config(cfg)
