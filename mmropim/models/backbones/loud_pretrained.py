"""Loud loading of pre-trained backbone weights at transfer, and what it
needs to read a checkpoint's position embedding."""
import math
from typing import Optional, Sequence

import torch

from ...utils.backbone_checkpoint import load_backbone_weights


def square_side(num_positions: int) -> Optional[int]:
    """The side of the square grid of ``num_positions`` patch positions, or
    None when they form no square."""
    side = math.isqrt(max(num_positions, 0))
    return side if side > 0 and side * side == num_positions else None


def has_class_position(length: int, has_class_token: bool,
                       expected_length: int) -> bool:
    """Whether a checkpoint's (1, ``length``, C) position embedding holds
    a class token's entry: it has a class token, or (detectron2's ViTDet
    keeps the entry without one) the length does not fit ``expected_length``
    and only one entry more than a square grid explains it."""
    if has_class_token:
        return True
    return length != expected_length and square_side(
        length - 1) is not None and square_side(length) is None


class LoudPretrainedMixin:
    """``init_cfg=dict(type='Pretrained', checkpoint=..., prefix=...)``
    loads through :func:`load_backbone_weights`, which raises when backbone
    weights are missing, instead of MMEngine's silent ``strict=False``."""

    #: endings of the parameter names the recipe adds to a checkpoint that
    #: lacks them (the host's ``fresh_parameters`` argument); none by
    #: default
    fresh_parameters: Sequence[str] = ()

    # What the host gives: MMEngine's BaseModule keeps the init_cfg, which
    # the host's own init_weights reads
    init_cfg: Optional[dict]

    def init_weights(self) -> None:
        init_cfg = self.init_cfg
        if not (isinstance(init_cfg, dict)
                and init_cfg.get('type') == 'Pretrained'):
            super().init_weights()
            return
        # the host's default init for anything not loaded: its
        # init_weights must not see the Pretrained entry (MMEngine would
        # load it with strict=False, silently)
        self.init_cfg = None
        try:
            super().init_weights()
        finally:
            self.init_cfg = init_cfg
        report = load_backbone_weights(self, init_cfg.get('checkpoint'),
                                       init_cfg.get('prefix', 'backbone.'),
                                       self.fresh_parameters)
        self.init_fresh_parameters(report['fresh'])
        self.is_init = True

    def init_fresh_parameters(self, names: Sequence[str]) -> None:
        """Initialize the parameters the checkpoint lacked and the recipe
        allows (``fresh_parameters``): relative position tables start at
        zero (no bias, as MAE's transfer recipe); others keep their
        construction values (layer scale at ``layer_scale_init_value``)."""
        parameters = dict(self.named_parameters())
        with torch.no_grad():
            for name in names:
                if name.endswith('relative_position_bias_table'):
                    parameters[name].zero_()
