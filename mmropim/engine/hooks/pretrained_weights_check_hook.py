"""Fine-tuning that fails loudly when the pre-trained weights do not fit.

``init_cfg=dict(type='Pretrained', ...)`` on MMPretrain's backbones loads
with ``strict=False``: a checkpoint of another architecture (e.g. a
BEiT-style ROPIM checkpoint, which has no absolute position embedding, in a
plain-ViT fine-tuning config) loads partly, and training goes on from a
random ``pos_embed`` with one log line as the only trace. The runner's
``load_from`` loads with ``strict=False`` too: a file lacking weights (an
empty ``state_dict``, a pre-training checkpoint) leaves them at their
initialization just as silently.
"""
from typing import Iterator, List, Sequence, Set, Tuple

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.model.weight_init import PretrainedInit
from mmengine.registry import HOOKS

from ...utils.backbone_checkpoint import (check_fresh_parameters,
                                          load_backbone_weights, name_kinds)
from ...utils.model_checkpoint import (SHOWN, CheckpointMismatchError,
                                       compare_checkpoint_with_model,
                                       unusable_weights)


def pretrained_entries(init_cfg) -> List[dict]:
    """The ``Pretrained`` entries of a module's ``init_cfg``, which MMEngine
    takes as one dict or a list of them.

    Args:
        init_cfg: A module's ``init_cfg`` (None, a dict or a list).

    Returns:
        list[dict]: Each entry whose ``type`` is ``'Pretrained'`` (or
        MMEngine's ``PretrainedInit``), in order.
    """
    entries = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return [
        entry for entry in entries if isinstance(entry, dict)
        and entry.get('type') in ('Pretrained', PretrainedInit)
    ]


def pretrained_modules(model) -> Iterator[Tuple[str, object, dict]]:
    """``(name, module, entry)`` for each ``Pretrained`` entry of the
    ``init_cfg`` of the model and of every module in it, except our
    transfer backbones, which load loudly themselves."""
    from ...models.backbones.loud_pretrained import LoudPretrainedMixin
    for name, module in model.named_modules():
        if isinstance(module, LoudPretrainedMixin):
            continue
        for entry in pretrained_entries(getattr(module, 'init_cfg', None)):
            yield name, module, entry


def _unwrapped(runner):
    return runner.model.module if is_model_wrapper(
        runner.model) else runner.model


def warn_unchecked_pretrained(runner) -> None:
    """Warn when the model loads a checkpoint through
    ``init_cfg=dict(type='Pretrained')`` and the run has no
    :class:`PretrainedWeightsCheckHook`: MMEngine's loading would go on
    from random weights for whatever the checkpoint lacks.
    :class:`~mmropim.engine.SafeCheckpointHook` (our configs' checkpoint
    hook) calls it when training starts without a loaded checkpoint.

    Args:
        runner (Runner): The runner, with its model and hooks.
    """
    if any(isinstance(hook, PretrainedWeightsCheckHook)
           for hook in getattr(runner, 'hooks', ())):
        return
    model = getattr(runner, 'model', None)
    if model is None or not hasattr(_unwrapped(runner), 'named_modules'):
        return
    loaded = [
        f'{name or "the model"} from {entry.get("checkpoint")}'
        for name, _, entry in pretrained_modules(_unwrapped(runner))
    ]
    if loaded:
        print_log(
            'the model loads pre-trained weights through init_cfg='
            f"dict(type='Pretrained') ({'; '.join(loaded)}), which MMEngine "
            'does with strict=False: weights the checkpoint lacks stay '
            'random, with one log line. Add '
            "custom_hooks = [dict(type='PretrainedWeightsCheckHook', "
            "fresh_parameters=[...])] to the config to stop the run "
            'instead (our fine-tuning configs have it).',
            logger='current', level=30)


def _self_loading_scopes(model) -> List[str]:
    """The name prefixes (``'backbone.'``) of our transfer backbones that
    load a ``Pretrained`` checkpoint loudly themselves (a dict
    ``init_cfg``), which :func:`pretrained_modules` skips."""
    from ...models.backbones.loud_pretrained import LoudPretrainedMixin
    return [
        f'{name}.' if name else ''
        for name, module in model.named_modules()
        if isinstance(module, LoudPretrainedMixin)
        and isinstance(module.init_cfg, dict)
        and pretrained_entries(module.init_cfg)
    ]


