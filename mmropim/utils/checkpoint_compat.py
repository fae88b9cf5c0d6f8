"""The one door through which mmropim, and MMEngine in our tools, load
checkpoint files: always ``torch.load(weights_only=True)``.

The safe unpickler rebuilds tensors, dicts, lists, strings and numbers and
nothing else, so loading a file never runs code from it. Besides those, a
load allows, for its own duration, the run state of a stock MMEngine
checkpoint (history buffers, numpy arrays, scalars and dtypes; see
:mod:`mmropim.utils.run_state_globals`), so users' MMPretrain runs load and
resume as they are. Our run checkpoints are written plain by
:class:`mmropim.engine.SafeCheckpointHook`; converted backbones and most
model-zoo weights are plain already.

A checkpoint that pickles anything else is refused with an
:class:`UntrustedCheckpointError` naming the file and what it needs. The
only way to unpickle it is to name that very file: ``--trust-checkpoint
PATH`` on our tools (:func:`trust_checkpoint_files`), or ``trust=True`` in
:func:`load_local_checkpoint`. Trust is checked on the opened file, by its
identity (device, inode, change time and size: a symlink or hard link to
it is the same file; any other file is not, even one given the inode of
the trusted file after that was deleted), and announced with a warning; no
environment variable grants it.

Every loaded checkpoint loses ``meta['config']``: MMEngine's
``Runner.resume`` runs that string as a Python config (MMEngine itself
writes ``meta['cfg']``, which nothing executes).

Importing :mod:`mmropim` changes nothing here; our tools call
:func:`install_safe_checkpoint_loader`, which routes every scheme of
MMEngine's ``CheckpointLoader`` (local files, ``http(s)://``,
``torchvision://``, ``open-mmlab://``, ...) to this door
(:mod:`mmropim.utils.checkpoint_sources`).
"""
import hashlib
import io
import logging
import os
import os.path as osp
import pickle
import stat
import zipfile
from typing import IO, Dict, Iterable, List, Optional, Tuple

import torch
from mmengine.logging import print_log
from mmengine.runner.checkpoint import CheckpointLoader

from ..compat import STATE_DICT_METADATA
from .run_state_globals import allow_mmengine_run_state

TRUST_CHECKPOINT_HELP = (
    'unpickle this checkpoint file even where torch.load(weights_only=True) '
    'refuses it; this can run code stored in the file, so only for a file '
    'you trust. Applies to that file only (any name of it); repeat the '
    'option for several files')

# (st_dev, st_ino, st_ctime_ns, st_size) -> the real path it was named by
FileIdentity = Tuple[int, int, int, int]
# identity -> (real path, SHA-256 of the content when it was trusted)
_trusted_files: Dict[FileIdentity, Tuple[str, str]] = {}


class UntrustedCheckpointError(pickle.UnpicklingError):
    """A checkpoint pickles objects the safe loader does not rebuild, and
    the user has not said they trust that file."""


class CheckpointReadError(RuntimeError):
    """A checkpoint file is truncated, corrupt or not a PyTorch file."""


def file_identity(stat: os.stat_result) -> FileIdentity:
    """What makes two paths the same file: device and inode, and the
    change time and size, since a file system hands a deleted file's inode
    to the next file it creates (ext4 and tmpfs do at once)."""
    return stat.st_dev, stat.st_ino, stat.st_ctime_ns, stat.st_size


