from typing import Sequence

from mmpretrain.registry import MODELS

from ...utils.backbone_checkpoint import check_fresh_parameters
from .loud_pretrained import LoudPretrainedMixin
from .ropim_beit_vit import BEiTAuthorsViT


@MODELS.register_module()
class LGPBEiTViT(LoudPretrainedMixin, BEiTAuthorsViT):
    """ROPIM's BEiT-style ViT as the encoder of Layer Grafted Pre-training's
    contrastive stage (MoCo v3 on top of the masked-modeling layers).

    The architecture and parameter names are :class:`ROPIMBEiTViT`'s (a
    relative position bias shared by all layers, layer scale, q / v bias, a
    final norm), so a ROPIM checkpoint loads without key changes and the
    grafted checkpoint fine-tunes with the ROPIM fine-tuning configs. The
    output is the class token after the final norm, which MoCo v3's
    projector reads. ``init_cfg=dict(type='Pretrained', checkpoint=...,
    prefix='backbone.')`` loads loudly (:class:`LoudPretrainedMixin`): a
    backbone weight the checkpoint lacks raises.

    Args:
        out_type (str): Defaults to 'cls_token'.
        stop_grad_conv1 (bool): Freeze the patch embedding, as MoCo v3's
            ViT (``--stop-grad-conv1``). Defaults to False.
        fresh_parameters (Sequence[str]): Endings of parameter names a
            checkpoint may lack (logged). Defaults to ().
        **kwargs: Other arguments of :class:`BEiTAuthorsViT` / ``BEiTViT``.
    """

    def __init__(self,
                 out_type: str = 'cls_token',
                 stop_grad_conv1: bool = False,
                 fresh_parameters: Sequence[str] = (),
                 **kwargs) -> None:
        self.fresh_parameters = check_fresh_parameters(fresh_parameters)
        super().__init__(out_type=out_type, **kwargs)
        self.stop_grad_conv1 = stop_grad_conv1
        if stop_grad_conv1:
            self.patch_embed.requires_grad_(False)
