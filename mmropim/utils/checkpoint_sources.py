"""Every checkpoint scheme of MMEngine's ``CheckpointLoader`` through the one
safe door, :func:`~mmropim.utils.load_local_checkpoint`.

MMEngine's own loaders for URLs (``http(s)://`` and the model-zoo names
``torchvision://``, ``modelzoo://``, ``open-mmlab://``, ``openmmlab://``,
``mmcls://``) unpickle the download fully (``torch.hub``'s
``load_state_dict_from_url`` passes ``weights_only=False``). Here a URL is
downloaded first, to the file MMEngine would cache it in
(``<torch.hub.get_dir()>/checkpoints/<file name of the URL>``; an existing
one is reused, as MMEngine does, unless it came from another URL: see
:func:`cache_file`), and that file is loaded like any local
one: refused where it pickles code, unless ``--trust-checkpoint`` names the
cached file. Schemes that cannot be fetched to a local file here
(``pavi://``, ``s3://``, ``petrel://``) are refused with an error naming
them.
"""
import hashlib
import os
import os.path as osp
import re
import sys
from collections import OrderedDict
from typing import Dict, Optional
from urllib.parse import urlparse

import torch
from mmengine.dist import get_dist_info
from mmengine.logging import print_log
from mmengine.runner.checkpoint import (DEFAULT_CACHE_DIR, ENV_MMENGINE_HOME,
                                        ENV_XDG_CACHE_HOME,
                                        get_deprecated_model_names,
                                        get_external_models, get_mmcls_models,
                                        get_torchvision_models)

from .checkpoint_compat import load_local_checkpoint

HTTP_PREFIXES = ('http://', 'https://')
TORCHVISION_PREFIXES = ('torchvision://', 'modelzoo://')
OPENMMLAB_PREFIXES = ('open-mmlab://', 'openmmlab://')
MMCLS_PREFIX = 'mmcls://'
# MMEngine's prefixes for remote storage (regular expressions, as MMEngine
# registers them)
REFUSED_PREFIXES = ('pavi://', r'(\S+\:)?s3://', r'(\S+\:)?petrel://')


# beside a cached download: the URL it came from
URL_RECORD = '.url'


class UnsupportedCheckpointSchemeError(ValueError):
    """A checkpoint named by a scheme the safe loader cannot fetch."""


def checkpoint_cache_dir() -> str:
    """The folder MMEngine's ``load_from_http`` downloads to: torch.hub's
    ``<hub dir>/checkpoints``."""
    return osp.join(torch.hub.get_dir(), 'checkpoints')


def mmengine_home() -> str:
    """MMEngine's home folder (``MMENGINE_HOME``, else
    ``$XDG_CACHE_HOME/mmengine``, else ``~/.cache/mmengine``), where
    ``open-mmlab://`` names that are not URLs live."""
    return osp.expanduser(
        os.getenv(
            ENV_MMENGINE_HOME,
            osp.join(
                os.getenv(ENV_XDG_CACHE_HOME, DEFAULT_CACHE_DIR),
                'mmengine')))


def cache_file(folder: str, name: str, url: str) -> str:
    """The cache file of ``url`` in ``folder``: MMEngine's (the URL's file
    ``name``) unless that one records another URL (its ``.url`` file);
    then ``<stem>-<hash of the URL><ext>``, so that two URLs ending in the
    same name never share weights. A cached file with no record (put there
    by MMEngine or by hand) is taken for ``url``, with a log line."""
    cached = osp.join(folder, name)
    recorded = _recorded_url(cached)
    if recorded is None and osp.exists(cached):
        print_log(f'using {cached}, already in the cache, for {url} (it '
                  'records no URL of its own)', logger='current')
    if recorded is None or recorded == url:
        return cached
    stem, ext = osp.splitext(name)
    digest = hashlib.sha256(url.encode()).hexdigest()[:12]
    own = osp.join(folder, f'{stem}-url{digest}{ext}')
    recorded = _recorded_url(own)
    if recorded is not None and recorded != url or \
            recorded is None and osp.exists(own):
        raise ValueError(
            f'the cache file for {url}, {own}, holds the download of '
            f'{recorded or "another URL"} (a URL of that file name): '
            'remove it and its .url record, then load again')
    return own


def _recorded_url(cached: str) -> Optional[str]:
    """The URL a cached download records, None without a record."""
    try:
        with open(cached + URL_RECORD) as f:
            return f.read().strip()
    except FileNotFoundError:
        return None


def download_checkpoint(url: str) -> str:
    """Download ``url`` to MMEngine's cache file for it, once (the local
    rank 0 downloads first, as MMEngine does, in distributed runs).

    Args:
        url (str): An ``http://`` or ``https://`` URL.

    Returns:
        str: The local file.
    """
    name = osp.basename(urlparse(url).path)
    if not name:
        raise UnsupportedCheckpointSchemeError(
            f'checkpoint URL {url} names no file (its path ends in "/")')
    folder = checkpoint_cache_dir()
    rank, world_size = get_dist_info()
    cached = None

    def fetch():
        nonlocal cached
        cached = cache_file(folder, name, url)
        if not osp.exists(cached):
            os.makedirs(folder, exist_ok=True)
            sys.stderr.write(f'Downloading: "{url}" to {cached}\n')
            torch.hub.download_url_to_file(
                url, cached, progress=sys.stderr.isatty())
        if not osp.exists(cached + URL_RECORD):
            with open(cached + URL_RECORD, 'w') as f:
                f.write(url)

    if rank == 0:
        fetch()
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            fetch()
    return cached


