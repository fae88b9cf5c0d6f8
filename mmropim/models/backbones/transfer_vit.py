from typing import Sequence

from mmpretrain.models import BEiTViT, VisionTransformer
from mmpretrain.registry import MODELS

from ...utils.backbone_checkpoint import load_backbone_weights


class LoudPretrainedMixin:
    """``init_cfg=dict(type='Pretrained', checkpoint=..., prefix=...)``
    loads through :func:`load_backbone_weights`, which raises when backbone
    weights are missing, instead of MMEngine's silent ``strict=False``."""

    def init_weights(self) -> None:
        init_cfg = self.init_cfg
        if not (isinstance(init_cfg, dict)
                and init_cfg.get('type') == 'Pretrained'):
            super().init_weights()
            return
        self.init_cfg = None  # default init for anything not loaded
        super().init_weights()
        self.init_cfg = init_cfg
        load_backbone_weights(self, init_cfg.get('checkpoint'),
                              init_cfg.get('prefix', 'backbone.'))
        self._is_init = True


@MODELS.register_module()
class TransferViT(LoudPretrainedMixin, VisionTransformer):
    """MMPretrain's ``VisionTransformer`` returning multi-level feature maps
    for dense downstream tasks, loading our pre-training checkpoints loudly.

    The position embedding is interpolated to ``img_size`` when the weights
    load. Parameter names are MMPretrain's, so ``get_layer_depth`` drives
    layer-wise learning-rate decay.

    Args:
        out_indices (Sequence[int]): Layers whose tokens are returned as
            (B, C, H/p, W/p) maps. Defaults to (3, 5, 7, 11).
        final_norm (bool): Defaults to False.
        **kwargs: Other arguments of ``VisionTransformer`` (arch, img_size,
            patch_size, drop_path_rate, init_cfg, ...).
    """

    def __init__(self,
                 out_indices: Sequence[int] = (3, 5, 7, 11),
                 final_norm: bool = False,
                 **kwargs) -> None:
        kwargs.setdefault('out_type', 'featmap')
        super().__init__(
            out_indices=list(out_indices), final_norm=final_norm, **kwargs)


@MODELS.register_module()
class TransferBEiTViT(LoudPretrainedMixin, BEiTViT):
    """MMPretrain's ``BEiTViT`` (per-layer relative position bias, layer
    scale) returning multi-level feature maps; reads ROPIM's BEiT-style
    checkpoints: the shared relative position table is copied into every
    layer and resized to the downstream grid when the weights load.

    Args:
        out_indices (Sequence[int]): Defaults to (3, 5, 7, 11).
        use_abs_pos_emb (bool): Defaults to False.
        use_rel_pos_bias (bool): Defaults to True.
        use_shared_rel_pos_bias (bool): Defaults to False.
        layer_scale_init_value (float): Defaults to 0.1.
        final_norm (bool): Defaults to False.
        **kwargs: Other arguments of ``BEiTViT``.
    """

    def __init__(self,
                 out_indices: Sequence[int] = (3, 5, 7, 11),
                 use_abs_pos_emb: bool = False,
                 use_rel_pos_bias: bool = True,
                 use_shared_rel_pos_bias: bool = False,
                 layer_scale_init_value: float = 0.1,
                 final_norm: bool = False,
                 **kwargs) -> None:
        kwargs.setdefault('out_type', 'featmap')
        super().__init__(
            out_indices=list(out_indices),
            use_abs_pos_emb=use_abs_pos_emb,
            use_rel_pos_bias=use_rel_pos_bias,
            use_shared_rel_pos_bias=use_shared_rel_pos_bias,
            layer_scale_init_value=layer_scale_init_value,
            final_norm=final_norm,
            **kwargs)