def trust_checkpoint_files(paths: Iterable[str]) -> None:
    """Trust exactly these checkpoint files (``--trust-checkpoint``): a
    later :func:`load_local_checkpoint` unpickles them fully, with a
    warning, wherever they are loaded from (any path, symlink or hard link
    to the same file) and no other file, and only with the content it has
    now (its SHA-256 is kept: a write that leaves the identity as it was,
    through a shared memory map, is still seen). Replaces the files trusted
    before.

    Args:
        paths (Iterable[str]): Existing local files.

    Raises:
        FileNotFoundError: A path is not an existing file.
    """
    trusted = {}
    for path in paths:
        path = osp.expanduser(path)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'--trust-checkpoint {path}: no such file (trust names an '
                'existing local checkpoint file)')
        with open(path, 'rb') as f:
            identity = file_identity(os.fstat(f.fileno()))
            digest = hashlib.sha256()
            for block in iter(lambda: f.read(1 << 24), b''):
                digest.update(block)
        trusted[identity] = (osp.realpath(path), digest.hexdigest())
    _trusted_files.clear()
    _trusted_files.update(trusted)


def trusted_checkpoint_files() -> List[str]:
    """The real paths of the files :func:`trust_checkpoint_files` trusts."""
    return sorted(path for path, _ in _trusted_files.values())


def _is_torch_file(f: IO[bytes]) -> bool:
    """A zip checkpoint (torch >= 1.6) or one in the legacy format."""
    f.seek(0)
    if zipfile.is_zipfile(f):
        return True
    magic = pickle.dumps(torch.serialization.MAGIC_NUMBER, protocol=2)[:-1]
    f.seek(0)
    return f.read(len(magic)) == magic


def _is_format_error(f: IO[bytes], error: Exception) -> bool:
    """Whether ``torch.load`` failed on the file's bytes (truncated,
    corrupt, not a checkpoint), not on e.g. a device or memory."""
    if not _is_torch_file(f):
        return True
    if isinstance(error, (EOFError, zipfile.BadZipFile)):
        return True
    if isinstance(error, pickle.UnpicklingError):
        return 'Weights only load failed' not in str(error)
    return isinstance(error, RuntimeError) and any(
        marker in str(error) for marker in (
            'PytorchStreamReader', 'zip archive', 'central directory',
            'unexpected EOF', 'file might be corrupted'))


def _unsafe_globals(f: IO[bytes]) -> List[str]:
    """The globals the safe unpickler (with the run state allowed) would
    refuse; empty where the file is not a zip checkpoint."""
    try:
        f.seek(0)
        with allow_mmengine_run_state():
            return list(
                torch.serialization.get_unsafe_globals_in_checkpoint(f))
    except Exception:  # noqa: B902  (the names are only for the message)
        return []


def _refusal_reason(error: Exception) -> str:
    """The safe unpickler's own words, without PyTorch's advice to load
    with ``weights_only=False``."""
    text = str(error)
    marker = 'WeightsUnpickler error:'
    if marker in text:
        text = text.split(marker, 1)[1]
    lines = [line.strip() for line in text.strip().splitlines()]
    return lines[0] if lines else type(error).__name__


def drop_meta_config(checkpoint, filename: str):
    """Remove ``meta['config']``, which MMEngine's ``Runner.resume`` would
    run as Python, and say so.

    Args:
        checkpoint: A loaded checkpoint; changed in place.
        filename (str): The file's name, for the message.

    Returns:
        The checkpoint.
    """
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    if isinstance(meta, dict) and 'config' in meta:
        meta.pop('config')
        print_log(
            f'{filename}: dropped meta["config"], a config in Python that '
            'MMEngine\'s resume would execute (MMEngine writes the config '
            'as meta["cfg"]; nothing reads it as code).',
            logger='current',
            level=logging.WARNING)
    return checkpoint


