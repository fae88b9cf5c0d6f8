"""Files of plain tensors written whole or not at all.

The converters (``tools/convert_checkpoint.py``,
``tools/model_converters/mmropim2timm.py``) write their output with
:func:`save_tensor_file`: serialised in memory first (a state that cannot
be written stops before the output is touched), then written to a
temporary file in the output's folder and renamed into place. An
interrupted conversion leaves the old output, and a link at the output
path (hard or symbolic) is replaced by the new file, never written
through, so the file it named keeps its content.
"""
import io
import os.path as osp
from typing import Dict

import torch

SAFETENSORS_SUFFIX = '.safetensors'


def tensor_file_bytes(state: dict, path: str) -> bytes:
    """The content of the tensor file ``path`` holding ``state``.

    Args:
        state (dict): Tensors, possibly nested in dicts, lists and plain
            values (a ``.safetensors`` file holds a flat dict of tensors
            only).
        path (str): The file it is for: ``.safetensors`` gives safetensors,
            any other name ``torch.save``'s format.

    Returns:
        bytes: A file that ``torch.load(..., weights_only=True)`` (or
        ``safetensors.torch.load_file``) reads back.

    Raises:
        ValueError: ``state`` does not fit the format: a value that is not
            a tensor for safetensors, an object ``weights_only`` refuses
            for ``torch.save``.
    """
    if path.endswith(SAFETENSORS_SUFFIX):
        odd = {
            key: type(value).__name__
            for key, value in state.items()
            if not isinstance(key, str) or not isinstance(value, torch.Tensor)
        }
        if odd:
            raise ValueError(
                f'{path}: a {SAFETENSORS_SUFFIX} file holds a flat dict of '
                f'tensors with str keys; got {odd}: write a .pth file')
        from safetensors.torch import save
        return save(state)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    data = buffer.getvalue()
    try:  # what the users of the file will load it with
        torch.load(io.BytesIO(data), map_location='cpu', weights_only=True)
    except Exception as error:
        raise ValueError(
            f'{path}: the state holds objects other than tensors and plain '
            f'values, which torch.load(weights_only=True) refuses: '
            f'{error}') from error
    return data


def save_tensor_file(state: Dict, path: str) -> int:
    """Write ``state`` to ``path`` atomically (see the module's docstring).

    Args:
        state (dict): What :func:`tensor_file_bytes` takes.
        path (str): Output file; ``.safetensors`` gives safetensors. Its
            folder must exist. An existing file (or link) there is
            replaced: the caller decides whether it may be.

    Returns:
        int: The size of the file written, in bytes.
    """
    from mmropim.engine.hooks.safe_checkpoint_hook import write_atomically
    if not osp.isdir(osp.dirname(osp.abspath(path))):
        raise FileNotFoundError(
            f'the folder of {path} does not exist; create it first')
    data = tensor_file_bytes(state, path)
    write_atomically(data, path)
    return len(data)