@HOOKS.register_module()
class PretrainedWeightsCheckHook(Hook):
    """Check, before the first training step, that every weight of the
    model came from a checkpoint: from each
    ``init_cfg=dict(type='Pretrained')``, and from the ``load_from`` file.

    After MMEngine has initialized the weights, each module whose
    ``init_cfg`` is ``Pretrained`` (or a list holding ``Pretrained``
    entries; the model's and any submodule's) has its checkpoint read again
    through :func:`mmropim.utils.load_backbone_weights` (the same file,
    URLs included, through the same safe loader, and loaded the same way,
    so nothing changes when it fits): a parameter of the module the
    checkpoint lacks raises ``KeyError`` naming it, a tensor of another
    shape that the module's load hooks do not adapt raises ``ValueError``,
    and the checkpoint keys the module does not use are logged. Our
    transfer backbones (``TransferViT``, ``TransferBEiTViT``) load that way
    themselves and are skipped.

    A run started from ``load_from`` (without ``resume``), which MMEngine
    loads with ``strict=False`` over the initialization, is checked too:
    the file's ``state_dict`` is compared with the model as it loads it
    (``module.`` prefixes removed, the model's load hooks applied) when the
    runner hands it over (``after_load_checkpoint``, before its weights
    load; nothing is read twice). A weight of the model it lacks, or holds
    in another shape, raises
    :class:`~mmropim.utils.model_checkpoint.CheckpointMismatchError`
    naming the file, the count and the weights, unless it is in
    ``fresh_parameters`` or belongs to a module a ``Pretrained`` entry
    fills, whose checkpoint is then checked as above but not loaded again
    (the ``load_from`` weights stay). Checkpoint keys the model does not
    use are logged.

    Resumed runs (``resume``) take every weight from the run state they
    resume and are not checked; ``resume`` set in a work dir with nothing
    to resume is checked as a fresh run.

    Args:
        fresh_parameters (Sequence[str]): Full names (in the model) of the
            parameters the fine-tuning recipe adds, which a pre-training
            checkpoint (or the ``load_from`` file) lacks, e.g.
            ``('backbone.ln2.weight', 'backbone.ln2.bias')``, the pooling
            norm of MMPretrain's ViTs with ``out_type='avg_featmap'``.
            Defaults to ().
    """

    priority = 'VERY_HIGH'

    def __init__(self, fresh_parameters: Sequence[str] = ()) -> None:
        self.fresh_parameters = check_fresh_parameters(
            fresh_parameters,
            'full parameter names (e.g. "backbone.ln2.weight")')
        self._resumed = False
        self._load_from = None  # (file, differences) of a load_from

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        # MMEngine calls this for --resume and load_from alike, only when a
        # checkpoint is actually loaded, and before its weights load
        cfg = getattr(runner, 'cfg', None) or {}
        if cfg.get('resume'):  # the run state replaces everything
            self._resumed = True
            return
        filename = cfg.get('load_from') or 'the load_from checkpoint'
        self._load_from = (filename, compare_checkpoint_with_model(
            _unwrapped(runner), checkpoint))

    def _check_pretrained(self, runner, copy: bool) -> Set[str]:
        """Check every ``Pretrained`` entry, loading it again (``copy``) or
        only comparing; return the full names of the weights the checked
        entries fill."""
        model = _unwrapped(runner)
        for name, module, entry in pretrained_modules(model):
            scope = f'{name}.' if name else ''
            load_backbone_weights(
                module,
                entry.get('checkpoint'),
                entry.get('prefix') or '',
                fresh_names=[
                    full[len(scope):] for full in self.fresh_parameters
                    if full.startswith(scope)
                ],
                copy=copy)
        return pretrained_filled(model)

    def before_train(self, runner) -> None:
        if self._resumed:
            return
        if self._load_from is None:
            if not any(pretrained_modules(_unwrapped(runner))):
                print_log(
                    'PretrainedWeightsCheckHook: no module of the model has '
                    "init_cfg=dict(type='Pretrained'); nothing to check",
                    logger='current', level=30)
            self._check_pretrained(runner, copy=True)
            return
        self._check_load_from(runner)

    def _check_load_from(self, runner) -> None:
        """Raise if the ``load_from`` file left weights of the model that
        no checked ``Pretrained`` entry fills, or that are not fresh, at
        their initialization."""
        filename, differences = self._load_from
        filled = self._check_pretrained(runner, copy=False)
        check_loaded_weights(_unwrapped(runner), f'load_from={filename}',
                             differences,
                             filled | set(self.fresh_parameters))


