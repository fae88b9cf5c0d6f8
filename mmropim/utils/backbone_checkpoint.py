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
from typing import Dict, Sequence

import torch
import torch.nn as nn
from mmengine.logging import print_log

from .checkpoint_compat import load_local_checkpoint


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
                          fresh: Sequence[str] = ()) -> dict:
    """Load pre-trained weights into a backbone, loudly.

    Args:
        backbone (nn.Module): The downstream backbone.
        filename (str): A pre-training or converted checkpoint.
        prefix (str): Prefix of the backbone keys in a full model.
        fresh (Sequence[str]): Endings of parameter names the transfer
            recipe initializes itself (e.g. ``'relative_position_bias_table'``,
            ``'gamma_1'``): when the checkpoint lacks them they keep their
            initialization and are logged by name; any other missing
            parameter raises.

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
        load_local_checkpoint(filename, map_location='cpu'), prefix)
    try:
        result = backbone.load_state_dict(weights, strict=False)
    except RuntimeError as error:
        if 'size mismatch' not in str(error):
            raise
        raise ValueError(f'{filename} does not match the backbone '
                         f'{type(backbone).__name__}: {error}') from error
    parameters = {name for name, _ in backbone.named_parameters()}
    missing = sorted(set(result.missing_keys) & parameters)
    initialized = [name for name in missing if name.endswith(tuple(fresh))]
    missing = [name for name in missing if name not in initialized]
    if missing:
        raise KeyError(
            f'{filename} lacks {len(missing)} of the {len(parameters)} '
            f'weights of {type(backbone).__name__}, e.g. {missing[:5]}; give '
            f'the checkpoint of a pre-training run of the same architecture '
            f'(keys under "{prefix}")')
    report = dict(
        loaded=sorted(parameters - set(initialized)),
        fresh=initialized,
        missing_buffers=sorted(set(result.missing_keys) - parameters),
        unexpected=sorted(result.unexpected_keys))
    print_log(
        f'loaded {len(report["loaded"])} backbone weights from {filename}; '
        f'initialized by the transfer recipe, not in the checkpoint: '
        f'{initialized or "none"}; rebuilt buffers: '
        f'{len(report["missing_buffers"])}; unused checkpoint keys: '
        f'{report["unexpected"] or "none"}',
        logger='current')
    return report
