"""Whether a checkpoint holds every weight of the model it is tested with.

MMEngine's runner loads ``load_from`` with ``strict=False``: testing a
pre-training checkpoint in a fine-tuning config evaluates a classifier
whose head was never trained (chance accuracy, exit status 0, one log line
listing the missing keys). :func:`check_checkpoint_fits_model` refuses
that before the evaluation, comparing after the model's own load-time
adaptation (MMPretrain resizes ``pos_embed`` to the model's grid).
"""
from typing import Sequence

import torch
import torch.nn as nn
from mmengine.logging import print_log

from .backbone_checkpoint import name_kinds
from .checkpoint_compat import load_local_checkpoint

SHOWN = 8


class CheckpointMismatchError(KeyError):
    """A checkpoint lacks weights of the model, has them in other shapes,
    or has values without data the model's tensors can take."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def _unusable(value, tensor: torch.Tensor) -> str:
    """Why ``tensor.copy_(value)`` cannot give the model this weight
    (``''`` when it can): MMEngine's ``strict=False`` load only warns and
    leaves the model's tensor at its initialization."""
    if not isinstance(value, torch.Tensor):
        return f'a {type(value).__name__}, not a tensor'
    if value.is_meta:
        return 'a meta tensor (no data)'
    if value.layout != torch.strided or value.is_quantized:
        return f'a {value.layout} {value.dtype} tensor, which copy_ refuses'
    if value.is_complex() and not tensor.is_complex():
        return f'a {value.dtype} tensor, which copy_ makes real'
    return ''


def _compare_as_loaded(model: nn.Module, state: dict) -> tuple:
    """The model's weights missing from ``state``, those of another
    shape, and those without data the model can take (``'NAME: WHAT in
    the checkpoint, DTYPE in the model'``: not a tensor, a meta tensor,
    one ``copy_`` refuses or would make real), after the model's own load
    hooks have adapted ``state`` (e.g. MMPretrain's ViTs resize
    ``pos_embed`` to their grid, BEiT copies a shared relative position
    table into every layer).

    ``state`` goes through ``model.load_state_dict`` as any load does, but
    a last pre-hook on each module, after the module's own, compares the
    module's tensors with the adapted ones and removes them from the state
    dict: nothing is copied into the model. Values that are not tensors
    are taken out first: the model's hooks would fail on them.
    """
    expected = model.state_dict()
    missing, mismatched, unusable = [], [], []
    not_tensors = {key: state.pop(key) for key in list(state)
                   if not isinstance(state[key], torch.Tensor)}

    def compare(module, state_dict, prefix, *args):
        own = [*module.named_parameters(recurse=False),
               *module.named_buffers(recurse=False)]
        for name, tensor in own:
            key = prefix + name
            if key not in expected:
                continue  # a non-persistent buffer
            if key not in state_dict and key not in not_tensors:
                missing.append(key)
                continue
            value = state_dict.pop(key, not_tensors.get(key))
            why = _unusable(value, tensor)
            if why:
                unusable.append(f'{key}: {why} in the checkpoint, '
                                f'{tensor.dtype} in the model')
            elif value.shape != tensor.shape:
                mismatched.append(
                    f'{key}: {tuple(value.shape)} in the checkpoint, '
                    f'{tuple(tensor.shape)} in the model')

    handles = [
        module.register_load_state_dict_pre_hook(compare)
        for module in model.modules()
    ]
    try:
        model.load_state_dict(state, strict=False)
    finally:
        for handle in handles:
            handle.remove()
    return missing, mismatched, unusable


def unusable_weights(differences: dict, allowed: Sequence[str],
                     model_name: str) -> str:
    """What :func:`compare_checkpoint_with_model` found without data the
    model can take, for an error message: ``'N of the T weights of MODEL
    (in PARTS) without data the model can take, by name: [...], e.g.
    [...]'``; empty when nothing outside ``allowed`` is.

    Args:
        differences (dict): What :func:`compare_checkpoint_with_model`
            returned.
        allowed (Sequence[str]): Names that may be left to the model.
        model_name (str): The model, for the message.
    """
    unusable = [line for line in differences.get('unusable', ())
                if line.split(':')[0] not in allowed]
    if not unusable:
        return ''
    names = [line.split(':')[0] for line in unusable]
    parts = sorted({key.split('.')[0] for key in names})
    return (f'{len(unusable)} of the {differences["total"]} weights of '
            f'{model_name} (in {", ".join(parts)}) without data the model '
            f'can take, by name: {name_kinds(names)[:2 * SHOWN]}, e.g. '
            f'{unusable[:2]}')