def load_from_safe_local(filename: str, map_location=None):
    """MMEngine's local scheme (any path)."""
    return load_local_checkpoint(filename, map_location)


def load_from_safe_http(url: str, map_location=None):
    """``http://`` / ``https://``: download, then the safe local load."""
    return load_local_checkpoint(
        download_checkpoint(url), map_location, source=url)


def _model_url(filename: str, prefix: str, urls: Dict[str, str]) -> str:
    name = filename[len(prefix):]
    if name not in urls:
        raise KeyError(
            f'{filename}: MMEngine knows no model {name!r} under {prefix} '
            f'(it knows {len(urls)}, e.g. {sorted(urls)[:3]})')
    return urls[name]


def load_from_safe_torchvision(filename: str, map_location=None):
    """``torchvision://NAME`` / ``modelzoo://NAME``: MMEngine's URL for
    NAME, downloaded and loaded safely."""
    prefix = next(p for p in TORCHVISION_PREFIXES if filename.startswith(p))
    return load_from_safe_http(
        _model_url(filename, prefix, get_torchvision_models()), map_location)


def load_from_safe_openmmlab(filename: str, map_location=None):
    """``open-mmlab://NAME`` / ``openmmlab://NAME``: MMEngine's URL or
    file in its home folder for NAME (deprecated names followed), loaded
    safely."""
    prefix = next(p for p in OPENMMLAB_PREFIXES if filename.startswith(p))
    name = filename[len(prefix):]
    name = get_deprecated_model_names().get(name, name)
    url = _model_url(prefix + name, prefix, get_external_models())
    if url.startswith(HTTP_PREFIXES):
        return load_from_safe_http(url, map_location)
    return load_local_checkpoint(
        osp.join(mmengine_home(), url), map_location, source=filename)


def load_from_safe_mmcls(filename: str, map_location=None):
    """``mmcls://NAME``: downloaded and loaded safely, then, as MMEngine
    does, only the ``backbone.`` weights, without the prefix."""
    checkpoint = load_from_safe_http(
        _model_url(filename, MMCLS_PREFIX, get_mmcls_models()), map_location)
    state = checkpoint.get('state_dict', checkpoint)
    return dict(state_dict=OrderedDict(
        (key[len('backbone.'):], value) for key, value in state.items()
        if key.startswith('backbone.')))


def refuse_remote_storage(filename: str, map_location=None):
    """``pavi://``, ``s3://``, ``petrel://``: refused."""
    scheme = filename.split('://', 1)[0] + '://'
    raise UnsupportedCheckpointSchemeError(
        f'{filename}: the safe checkpoint loader cannot fetch {scheme} '
        'files (MMEngine would unpickle them in memory). Copy the file to '
        'a local path and give that path instead; supported: local paths, '
        f'{", ".join(HTTP_PREFIXES + TORCHVISION_PREFIXES)}, '
        f'{", ".join(OPENMMLAB_PREFIXES)}, {MMCLS_PREFIX}')


# (prefixes, loader) of each scheme but the local one, which takes the rest
SAFE_SCHEMES = ((HTTP_PREFIXES, load_from_safe_http),
                (TORCHVISION_PREFIXES, load_from_safe_torchvision),
                (OPENMMLAB_PREFIXES, load_from_safe_openmmlab),
                ((MMCLS_PREFIX, ), load_from_safe_mmcls),
                (REFUSED_PREFIXES, refuse_remote_storage))


def load_checkpoint_safely(filename: str, map_location=None):
    """Load a checkpoint named in any of MMEngine's schemes (a local path,
    ``https://...``, ``torchvision://...``, ...) through the loader
    :func:`register_safe_schemes` gives MMEngine for it, whether or not it
    is installed: a URL loads its cached download, as MMEngine's
    ``Pretrained`` initializer did.

    Args:
        filename (str): The checkpoint's name.
        map_location: As in :func:`torch.load`.
    """
    for prefixes, loader in SAFE_SCHEMES:
        if any(re.match(prefix, filename) for prefix in prefixes):
            return loader(filename, map_location)
    return load_from_safe_local(filename, map_location)


def register_safe_schemes(checkpoint_loader) -> None:
    """Register the loaders above for MMEngine's schemes, replacing
    MMEngine's.

    Args:
        checkpoint_loader: MMEngine's ``CheckpointLoader`` class.
    """
    for prefixes, loader in (('', load_from_safe_local), *SAFE_SCHEMES):
        checkpoint_loader.register_scheme(
            prefixes=prefixes, loader=loader, force=True)
