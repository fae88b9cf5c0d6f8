"""The one walk over a dataset config and the datasets it wraps."""
from typing import Iterator, Mapping, Tuple


def dataset_configs(dataset, where: str) -> Iterator[Tuple[str, Mapping]]:
    """``(where, config)`` of a dataset config, then of the datasets it
    wraps (MMEngine's wrappers name them ``dataset``, e.g.
    ``RepeatDataset``, or ``datasets``, e.g. ``ConcatDataset``), depth
    first.

    Args:
        dataset: A dataset config; anything else yields nothing.
        where (str): Its config path, e.g. ``'train_dataloader.dataset'``;
            the inner ones get ``.dataset`` / ``.datasets.<i>`` appended.
    """
    if not isinstance(dataset, Mapping):
        return
    yield where, dataset
    yield from dataset_configs(dataset.get('dataset'), f'{where}.dataset')
    datasets = dataset.get('datasets')
    if isinstance(datasets, (list, tuple)):
        for i, inner in enumerate(datasets):
            yield from dataset_configs(inner, f'{where}.datasets.{i}')