def check_loaded_weights(model, source: str, differences: dict,
                         allowed: Set[str] = frozenset(),
                         resumed: bool = False) -> None:
    """Raise when a checkpoint the runner loads (MMEngine: ``strict=False``)
    leaves weights of the model at their initialization, or holds tensors
    of other shapes that it skips; log what it fills and what it does not
    use.

    Args:
        model (nn.Module): The unwrapped model.
        source (str): The checkpoint, as the user gave it
            (``'load_from=FILE'``, ``'--resume of FILE'``).
        differences (dict): :func:`compare_checkpoint_with_model`'s.
        allowed (set[str]): Full names that may be missing (fresh, or
            filled by a checked ``Pretrained`` init).
        resumed (bool): A resumed run checkpoint, which holds every weight
            of its model. Defaults to False.

    Raises:
        CheckpointMismatchError: Naming the file, the count, the modules
            and the first missing or mismatched weights.
    """
    missing = [key for key in differences['missing'] if key not in allowed]
    mismatched = [line for line in differences['mismatched']
                  if line.split(':')[0] not in allowed]
    name = type(model).__name__
    if missing:
        heads = sorted({key.split('.')[0] for key in missing})
        advice = (
            'A run checkpoint holds every weight of its model, so this one '
            'is of another model or was cut; resume a checkpoint this '
            'config wrote' if resumed else
            'Give a checkpoint of this model; a pre-training checkpoint '
            'goes into the backbone\'s init_cfg instead (--cfg-options '
            'load_from=None model.backbone.init_cfg.checkpoint=CKPT); '
            'weights the recipe initializes itself go into '
            'fresh_parameters of PretrainedWeightsCheckHook')
        raise CheckpointMismatchError(
            f'{source} lacks {len(missing)} of the '
            f'{differences["total"]} weights of {name} (in '
            f'{", ".join(heads)}), by name: '
            f'{name_kinds(missing)[:2 * SHOWN]}: MMEngine loads it with '
            'strict=False and training would start them from their '
            f'initialization. {advice}')
    unusable = unusable_weights(differences, allowed, name)
    if unusable:
        raise CheckpointMismatchError(
            f'{source} has {unusable}: MMEngine loads it with strict=False, '
            'only warns, and training would start them from their '
            'initialization. Give a checkpoint a training run wrote')
    if mismatched:
        raise CheckpointMismatchError(
            f'{source} does not fit {name}: {len(mismatched)} tensors have '
            'other shapes (after the model\'s load-time adaptation), which '
            f'MMEngine does not load, e.g. {mismatched[:SHOWN]}' +
            ('' if resumed else '; list those the recipe initializes '
             'itself in fresh_parameters of PretrainedWeightsCheckHook'))
    kept = sorted(set(differences['missing'])
                  | {line.split(':')[0] for line in differences['mismatched']}
                  | {line.split(':')[0]
                     for line in differences.get('unusable', ())})
    unexpected = differences['unexpected']
    print_log(
        f'{source}: {differences["total"] - len(kept)} of the '
        f'{differences["total"]} weights of {name} loaded; the others from '
        f'fresh_parameters or a checked Pretrained init_cfg: '
        f'{name_kinds(kept)[:2 * SHOWN] or "none"}; '
        f'{len(unexpected)} checkpoint keys the model does not use'
        f'{": " + str(unexpected[:SHOWN]) if unexpected else ""}'
        f'{" ..." if len(unexpected) > SHOWN else ""}',
        logger='current', level=30 if unexpected else 20)


def pretrained_filled(model) -> Set[str]:
    """Full names of the weights that ``Pretrained`` init_cfg entries of
    the model (and our self-loading transfer backbones) fill."""
    filled = set()
    for name, module, _ in pretrained_modules(model):
        scope = f'{name}.' if name else ''
        filled.update(scope + key for key in module.state_dict())
    for scope in _self_loading_scopes(model):
        filled.update(key for key in model.state_dict()
                      if key.startswith(scope))
    return filled
