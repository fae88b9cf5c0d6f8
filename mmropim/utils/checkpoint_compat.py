"""The one place where mmropim deals with ``torch.load``'s ``weights_only``.

torch >= 2.6 loads with ``weights_only=True`` by default. MMEngine 0.10.7
training checkpoints hold a pickled ``MessageHub`` (``HistoryBuffer``, numpy
arrays and dtypes, and finally ``builtins.getattr``), so ``--resume``,
``load_from`` and ``init_cfg=dict(type='Pretrained', ...)`` on our own
pre-training checkpoints fail with ``UnpicklingError: Unsupported global``.
Allow-listing those globals would mean allow-listing ``getattr``, which
defeats the safe loader, so instead:

- every local checkpoint is first loaded with ``weights_only=True``;
- if that fails because the file pickles Python objects (an MMEngine run
  checkpoint), it is loaded with ``weights_only=False`` and the fact is
  logged. Only load such files from runs you trust, as with any pickle.

Checkpoints meant to be shared (converted backbones) are plain tensor dicts
and take the safe path.

Importing :mod:`mmropim` installs this loader for MMEngine's local-file
scheme.
"""
import os.path as osp
import pickle

import torch
from mmengine.logging import print_log
from mmengine.runner.checkpoint import CheckpointLoader


def load_local_checkpoint(filename: str, map_location=None):
    """Load a local checkpoint, tolerating MMEngine's pickled run state.

    Args:
        filename (str): Path of the checkpoint file.
        map_location: As in :func:`torch.load`.

    Returns:
        dict: The loaded checkpoint.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file {filename} does not exist')
    try:
        return torch.load(
            filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        print_log(
            f'{filename} pickles Python objects besides tensors (an MMEngine '
            'training checkpoint): loading it with weights_only=False. Only '
            'load checkpoints you trust.',
            logger='current')
        return torch.load(
            filename, map_location=map_location, weights_only=False)


def install_checkpoint_loader() -> None:
    """Make MMEngine load local files with :func:`load_local_checkpoint`."""
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_local_checkpoint, force=True)
