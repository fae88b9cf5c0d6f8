"""The one place where pre-training checkpoints become backbone weights.

A checkpoint written by ``tools/train.py`` holds the whole pre-training model
(``backbone.*``, ``neck.*``, ``head.*``); a converted one
(``tools/convert_checkpoint.py``) holds only the backbone, without prefix.
Downstream backbones subclass MMPretrain's ``VisionTransformer`` / ``BEiTViT``,
so the keys match; their load hooks resize the position embedding and the
relative position tables to the downstream grid and copy a shared relative
position table into every layer.

Unlike ``init_cfg=dict(type='Pretrained')`` (``strict=False``, which happily
loads nothing), :func:`load_backbone_weights` reports what it loaded and
raises when a backbone parameter is not in the checkpoint, except those a
transfer recipe initializes fresh and names explicitly (e.g. MAE's ADE20K
recipe adds zero relative position biases and layer scale).
"""
import re
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.logging import print_log

from .checkpoint_sources import load_checkpoint_safely


class MissingWeightsError(KeyError):
    """A checkpoint lacks weights of the module it is loaded into."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def check_fresh_parameters(
        fresh_parameters,
        what: str = 'parameter name endings') -> Tuple[str, ...]:
    """``fresh_parameters`` (the names a recipe adds, which a checkpoint
    lacks) as a tuple of non-empty strings.

    Args:
        fresh_parameters (Sequence[str]): The names.
        what (str): What the names are, for the error message.

    Raises:
        TypeError: A string, or a sequence holding anything but non-empty
            strings.
    """
    if isinstance(fresh_parameters, str) or not all(
            isinstance(name, str) and name for name in fresh_parameters):
        raise TypeError(f'fresh_parameters must be a sequence of {what}, '
                        f'got {fresh_parameters!r}')
    return tuple(fresh_parameters)


def name_kinds(names: Sequence[str]) -> List[str]:
    """Each parameter name once, with layer indices merged:
    ``'layers.0.attn.qkv.bias'`` and ``'layers.1.attn.qkv.bias'`` give
    ``'layers.*.attn.qkv.bias'``."""
    return list(dict.fromkeys(
        re.sub(r'\.\d+\.', '.*.', name) for name in names))


def extract_backbone_weights(checkpoint: dict,
                             prefix: str = 'backbone.'
                             ) -> Dict[str, torch.Tensor]:
    """Backbone tensors of a checkpoint, without the prefix.

    Args:
        checkpoint (dict): A loaded checkpoint (with or without
            ``state_dict``).
        prefix (str): Prefix of the backbone keys in a full model.

    Returns:
        dict[str, torch.Tensor]: Backbone weights. A checkpoint with no
        ``prefix`` keys is taken to be a converted backbone-only file.
    """
    state = checkpoint.get('state_dict', checkpoint)
    if prefix and any(key.startswith(prefix) for key in state):
        return {
            key[len(prefix):]: value
            for key, value in state.items() if key.startswith(prefix)
        }
    return dict(state)


def load_backbone_weights(backbone: nn.Module,
                          filename: str,
                          prefix: str = 'backbone.',
                          fresh: Sequence[str] = (),
                          fresh_names: Sequence[str] = (),
                          copy: bool = True) -> dict:
    """Load pre-trained weights into a backbone, loudly.

    Args:
        backbone (nn.Module): The downstream backbone.
        filename (str): A pre-training or converted checkpoint: a local
            path, or a name in any scheme of MMEngine's checkpoint loader
            (``https://...``: its cached download), read through the safe
            loader (:func:`.checkpoint_sources.load_checkpoint_safely`).
        prefix (str): Prefix of the backbone keys in a full model.
        fresh (Sequence[str]): Endings of parameter names the transfer
            recipe initializes itself (e.g. ``'relative_position_bias_table'``,
            ``'gamma_1'``): when the checkpoint lacks them they keep their
            initialization and are logged by name; any other missing
            parameter raises.
        fresh_names (Sequence[str]): Full names of parameters (in
            ``backbone``) allowed to be missing in the same way, for one
            that shares its ending with others, e.g. the fine-tuning
            recipe's pooling norm ``'ln2.weight'`` but not the layers'
            ``'layers.0.ln2.weight'``.
        copy (bool): False to check the checkpoint the same way without
            copying anything into ``backbone``, for a model whose weights
            have been loaded since (``load_from`` after the
            initialization). Defaults to True.

    Returns:
        dict: ``loaded``, ``fresh`` (parameters left initialized),
        ``missing_buffers`` and ``unexpected`` key lists.
    """
    if not filename:
        raise ValueError(
            'no pre-trained checkpoint given: set the backbone\'s '
            'init_cfg.checkpoint, e.g. --cfg-options '
            'model.backbone.init_cfg.checkpoint=work_dirs/<run>/epoch_N.pth')
    weights = extract_backbone_weights(
        load_checkpoint_safely(filename, map_location='cpu'), prefix)
    if copy:
        try:
            result = backbone.load_state_dict(weights, strict=False)
        except RuntimeError as error:
            if 'size mismatch' not in str(error):
                raise
            raise ValueError(f'{filename} does not match the backbone '
                             f'{type(backbone).__name__}: {error}') from error
        missing_keys, unexpected = result.missing_keys, result.unexpected_keys
    else:  # the same load hooks, nothing copied
        from .model_checkpoint import _compare_as_loaded
        missing_keys, mismatched, unusable = _compare_as_loaded(
            backbone, dict(weights))
        if unusable:  # copy=True: load_state_dict's RuntimeError
            raise ValueError(f'{filename} does not match the backbone '
                             f'{type(backbone).__name__}: no data the '
                             f'model can take for {unusable}')
        if mismatched:
            raise ValueError(f'{filename} does not match the backbone '
                             f'{type(backbone).__name__}: size mismatch '
                             f'for {mismatched}')
        unexpected = set(weights) - set(backbone.state_dict())
    parameters = {name for name, _ in backbone.named_parameters()}
    missing = sorted(set(missing_keys) & parameters)
    initialized = [
        name for name in missing
        if name.endswith(tuple(fresh)) or name in fresh_names
    ]
    missing = [name for name in missing if name not in initialized]
    if missing:
        raise MissingWeightsError(
            f'{filename} lacks {len(missing)} of the {len(parameters)} '
            f'weights of {type(backbone).__name__}, e.g. {missing[:5]}; give '
            f'the checkpoint of a pre-training run of the same architecture '
            f'(keys under "{prefix}"). Missing, by name: '
            f'{name_kinds(missing)}')
    report = dict(
        loaded=sorted(parameters - set(initialized)),
        fresh=initialized,
        missing_buffers=sorted(set(missing_keys) - parameters),
        unexpected=sorted(unexpected))
    print_log(
        f'{"loaded" if copy else "checked"} {len(report["loaded"])} '
        f'backbone weights from {filename}; '
        f'initialized by the transfer recipe, not in the checkpoint: '
        f'{initialized or "none"}; rebuilt buffers: '
        f'{len(report["missing_buffers"])}; unused checkpoint keys: '
        f'{report["unexpected"] or "none"}',
        logger='current')
    return report
