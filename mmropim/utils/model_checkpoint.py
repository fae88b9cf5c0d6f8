"""Whether a checkpoint holds every weight of the model it is tested with.

MMEngine's runner loads ``load_from`` with ``strict=False``: testing a
pre-training checkpoint in a fine-tuning config evaluates a classifier
whose head was never trained (chance accuracy, exit status 0, one log line
listing the missing keys). :func:`check_checkpoint_fits_model` refuses
that before the evaluation.
"""
from typing import Sequence

import torch.nn as nn
from mmengine.logging import print_log

from .backbone_checkpoint import name_kinds
from .checkpoint_compat import load_local_checkpoint

SHOWN = 8


class CheckpointMismatchError(KeyError):
    """A checkpoint lacks weights of the model, or has them in other
    shapes."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def check_checkpoint_fits_model(model: nn.Module,
                                filename: str,
                                allowed_missing: Sequence[str] = ()) -> dict:
    """Compare the keys and shapes of a checkpoint with a model's.

    Args:
        model (nn.Module): The built model (not wrapped).
        filename (str): A whole-model checkpoint, e.g. ``epoch_N.pth`` of a
            fine-tuning run.
        allowed_missing (Sequence[str]): Full names the checkpoint may
            lack. Defaults to ().

    Returns:
        dict: ``unexpected``: the checkpoint keys the model does not have
        (logged).

    Raises:
        CheckpointMismatchError: Naming the missing weights (the first
            few, and the count) or the tensors of another shape.
    """
    checkpoint = load_local_checkpoint(filename, map_location='cpu')
    state = checkpoint.get('state_dict', checkpoint)
    # as MMEngine's runner loads it (revise_keys of Runner.load_checkpoint)
    state = {
        key[len('module.'):] if key.startswith('module.') else key: value
        for key, value in state.items()
    }
    expected = model.state_dict()
    missing = [
        key for key in expected
        if key not in state and key not in allowed_missing
    ]
    if missing:
        heads = sorted({key.split('.')[0] for key in missing})
        raise CheckpointMismatchError(
            f'{filename} lacks {len(missing)} of the {len(expected)} '
            f'weights of {type(model).__name__} (in {", ".join(heads)}), '
            f'by name: {name_kinds(missing)[:2 * SHOWN]}: it is not a '
            'checkpoint of this model, '
            'and testing it would evaluate untrained weights. A '
            'pre-training checkpoint is fine-tuned first (tools/train.py '
            'FINETUNE_CONFIG --cfg-options '
            'model.backbone.init_cfg.checkpoint=CKPT), then the fine-tuned '
            'checkpoint is tested')
    mismatched = [
        f'{key}: {tuple(state[key].shape)} in the checkpoint, '
        f'{tuple(value.shape)} in the model'
        for key, value in expected.items()
        if key in state and hasattr(state[key], 'shape')
        and state[key].shape != value.shape
    ]
    if mismatched:
        raise CheckpointMismatchError(
            f'{filename} does not fit {type(model).__name__}: '
            f'{len(mismatched)} tensors have other shapes, e.g. '
            f'{mismatched[:SHOWN]}')
    unexpected = sorted(set(state) - set(expected))
    if unexpected:
        print_log(
            f'{filename}: {len(unexpected)} checkpoint keys the model does '
            f'not use: {unexpected[:SHOWN]}'
            f'{" ..." if len(unexpected) > SHOWN else ""}',
            logger='current', level=30)
    return dict(unexpected=unexpected)
