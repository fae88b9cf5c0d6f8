"""Every image a run reads decoded before it, all the unreadable ones named.

An unreadable image otherwise stops a run when the data loader first
reaches it (MMCV's ``failed to load image: PATH``), possibly hours in, or
at the first validation. :func:`check_run_images` reads every image of
each configured data loader (``train_dataloader``, ``val_dataloader``,
``test_dataloader``) the way its pipeline's loader does (MMCV's
``LoadImageFromFile`` or a subclass, or
:class:`~mmropim.datasets.LoadImageWithPillow`, which ``tools/train.py
--data-root`` puts in its place), and names every unreadable file, one a
line, under its split; a pipeline with neither loader is an error, not a
pass. ``tools/train.py --check-data`` runs it on the splits a training run
reads (train, and val unless ``--no-validate``),
``tools/analysis/check_data.py`` on all three.
"""
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import mmcv
from mmcv.transforms import LoadImageFromFile
from mmengine import fileio
from mmengine.config import Config
from mmengine.registry import DATASETS, init_default_scope

from .transforms import LoadImageWithPillow

SPLITS = ('train', 'val', 'test')
IMAGE_LOADERS = (LoadImageFromFile, LoadImageWithPillow)


class UnreadableImagesError(RuntimeError):
    """Some images of a run's data sets cannot be decoded."""


class NoImageLoaderError(ValueError):
    """A data set's pipeline has no loader whose reads can be checked."""


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


def unreadable_images(dataset_cfg: dict, key: str,
                      workers: int) -> Tuple[int, List[Tuple[str, str]]]:
    """Decode every image of one data set as its pipeline's loader would.

    Args:
        dataset_cfg (dict): The ``dataset`` of a data loader config.
        key (str): Its data loader (``train_dataloader``, ...), for the
            messages.
        workers (int): Decoding threads.

    Returns:
        tuple[int, list[tuple[str, str]]]: The number of distinct images,
        and ``(path, reason)`` for each unreadable one, in the data set's
        order.
    """
    dataset = DATASETS.build(dataset_cfg)
    dataset.full_init()
    loader = image_loader(dataset)
    if loader is None:
        pipeline = getattr(getattr(dataset, 'pipeline', None), 'transforms',
                           [])
        raise NoImageLoaderError(
            f'cannot check the images of {key}: its pipeline has no '
            'LoadImageFromFile (or subclass) nor LoadImageWithPillow, got '
            f'{[type(t).__name__ for t in pipeline]}')
    # a RepeatDataset / ClassBalancedDataset lists an image several times
    paths = list(
        dict.fromkeys(
            dataset.get_data_info(index)['img_path']
            for index in range(len(dataset))))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        errors = list(pool.map(lambda p: read_error(p, loader), paths))
    return len(paths), [(p, e) for p, e in zip(paths, errors) if e]


def check_run_images(cfg: Union[Config, dict],
                     workers: int = 8,
                     splits: Sequence[str] = SPLITS
                     ) -> Dict[str, Union[int, str]]:
    """Decode every image of each configured data loader of ``cfg`` as its
    pipeline's image loader (``LoadImageFromFile`` or
    ``LoadImageWithPillow``) would; raise naming every unreadable file.

    Args:
        cfg (Config | dict): A run config.
        workers (int): Decoding threads.
        splits (Sequence[str]): The data loaders to read, of ``'train'``,
            ``'val'`` and ``'test'``; one that is missing or ``None`` in
            ``cfg`` is skipped. Defaults to all three.

    Returns:
        dict: For each data loader read (``'train_dataloader'``, ...), the
        number of distinct images checked, or, for a data set configured
        exactly as an earlier one's (often ``test_dataloader`` as
        ``val_dataloader``), the key of that one: it is read once.

    Raises:
        UnreadableImagesError: Naming every unreadable file, one a line,
            under its data loader; no list is cut short.
        NoImageLoaderError: A pipeline has neither loader, so nothing
            could be checked.
    """
    unknown = [split for split in splits if split not in SPLITS]
    if unknown:
        raise ValueError(f'unknown splits {unknown}; expected some of '
                         f'{list(SPLITS)}')
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    counts: Dict[str, Union[int, str]] = {}
    read: List[Tuple[dict, str]] = []
    report = []
    total_bad = 0
    for split in splits:
        key = f'{split}_dataloader'
        dataloader = cfg.get(key)
        if not dataloader:
            continue
        dataset_cfg = dataloader['dataset']
        same = [other for config, other in read if config == dataset_cfg]
        if same:
            counts[key] = same[0]
            continue
        count, bad = unreadable_images(dataset_cfg, key, workers)
        read.append((dataset_cfg, key))
        counts[key] = count
        if bad:
            total_bad += len(bad)
            report.append(f'{key}: {len(bad)} of the {count} images cannot '
                          'be read:')
            report.extend(f'  {path}: {error}' for path, error in bad)
    if report:
        listed = '\n'.join(report)
        raise UnreadableImagesError(
            f'{total_bad} of the images the run reads cannot be decoded; '
            f'remove or replace them (every one is named):\n{listed}')
    return counts