def dressed_containers(obj) -> List[str]:
    """The values in a loaded checkpoint that carry attributes of their
    own, e.g. a dict's ``get`` or ``pop`` or a tensor's ``is_complex`` set
    to a builtin: PyTorch's safe unpickler rebuilds such an
    ``OrderedDict`` or tensor, and a method call on it (MMEngine's, ours)
    then answers what the file chose. Only ``_metadata``, the dict that
    ``nn.Module.state_dict`` attaches, is allowed (on a dict).

    The walk keeps its own stack (no recursion limit) and names a place
    only for what it reports.

    Args:
        obj: A loaded checkpoint.

    Returns:
        list[str]: ``'<place> has <attributes>'`` for each such value.
    """
    found = []
    # (value, index of its parent entry, its key there)
    entries = [(obj, -1, None)]
    pending = [0]

    def place(index: int) -> str:
        keys = []
        while entries[index][1] >= 0:
            keys.append(entries[index][2])
            index = entries[index][1]
        return 'checkpoint' + ''.join(
            key if isinstance(key, str) and key.startswith('.') else
            f'[{key!r}]' for key in reversed(keys))

    def visit(value, parent: int, key) -> None:
        entries.append((value, parent, key))
        pending.append(len(entries) - 1)

    while pending:
        index = pending.pop()
        value = entries[index][0]
        if isinstance(value, (dict, torch.Tensor)):
            own = dict(getattr(value, '__dict__', {}))
            metadata = own.pop(STATE_DICT_METADATA, None) if isinstance(
                value, dict) else None
            if own:
                found.append(f'{place(index)} has {", ".join(sorted(own))}')
            if metadata is not None:
                if not isinstance(metadata, dict):
                    found.append(
                        f'{place(index)} has a {STATE_DICT_METADATA} of '
                        f'type {type(metadata).__name__}, not a dict')
                else:
                    visit(metadata, index, '.' + STATE_DICT_METADATA)
        if isinstance(value, dict):
            # dict's own items(): the instance's may be replaced
            for key, item in dict.items(value):
                visit(item, index, key)
        elif isinstance(value, (list, tuple)):
            for position, item in enumerate(value):
                visit(item, index, position)
    return found


def _file_kind(path: str) -> str:
    """What a path that is not a regular file is, for messages."""
    mode = os.stat(path).st_mode
    kind = ('a folder' if stat.S_ISDIR(mode) else
            'a FIFO' if stat.S_ISFIFO(mode) else
            'a device' if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else
            'a socket' if stat.S_ISSOCK(mode) else 'not a file')
    if osp.islink(path):
        kind += f' (the link leads to {osp.realpath(path)})'
    return kind


