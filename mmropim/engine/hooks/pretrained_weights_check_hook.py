"""Fine-tuning that fails loudly when the pre-trained weights do not fit.

``init_cfg=dict(type='Pretrained', ...)`` on MMPretrain's backbones loads
with ``strict=False``: a checkpoint of another architecture (e.g. a
BEiT-style ROPIM checkpoint, which has no absolute position embedding, in a
plain-ViT fine-tuning config) loads partly, and training goes on from a
random ``pos_embed`` with one log line as the only trace.
"""
from typing import Sequence

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from ...utils.backbone_checkpoint import (check_fresh_parameters,
                                          load_backbone_weights)


@HOOKS.register_module()
class PretrainedWeightsCheckHook(Hook):
    """Check that every ``init_cfg=dict(type='Pretrained')`` of the model
    filled its module, before the first training step.

    After MMEngine has initialized the weights, each module whose
    ``init_cfg`` is ``Pretrained`` has its checkpoint read again through
    :func:`mmropim.utils.load_backbone_weights` (the same tensors, loaded
    the same way, so nothing changes when they fit): a parameter of the
    module the checkpoint lacks raises ``KeyError`` naming it, a tensor of
    another shape raises ``ValueError``, and the checkpoint keys the module
    does not use are logged. Our transfer backbones (``TransferViT``,
    ``TransferBEiTViT``) load that way themselves and are skipped.

    Runs that resume (``resume``) or start from a whole model
    (``load_from``) replace the initialization and are not checked.

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

    def before_train(self, runner) -> None:
        if runner.cfg.get('resume') or runner.cfg.get('load_from'):
            return
        from ...models.backbones.transfer_vit import LoudPretrainedMixin
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        checked = 0
        for name, module in model.named_modules():
            init_cfg = getattr(module, 'init_cfg', None)
            if not (isinstance(init_cfg, dict)
                    and init_cfg.get('type') == 'Pretrained') or isinstance(
                        module, LoudPretrainedMixin):
                continue  # not pre-trained, or a loud transfer backbone
            scope = f'{name}.' if name else ''
            load_backbone_weights(
                module,
                init_cfg.get('checkpoint'),
                init_cfg.get('prefix') or '',
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
