from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmpretrain.models import MoCoV3
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...utils.backbone_checkpoint import name_kinds
from ..backbones.lgp_beit_vit import LGPBEiTViT


@MODELS.register_module()
class LGPMoCoV3(MoCoV3):
    """MoCo v3 as the contrastive stage of Layer Grafted Pre-training (Jiang
    et al., ICLR 2023): a masked-modeling checkpoint is grafted into the
    lower layers of both encoders, and MoCo v3 trains on top with small
    learning rates below (see ``LayerGroupLrOptimWrapperConstructor``).

    The backbone (:class:`LGPBEiTViT`) loads the checkpoint of its
    ``init_cfg`` loudly in ``init_weights``; the momentum encoder is then
    set equal to the base encoder and projector, so both encoders start
    from the grafted weights. The parts the checkpoint does not fill (the
    projector and the predictor) are logged by name.

    Args:
        backbone (dict): An :class:`LGPBEiTViT` config, its ``init_cfg``
            ``dict(type='Pretrained', checkpoint=..., prefix='backbone.')``.
        neck (dict): The projector (``NonLinearNeck``).
        head (dict): ``MoCoV3Head`` with the predictor.
        base_momentum (float): See ``MoCoV3``. Defaults to 0.01.
        l1_dist_weight (float): Weight of the L1 pull of the lowest blocks
            toward their grafted values (LGP's ``--l1_dist_w``): the sum of
            the absolute differences of the weights, logged as
            ``loss_l1_dist`` beside ``loss_contrastive`` (MoCo v3's ``loss``,
            renamed so that the logged ``loss`` is their sum). 0 switches it
            off. Defaults to 0.
        l1_dist_layers (int, optional): The pull covers the patch
            embedding, the class token and the ``l1_dist_layers`` lowest
            blocks (LGP's ``--l1_dist_to_block``). Needed when
            ``l1_dist_weight > 0``.
        data_preprocessor (dict, optional): See ``MoCoV3``.
        init_cfg (dict or list[dict], optional): See ``MoCoV3``.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 base_momentum: float = 0.01,
                 l1_dist_weight: float = 0.,
                 l1_dist_layers: Optional[int] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[List[dict], dict]] = None) -> None:
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            base_momentum=base_momentum,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        if not isinstance(self.backbone, LGPBEiTViT):
            raise TypeError(
                f'{type(self).__name__} got {type(self.backbone).__name__} '
                "as its backbone: use type='LGPBEiTViT', which loads the "
                'grafted checkpoint loudly')
        if isinstance(l1_dist_weight, bool) or not isinstance(
                l1_dist_weight, (int, float)) or l1_dist_weight < 0:
            raise ValueError('l1_dist_weight must be a number >= 0 (0: no '
                             f'L1 pull), got {l1_dist_weight!r}')
        num_blocks = self.backbone.num_layers
        if l1_dist_weight > 0:
            if isinstance(l1_dist_layers, bool) or not isinstance(
                    l1_dist_layers, int) or not \
                    0 <= l1_dist_layers <= num_blocks:
                raise ValueError(
                    f'l1_dist_weight={l1_dist_weight} needs l1_dist_layers, '
                    f'the count of lowest blocks pulled toward the grafted '
                    f'weights, from 0 to {num_blocks}, got '
                    f'{l1_dist_layers!r}')
            if not self.backbone.loads_checkpoint:
                raise ValueError(
                    f'l1_dist_weight={l1_dist_weight} pulls the weights '
                    'toward a grafted checkpoint, but the backbone loads '
                    "none: set backbone.init_cfg=dict(type='Pretrained', "
                    "checkpoint=CKPT, prefix='backbone.')")
        self.l1_dist_weight = float(l1_dist_weight)
        self.l1_dist_layers = l1_dist_layers
        self._grafted: Dict[str, torch.Tensor] = {}

    def init_weights(self) -> None:
        super().init_weights()
        base = nn.Sequential(self.backbone, self.neck)
        with torch.no_grad():
            self.momentum_encoder.module.load_state_dict(base.state_dict())
        self._grafted = {
            name: param.detach().clone()
            for name, param in self.l1_dist_parameters()
        }
        if self.backbone.loads_checkpoint:
            fresh = [
                name for name, _ in self.named_parameters()
                if not name.startswith(('backbone.', 'momentum_encoder.'))
            ]
            print_log(
                f'{type(self).__name__}: '
                f'{self.backbone.init_cfg.get("checkpoint")} grafted into '
                'the base and the momentum encoder (backbone); not in the '
                'checkpoint, initialized fresh in both: '
                f'{name_kinds(fresh)}',
                logger='current')

    def l1_dist_parameters(self):
        """``(name, parameter)`` of the backbone parameters the L1 pull
        covers: depth (MMPretrain's ``get_layer_depth``) up to
        ``l1_dist_layers``; none when the pull is off."""
        if not self.l1_dist_weight:
            return []
        return [(name, param)
                for name, param in self.backbone.named_parameters()
                if self.backbone.get_layer_depth(name)[0] <=
                self.l1_dist_layers]

    def l1_distance(self) -> torch.Tensor:
        """The summed absolute difference of the covered parameters from
        their grafted values (0 when the pull is off)."""
        covered = self.l1_dist_parameters()
        if not covered:
            return self.backbone.cls_token.new_zeros(())
        if not self._grafted:
            raise RuntimeError(
                f'{type(self).__name__}.init_weights() has not run: the '
                'grafted weights the L1 pull needs are recorded there')
        total = 0.
        for name, param in covered:
            grafted = self._grafted[name]
            if grafted.device != param.device:
                grafted = self._grafted[name] = grafted.to(param.device)
            total = total + (param - grafted).abs().sum()
        return total

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        losses = super().loss(inputs, data_samples, **kwargs)
        if self.l1_dist_weight:
            # MMEngine logs the sum as 'loss', which a term of that name
            # would overwrite in the log (and in FiniteLossHook's record)
            losses['loss_contrastive'] = losses.pop('loss')
            losses['loss_l1_dist'] = self.l1_dist_weight * self.l1_distance()
        return losses