def load_local_checkpoint(filename: str,
                          map_location=None,
                          trust: Optional[bool] = None,
                          source: Optional[str] = None):
    """Load a local checkpoint with ``weights_only=True`` (a stock MMEngine
    run state allowed), never running code from it unless that file is
    trusted.

    Args:
        filename (str): Path of the checkpoint file.
        map_location: As in :func:`torch.load`.
        trust (bool, optional): True unpickles this file fully where the
            safe loader refuses it (this can run code from the file);
            False never does. None (default) trusts it only when it is one
            of the files named by :func:`trust_checkpoint_files`
            (``--trust-checkpoint``), compared by file identity.
        source (str, optional): Where the file was downloaded from, for
            the messages.

    Returns:
        dict: The loaded checkpoint, without ``meta['config']``.

    Raises:
        FileNotFoundError: There is no such file.
        UntrustedCheckpointError: The file needs the full unpickler and is
            not trusted.
        CheckpointReadError: The file is truncated or not a checkpoint.
    """
    if not str(filename).strip():
        raise FileNotFoundError(
            f'the checkpoint file name is empty ({filename!r}): set the one '
            'to load, e.g. the backbone\'s init_cfg.checkpoint or load_from')
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        if osp.exists(filename):  # links followed
            raise ValueError(
                f'checkpoint {filename} is not a regular file but '
                f'{_file_kind(filename)}: give the path of a checkpoint file')
        raise FileNotFoundError(f'checkpoint file {filename} does not exist')
    named = filename if source is None else \
        f'{filename} (downloaded from {source})'
    with open(filename, 'rb') as f:
        # trust is decided on the opened file: renaming or replacing the
        # path afterwards changes nothing
        identity = file_identity(os.fstat(f.fileno()))
        try:
            with allow_mmengine_run_state():
                checkpoint = torch.load(
                    f, map_location=map_location, weights_only=True)
            dressed = dressed_containers(checkpoint)
            if not dressed:
                return drop_meta_config(checkpoint, named)
            names = []
            reason = ('dicts or tensors whose own attributes take the '
                      f'place of their methods: {"; ".join(dressed)}')
        except Exception as error:  # noqa: B902  (each kind is re-raised)
            refused = isinstance(error, pickle.UnpicklingError) and \
                'Weights only load failed' in str(error) and \
                _is_torch_file(f)
            if not refused:
                if not _is_format_error(f, error):
                    raise  # e.g. CUDA tensors on a CPU-only machine, memory
                raise CheckpointReadError(
                    f'cannot read the checkpoint {named} '
                    f'({osp.getsize(filename)} bytes): it is truncated (a '
                    'save that was interrupted), corrupt or not a PyTorch '
                    'checkpoint. torch.load said: '
                    f'{type(error).__name__}: '
                    f'{str(error).splitlines()[0] if str(error) else ""}'
                ) from error
            reason = _refusal_reason(error)
            names = _unsafe_globals(f)
        named_by_user, digest = _trusted_files.get(identity, (None, None))
        if trust is None:
            trust = named_by_user is not None
        if not trust:
            raise UntrustedCheckpointError(
                _refusal_message(filename, named, names, reason)) from None
        print_log(
            f'{named} pickles {", ".join(names) or "Python objects"} '
            f'({reason}); loading it with the full unpickler, which can run '
            'code stored in the file, because '
            + (f'--trust-checkpoint names it ({named_by_user})'
               if named_by_user else 'the caller trusts it (trust=True)'),
            logger='current',
            level=logging.WARNING)
        # the bytes the trust was decided on: read once, then checked
        f.seek(0)
        data = f.read()
        if file_identity(os.fstat(f.fileno())) != identity or (
                digest is not None
                and hashlib.sha256(data).hexdigest() != digest):
            raise CheckpointReadError(
                f'{named} changed after it was trusted (since '
                '--trust-checkpoint named it, or while it was being read): '
                'it was not unpickled. Name it again once nothing writes '
                'to it.')
    checkpoint = torch.load(
        io.BytesIO(data), map_location=map_location, weights_only=False)
    return drop_meta_config(checkpoint, named)


def _refusal_message(filename: str, named: str, names: List[str],
                     reason: str) -> str:
    found = ', '.join(names) if names else 'Python objects'
    return (
        f'{named} pickles objects that the safe loader '
        f'(torch.load(weights_only=True) with a stock MMEngine run state '
        f'allowed) does not rebuild: {found} ({reason}). Unpickling them '
        'can run any code stored in the file, so it was not loaded. If you '
        'trust where this file comes from, name it: --trust-checkpoint '
        f'{filename} on tools/train.py, tools/test.py, '
        'tools/convert_checkpoint.py or tools/analysis/visualize.py (that '
        'file only). Run checkpoints of MMEngine\'s CheckpointHook and of '
        'SafeCheckpointHook need no trust.')


def install_safe_checkpoint_loader(
        trusted_files: Optional[Iterable[str]] = None) -> None:
    """Make MMEngine load every checkpoint through
    :func:`load_local_checkpoint`: local files, and each scheme of MMEngine
    (``http(s)://``, ``torchvision://``, ``open-mmlab://``, ...; downloaded
    first), for ``--resume``, ``load_from`` and
    ``init_cfg=dict(type='Pretrained')``.

    Our entry points call this; importing :mod:`mmropim` does not
    (``mmropim.utils.use_safe_checkpoint_loader`` does, for other
    libraries' tools).

    Args:
        trusted_files (Iterable[str], optional): The files to trust
            (``--trust-checkpoint``; :func:`trust_checkpoint_files`). None
            keeps the files trusted so far.
    """
    from .checkpoint_sources import register_safe_schemes
    if trusted_files is not None:
        trust_checkpoint_files(trusted_files)
    register_safe_schemes(CheckpointLoader)
