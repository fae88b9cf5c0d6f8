"""Checks and conversions shared by our ViT backbones (MMPretrain
``VisionTransformer`` / ``BEiTViT`` / ``MAEViT`` subclasses); their forward
is :class:`~mmropim.models.backbones.ViTTokenPathMixin`."""
import numbers
from typing import List, Optional, Sequence, Tuple, Union

import torch


def trunc_normal_vit_init() -> List[dict]:
    """The ViT initialization of BEiT / SimMIM / ROPIM (a new list each
    call): truncated normal (std 0.02) Linear weights with zero biases, unit
    LayerNorms."""
    return [
        dict(type='TruncNormal', layer='Linear', std=0.02, bias=0.),
        dict(type='Constant', layer='LayerNorm', val=1., bias=0.),
    ]


def arch_num_layers(vit_cls, arch) -> Optional[int]:
    """Depth of an MMPretrain ViT architecture, known before the ViT is built.

    Args:
        vit_cls: A ``VisionTransformer`` or ``BEiTViT`` (class or instance).
        arch (str | dict): An ``arch_zoo`` name or a custom arch dict.

    Returns:
        int | None: ``num_layers``; None for an arch MMPretrain will reject
        with its own message.
    """
    if isinstance(arch, dict):
        return arch.get('num_layers')
    if isinstance(arch, str):
        return vit_cls.arch_zoo.get(arch.lower(), {}).get('num_layers')
    return None


def check_out_indices(out_indices: Union[int, Sequence[int]],
                      num_layers: Optional[int]) -> List[int]:
    """Raise a clear error unless ``out_indices`` names layers of the ViT,
    in increasing order and each once (the ViT returns its maps in layer
    order and once per layer, whatever order or repeats were asked for).

    Args:
        out_indices (int | Sequence[int]): Layer indices, negative ones
            counted from the end; an int is one index, as in MMPretrain.
        num_layers (int, optional): Depth of the ViT; None skips the check.

    Returns:
        list[int]: ``out_indices`` as a list, as MMPretrain takes it.
    """
    if isinstance(out_indices, numbers.Integral):
        out_indices = [out_indices]
    out_indices = list(out_indices)
    if num_layers is None:
        return out_indices
    layers = [
        i + num_layers if isinstance(i, numbers.Integral) and i < 0 else i
        for i in out_indices
    ]
    valid = all(
        isinstance(i, numbers.Integral) and not isinstance(i, bool)
        and 0 <= i < num_layers for i in layers)
    if not layers or not valid or any(
            b <= a for a, b in zip(layers, layers[1:])):
        raise ValueError(
            f'out_indices must be increasing layer indices of a '
            f'{num_layers}-layer ViT, each in [{-num_layers}, {num_layers}) '
            f'(negative ones count from the end), got {tuple(out_indices)}')
    return out_indices


def check_out_indices_kwarg(vit_cls, kwargs: dict) -> None:
    """Check ``kwargs['out_indices']`` (when given) of a ViT about to be
    built with ``kwargs``, in place, with :func:`check_out_indices`.

    Args:
        vit_cls: The ``VisionTransformer`` / ``BEiTViT`` (class or instance).
        kwargs (dict): Its constructor arguments (arch defaults to 'base').
    """
    if 'out_indices' in kwargs:
        kwargs['out_indices'] = check_out_indices(
            kwargs['out_indices'],
            arch_num_layers(vit_cls, kwargs.get('arch', 'base')))


def drop_path_once(layer_cfgs: Union[dict, Sequence[dict]]
                   ) -> Union[dict, List[dict]]:
    """``layer_cfgs`` of MMPretrain's ``BEiTViT`` whose FFN applies no drop
    path of its own.

    ``BEiTTransformerEncoderLayer`` gives its FFN a ``DropPath`` output
    layer and applies its own ``drop_path`` after the FFN again, so the FFN
    branch of a sample is dropped with probability 1 - (1 - p)^2 and scaled
    by 1 / (1 - p)^2; BEiT's and the ROPIM authors' layers drop it once.
    Settings a config gives in ``ffn_cfg`` are kept.

    Args:
        layer_cfgs (dict | Sequence[dict]): ``BEiTViT``'s ``layer_cfgs``.

    Returns:
        dict | list[dict]: The same with ``ffn_cfg.dropout_layer=None``.
    """

    def once(cfg: dict) -> dict:
        ffn_cfg = dict(cfg.get('ffn_cfg') or {})
        ffn_cfg.setdefault('add_identity', False)  # the layer's default
        ffn_cfg.setdefault('dropout_layer', None)
        return dict(cfg, ffn_cfg=ffn_cfg)

    if isinstance(layer_cfgs, dict):
        return once(layer_cfgs)
    return [once(cfg) for cfg in layer_cfgs]


def check_image_size(image_hw: Tuple[int, int], patch_size: int) -> None:
    """Raise a clear error unless both image sides are multiples of the patch.

    Args:
        image_hw (tuple[int, int]): Image height and width.
        patch_size (int): Patch side length.
    """
    height, width = image_hw
    if height % patch_size or width % patch_size:
        raise ValueError(
            f'image size (H, W) = ({height}, {width}) is not divisible by the '
            f'patch size {patch_size}; use an input size that is a multiple '
            f'of {patch_size} (e.g. '
            f'{height // patch_size * patch_size or patch_size} x '
            f'{width // patch_size * patch_size or patch_size}).')


def check_relative_position_grid(vit, grid_hw: Tuple[int, int],
                                 hint: str) -> None:
    """Raise a clear error unless ``grid_hw`` is the patch grid that the
    relative position tables of ``vit`` were built for.

    Args:
        vit: A ``BEiTViT`` (or subclass) with relative position bias.
        grid_hw (tuple[int, int]): The patch grid of the input.
        hint (str): What the user should do instead.
    """
    if tuple(grid_hw) != tuple(vit.patch_resolution):
        raise ValueError(
            f'{type(vit).__name__} was built for img_size={vit.img_size} (a '
            f'{tuple(vit.patch_resolution)} patch grid) and its relative '
            f'position tables cannot take a {tuple(grid_hw)} grid: {hint}')


def tokens_to_featmap(tokens: torch.Tensor, grid_hw: Tuple[int, int],
                      num_extra_tokens: int) -> torch.Tensor:
    """(B, extra + h*w, C) tokens -> (B, C, h, w) map of the patch tokens."""
    patches = tokens[:, num_extra_tokens:]
    return patches.transpose(1, 2).reshape(tokens.shape[0], -1, *grid_hw)
