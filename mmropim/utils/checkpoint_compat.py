"""The one place where mmropim loads checkpoint files, and how our tools make
MMEngine load them: always with ``torch.load(weights_only=True)``.

The safe unpickler rebuilds tensors, dicts, lists, strings and numbers and
nothing else, so loading a file never runs code from it. Our run
checkpoints are written plain by :class:`mmropim.engine.SafeCheckpointHook`
and load that way; converted backbones and most model-zoo weights are plain
already. A checkpoint that pickles other objects (one written by plain
MMEngine before that hook, or by anyone else) is refused with an
:class:`UntrustedCheckpointError` naming the file, the globals it needs and
the opt-ins:

- ``--trust-checkpoint`` on ``tools/train.py``, ``tools/test.py`` and
  ``tools/convert_checkpoint.py``;
- the environment variable ``MMROPIM_TRUST_CHECKPOINTS=1`` for our tools and
  functions, and PyTorch's own ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` for
  MMEngine's entry points (MMPretrain's ``tools/train.py``), which call
  ``torch.load`` with PyTorch's default (safe since torch 2.6).

Importing :mod:`mmropim` changes nothing here; our tools call
:func:`install_safe_checkpoint_loader`.
"""
import os
import os.path as osp
import pickle
import zipfile
from typing import List, Optional

import torch
from mmengine.logging import print_log
from mmengine.runner.checkpoint import CheckpointLoader

TRUST_ENV = 'MMROPIM_TRUST_CHECKPOINTS'
TORCH_TRUST_ENV = 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'


TRUST_CHECKPOINT_HELP = (
    'unpickle checkpoints that torch.load(weights_only=True) refuses; this '
    'can run code stored in the file, so only for files you trust (also: '
    f'{TRUST_ENV}=1)')


class UntrustedCheckpointError(pickle.UnpicklingError):
    """A checkpoint pickles objects the safe loader does not rebuild, and
    the user has not said they trust it."""


class CheckpointReadError(RuntimeError):
    """A checkpoint file is truncated, corrupt or not a PyTorch file."""


def trusts_checkpoints() -> bool:
    """Whether the environment opts in to fully unpickling checkpoints."""
    return any(
        os.environ.get(name, '').lower() in ('1', 'true', 'yes', 'y')
        for name in (TRUST_ENV, TORCH_TRUST_ENV))


def _unsafe_globals(filename: str) -> List[str]:
    finder = getattr(torch.serialization, 'get_unsafe_globals_in_checkpoint',
                     None)
    if finder is None:
        return []
    try:
        return list(finder(filename))
    except Exception:  # not a zip checkpoint: the names are unknown
        return []


def _is_torch_file(filename: str) -> bool:
    """A zip checkpoint (torch >= 1.6) or one in the legacy format."""
    if zipfile.is_zipfile(filename):
        return True
    magic = pickle.dumps(torch.serialization.MAGIC_NUMBER, protocol=2)[:-1]
    with open(filename, 'rb') as f:
        return f.read(len(magic)) == magic


def _is_format_error(filename: str, error: Exception) -> bool:
    """Whether ``torch.load`` failed on the file's bytes (truncated,
    corrupt, not a checkpoint), not on e.g. a device or memory."""
    if not _is_torch_file(filename):
        return True
    if isinstance(error, (EOFError, zipfile.BadZipFile)):
        return True
    if isinstance(error, pickle.UnpicklingError):
        return 'Weights only load failed' not in str(error)
    return isinstance(error, RuntimeError) and any(
        marker in str(error) for marker in (
            'PytorchStreamReader', 'zip archive', 'central directory',
            'unexpected EOF', 'file might be corrupted'))


def _is_weights_only_refusal(filename: str, error: Exception) -> bool:
    return isinstance(error, pickle.UnpicklingError) and \
        'Weights only load failed' in str(error) and _is_torch_file(filename)


def load_local_checkpoint(filename: str,
                          map_location=None,
                          trust: Optional[bool] = None):
    """Load a local checkpoint with ``weights_only=True``.

    Args:
        filename (str): Path of the checkpoint file.
        map_location: As in :func:`torch.load`.
        trust (bool, optional): Unpickle a checkpoint the safe loader
            refuses (this can run code from the file). None reads the
            environment (:func:`trusts_checkpoints`).

    Returns:
        dict: The loaded checkpoint.

    Raises:
        FileNotFoundError: There is no such file.
        UntrustedCheckpointError: The file needs the full unpickler and
            trust is off.
        CheckpointReadError: The file is truncated or not a checkpoint.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file {filename} does not exist')
    if trust is None:
        trust = trusts_checkpoints()
    try:
        return torch.load(
            filename, map_location=map_location, weights_only=True)
    except Exception as error:  # noqa: B902  (each kind is re-raised)
        if not _is_weights_only_refusal(filename, error):
            if not _is_format_error(filename, error):
                raise  # e.g. CUDA tensors on a CPU-only machine, memory
            raise CheckpointReadError(
                f'cannot read the checkpoint {filename} '
                f'({osp.getsize(filename)} bytes): it is truncated (a save '
                'that was interrupted), corrupt or not a PyTorch checkpoint. '
                f'torch.load said: {type(error).__name__}: '
                f'{str(error).splitlines()[0] if str(error) else ""}'
            ) from error
        names = _unsafe_globals(filename)
        if not trust:
            found = ', '.join(names) if names else 'Python objects'
            raise UntrustedCheckpointError(
                f'{filename} pickles objects that the safe loader '
                f'(torch.load(weights_only=True)) does not rebuild: {found}. '
                'Unpickling them can run any code stored in the file, so it '
                'was not loaded. If you trust where the file comes from, '
                'pass --trust-checkpoint to tools/train.py, tools/test.py or '
                f'tools/convert_checkpoint.py, or set {TRUST_ENV}=1 '
                f'({TORCH_TRUST_ENV}=1 for MMEngine / MMPretrain entry '
                'points). Run checkpoints written with SafeCheckpointHook '
                '(in every mmropim runtime) need neither.') from None
        print_log(
            f'{filename} pickles {", ".join(names) or "Python objects"}; '
            'loading it with the full unpickler because checkpoints are '
            'trusted (--trust-checkpoint or the environment).',
            logger='current')
        return torch.load(
            filename, map_location=map_location, weights_only=False)


def install_safe_checkpoint_loader(trust: bool = False) -> None:
    """Make MMEngine load local files with :func:`load_local_checkpoint`
    (``--resume``, ``load_from``, ``init_cfg=dict(type='Pretrained')``).

    Our entry points call this; importing :mod:`mmropim` does not.

    Args:
        trust (bool): Opt in to unpickling checkpoints the safe loader
            refuses (``--trust-checkpoint``). It also sets
            ``MMROPIM_TRUST_CHECKPOINTS=1`` in this process, so that every
            loader of ours follows (e.g. ``TransferViT``'s). False leaves the
            environment as it is (:func:`trusts_checkpoints`).
    """
    if trust:
        os.environ[TRUST_ENV] = '1'

    def load(filename, map_location=None):
        return load_local_checkpoint(filename, map_location)

    CheckpointLoader.register_scheme(prefixes='', loader=load, force=True)
