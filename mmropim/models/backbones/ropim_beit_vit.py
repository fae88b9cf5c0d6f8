from typing import Tuple

from mmpretrain.models import BEiTViT
from mmpretrain.registry import MODELS

from .ropim_vit import ProjectedForwardMixin
from .vit_tokens import check_out_indices_kwarg, check_relative_position_grid
from .vit_tokens import drop_path_once as single_drop_path


@MODELS.register_module()
class ROPIMBEiTViT(ProjectedForwardMixin, BEiTViT):
    """BEiT-style ViT for ROPIM pre-training, as the ROPIM authors use it.

    Defaults follow the authors: no absolute position embedding, a relative
    position bias shared by all layers, layer scale 0.1, q/v bias, LayerNorm
    eps 1e-6, a final norm. ``forward(x, token_projection)`` applies the
    sketch projector to the patch embeddings before the class token is
    prepended; without a projection it is MMPretrain's ``BEiTViT``. Its
    weights load into ``BEiTViT`` for fine-tuning without any key change
    (``BEiTViT`` copies the shared relative position table into every layer
    when it loads them).

    Args:
        use_rel_pos_bias (bool): Per-layer relative position bias.
            Defaults to False.
        use_shared_rel_pos_bias (bool): Defaults to True.
        final_norm (bool): Defaults to True.
        out_type (str): Output of the plain forward. Defaults to 'featmap'.
        drop_path_once (bool): Apply stochastic depth once on the FFN
            branch, as the authors do (MMPretrain's BEiT layer applies it
            twice: see :func:`drop_path_once`). Defaults to True.
        **kwargs: Other arguments of ``BEiTViT``, whose defaults
            ``use_abs_pos_emb=False`` and ``layer_scale_init_value=0.1`` are
            the authors'.
    """

    def __init__(self,
                 use_rel_pos_bias: bool = False,
                 use_shared_rel_pos_bias: bool = True,
                 final_norm: bool = True,
                 out_type: str = 'featmap',
                 drop_path_once: bool = True,
                 **kwargs) -> None:
        check_out_indices_kwarg(self, kwargs)
        if drop_path_once:
            kwargs['layer_cfgs'] = single_drop_path(
                kwargs.get('layer_cfgs', dict()))
        super().__init__(
            use_rel_pos_bias=use_rel_pos_bias,
            use_shared_rel_pos_bias=use_shared_rel_pos_bias,
            final_norm=final_norm,
            out_type=out_type,
            **kwargs)
        self._has_rel_pos = use_rel_pos_bias or use_shared_rel_pos_bias

    def check_patch_grid(self, grid_hw: Tuple[int, int]) -> None:
        if self._has_rel_pos:
            check_relative_position_grid(
                self, grid_hw, 'set img_size to the training input size')
