"""Fine-tuning that fails loudly when the pre-trained weights do not fit.

``init_cfg=dict(type='Pretrained', ...)`` on MMPretrain's backbones loads
with ``strict=False``: a checkpoint of another architecture (e.g. a
BEiT-style ROPIM checkpoint, which has no absolute position embedding, in a
plain-ViT fine-tuning config) loads partly, and training goes on from a
random ``pos_embed`` with one log line as the only trace.
"""
from typing import Iterator, List, Sequence, Tuple

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.model.weight_init import PretrainedInit
from mmengine.registry import HOOKS

from ...utils.backbone_checkpoint import (check_fresh_parameters,
                                          load_backbone_weights)


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
    from ...models.backbones.transfer_vit import LoudPretrainedMixin
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


@HOOKS.register_module()
class PretrainedWeightsCheckHook(Hook):
    """Check that every ``init_cfg=dict(type='Pretrained')`` of the model
    filled its module, before the first training step.

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

    Runs that loaded a checkpoint (resumed one, or started from a whole
    model with ``load_from``) replace the initialization and are not
    checked; ``resume`` set in a work dir with nothing to resume is.

    Args:
        fresh_parameters (Sequence[str]): Full names (in the model) of the
            parameters the fine-tuning recipe adds, which a pre-training
            checkpoint lacks, e.g. ``('backbone.ln2.weight',
            'backbone.ln2.bias')``, the pooling norm of MMPretrain's ViTs
            with ``out_type='avg_featmap'``. Defaults to ().
    """

    priority = 'VERY_HIGH'

    def __init__(self, fresh_parameters: Sequence[str] = ()) -> None:
        self.fresh_parameters = check_fresh_parameters(
            fresh_parameters,
            'full parameter names (e.g. "backbone.ln2.weight")')
        self._checkpoint_loaded = False

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        # MMEngine calls this for --resume and load_from alike, and only
        # when a checkpoint is actually loaded
        self._checkpoint_loaded = True

    def before_train(self, runner) -> None:
        if self._checkpoint_loaded:
            return
        checked = 0
        for name, module, entry in pretrained_modules(_unwrapped(runner)):
            scope = f'{name}.' if name else ''
            load_backbone_weights(
                module,
                entry.get('checkpoint'),
                entry.get('prefix') or '',
                fresh_names=[
                    full[len(scope):] for full in self.fresh_parameters
                    if full.startswith(scope)
                ])
            checked += 1
        if not checked:
            print_log(
                'PretrainedWeightsCheckHook: no module of the model has '
                "init_cfg=dict(type='Pretrained'); nothing to check",
                logger='current', level=30)
