"""List the images of a config's training set that cannot be decoded.

    python tools/analysis/check_data.py CONFIG [--cfg-options ...]
        [--workers N]

An unreadable image otherwise stops a run when the data loader first
reaches it (MMCV's ``failed to load image: PATH``), possibly hours in;
this reads every image the way the pipeline's loader does (MMCV's
``LoadImageFromFile`` or a subclass, or
:class:`~mmropim.datasets.LoadImageWithPillow`, which ``tools/train.py
--data-root`` puts in its place), before any training, and names all the
bad files at once. ``tools/train.py --check-data`` runs it before building
the runner; a pipeline with neither loader is an error, not a pass.
"""
import argparse
import os.path as osp
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator, Optional, Union

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

import mmcv
from mmcv.transforms import LoadImageFromFile
from mmengine import fileio
from mmengine.config import Config, DictAction
from mmengine.registry import DATASETS, init_default_scope

from mmropim.datasets import LoadImageWithPillow
from tools.argument_types import existing_file, positive_int

SHOWN = 20


IMAGE_LOADERS = (LoadImageFromFile, LoadImageWithPillow)


class UnreadableImagesError(RuntimeError):
    """Some images of a training set cannot be decoded."""


class NoImageLoaderError(ValueError):
    """The training pipeline has no loader whose reads can be checked."""


def built_datasets(dataset) -> Iterator:
    """The dataset and every dataset inside its wrappers (``RepeatDataset``,
    ``ConcatDataset``, ``ClassBalancedDataset``, ...)."""
    yield dataset
    inner = getattr(dataset, 'datasets', None) or []
    if getattr(dataset, 'dataset', None) is not None:
        inner = [dataset.dataset, *inner]
    for child in inner:
        yield from built_datasets(child)


def image_loader(
        dataset) -> Optional[Union[LoadImageFromFile, LoadImageWithPillow]]:
    """The first image loader (MMCV's ``LoadImageFromFile`` or a subclass,
    or ``LoadImageWithPillow``) of the pipelines of a built dataset and its
    wrapped datasets."""
    for part in built_datasets(dataset):
        for transform in getattr(getattr(part, 'pipeline', None),
                                 'transforms', []):
            if isinstance(transform, IMAGE_LOADERS):
                return transform
    return None


def read_error(path: str,
               loader: Union[LoadImageFromFile, LoadImageWithPillow]) -> str:
    """Why ``loader`` cannot read the image at ``path`` (through its file
    backend and decoder), or ``''`` when it can."""
    if isinstance(loader, LoadImageWithPillow):
        try:  # the transform itself: what training would run
            loader.transform(dict(img_path=path))
        except Exception as error:  # any reason: report it with the path
            return f'{type(error).__name__}: {error}'
        return ''
    try:
        content = fileio.get(path, backend_args=loader.backend_args)
        image = mmcv.imfrombytes(
            content,
            flag=loader.color_type,
            backend=loader.imdecode_backend)
    except Exception as error:  # any reason: report it with the path
        return f'{type(error).__name__}: {error}'
    if image is None:
        return 'not an image the decoder can read'
    return ''


def check_training_images(cfg: Config, workers: int = 8) -> int:
    """Decode every training image of ``cfg`` as the pipeline's image
    loader (``LoadImageFromFile`` or ``LoadImageWithPillow``) would; raise
    if any fails.

    Args:
        cfg (Config): A run config with a ``train_dataloader``.
        workers (int): Decoding threads.

    Returns:
        int: The number of distinct images checked.

    Raises:
        UnreadableImagesError: Naming every unreadable file (the first
            20, and the count).
        NoImageLoaderError: The pipeline has neither loader, so nothing
            could be checked.
    """
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    import mmropim  # noqa: F401  (our datasets and transforms)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    dataset.full_init()
    loader = image_loader(dataset)
    if loader is None:
        pipeline = getattr(getattr(dataset, 'pipeline', None), 'transforms',
                           [])
        raise NoImageLoaderError(
            'cannot check the training images: the training pipeline has '
            'no LoadImageFromFile (or subclass) nor LoadImageWithPillow, '
            f'got {[type(t).__name__ for t in pipeline]}')
    # a RepeatDataset / ClassBalancedDataset lists an image several times
    paths = list(
        dict.fromkeys(
            dataset.get_data_info(index)['img_path']
            for index in range(len(dataset))))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        errors = list(pool.map(lambda p: read_error(p, loader), paths))
    bad = [(p, e) for p, e in zip(paths, errors) if e]
    if bad:
        listed = '\n'.join(f'  {p}: {e}' for p, e in bad[:SHOWN])
        more = f'\n  ... and {len(bad) - SHOWN} more' if len(bad) > SHOWN \
            else ''
        raise UnreadableImagesError(
            f'{len(bad)} of the {len(paths)} training images cannot be '
            f'read; remove or replace them:\n{listed}{more}')
    return len(paths)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', type=existing_file, help='config file')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. '
        'train_dataloader.dataset.data_root=DIR')
    parser.add_argument(
        '--workers', type=positive_int, default=8, help='decoding threads')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    count = check_training_images(cfg, args.workers)
    print(f'all {count} training images can be read')


if __name__ == '__main__':
    main()