def compare_checkpoint_with_model(model: nn.Module, checkpoint: dict) -> dict:
    """What a whole-model checkpoint leaves out of a model, as the runner
    loads it: its ``state_dict`` (or the checkpoint itself when it has
    none), ``module.`` prefixes removed, adapted by the model's load hooks.
    Nothing is copied into the model.

    Args:
        model (nn.Module): The built model (not wrapped).
        checkpoint (dict): The loaded checkpoint.

    Returns:
        dict: ``missing`` (the model's weights not in the checkpoint),
        ``mismatched`` (``'NAME: SHAPE in the checkpoint, SHAPE in the
        model'``), ``unusable`` (``'NAME: WHAT in the checkpoint, DTYPE
        in the model'``: values without data the model's tensor can take),
        ``unexpected`` (checkpoint keys the model does not have) and
        ``total`` (the number of weights of the model).
    """
    state = checkpoint.get('state_dict', checkpoint)
    # as MMEngine's runner loads it (revise_keys of Runner.load_checkpoint)
    state = {
        key[len('module.'):] if key.startswith('module.') else key: value
        for key, value in state.items()
    }
    expected = model.state_dict()
    missing, mismatched, unusable = _compare_as_loaded(model, dict(state))
    return dict(
        missing=missing,
        mismatched=mismatched,
        unusable=unusable,
        unexpected=sorted(set(state) - set(expected)),
        total=len(expected))


def check_checkpoint_fits_model(model: nn.Module,
                                filename: str,
                                allowed_missing: Sequence[str] = ()) -> dict:
    """Compare the keys and shapes of a checkpoint with a model's, as the
    model loads it: after its load hooks have adapted the checkpoint (a
    position embedding of another grid, relative position tables), so a
    difference those resolve is no mismatch.

    Args:
        model (nn.Module): The built model (not wrapped).
        filename (str): A whole-model checkpoint, e.g. ``epoch_N.pth`` of a
            fine-tuning run.
        allowed_missing (Sequence[str]): Full names the checkpoint may
            lack. Defaults to ().

    Returns:
        dict: ``unexpected``: the checkpoint keys the model does not have
        (logged); ``meta``: the checkpoint's ``meta`` (``{}`` if it has
        none), e.g. the classes it was trained on
        (``meta['dataset_meta']``), so that the file is read once.

    Raises:
        CheckpointMismatchError: Naming the missing weights (the first
            few, and the count), those without data the model can take or
            the tensors of another shape.
    """
    checkpoint = load_local_checkpoint(filename, map_location='cpu')
    differences = compare_checkpoint_with_model(model, checkpoint)
    mismatched = differences['mismatched']
    missing = [
        key for key in differences['missing'] if key not in allowed_missing
    ]
    if missing:
        heads = sorted({key.split('.')[0] for key in missing})
        raise CheckpointMismatchError(
            f'{filename} lacks {len(missing)} of the {differences["total"]} '
            f'weights of {type(model).__name__} (in {", ".join(heads)}), '
            f'by name: {name_kinds(missing)[:2 * SHOWN]}: it is not a '
            'checkpoint of this model, '
            'and testing it would evaluate untrained weights. A '
            'pre-training checkpoint is fine-tuned first (tools/train.py '
            'FINETUNE_CONFIG --cfg-options '
            'model.backbone.init_cfg.checkpoint=CKPT), then the fine-tuned '
            'checkpoint is tested')
    unusable = unusable_weights(differences, allowed_missing,
                                type(model).__name__)
    if unusable:
        raise CheckpointMismatchError(
            f'{filename} has {unusable}: '
            'MMEngine loads with strict=False and only warns, and testing '
            'it would evaluate untrained weights. Test the checkpoint the '
            'training run wrote')
    if mismatched:
        raise CheckpointMismatchError(
            f'{filename} does not fit {type(model).__name__}: '
            f'{len(mismatched)} tensors have other shapes (after the '
            f'model\'s load-time adaptation), e.g. {mismatched[:SHOWN]}')
    unexpected = differences['unexpected']
    if unexpected:
        print_log(
            f'{filename}: {len(unexpected)} checkpoint keys the model does '
            f'not use: {unexpected[:SHOWN]}'
            f'{" ..." if len(unexpected) > SHOWN else ""}',
            logger='current', level=30)
    meta = checkpoint.get('meta') if 'state_dict' in checkpoint else None
    return dict(unexpected=unexpected,
                meta=meta if isinstance(meta, dict) else {})
