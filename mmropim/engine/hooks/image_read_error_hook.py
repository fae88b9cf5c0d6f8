from typing import Iterator, Optional, Sequence, Tuple

import torch
from mmcv.transforms import BaseTransform
from mmengine.dataset import InfiniteSampler
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from torch.utils.data import DataLoader

from mmropim.compat import (forget_persistent_workers,
                            restart_infinite_sampler, restart_loop_iterator)
from mmropim.datasets.image_checks import (IMAGE_LOADERS,
                                           UnreadableImagesError,
                                           built_datasets)
from mmropim.datasets.transforms import LoadImageWithPillow


def _decoder(loader) -> str:
    if isinstance(loader, LoadImageWithPillow):
        return 'Pillow'
    backend = getattr(loader, 'imdecode_backend', 'cv2')
    return {'cv2': 'OpenCV', 'pillow': 'Pillow'}.get(backend, backend)


def _listing(dataset) -> Tuple[Optional[Sequence[str]], Optional[str]]:
    """How a data set lists its images: the file endings it reads of a
    folder (MMPretrain's ``extensions``, MMSeg's ``img_suffix``), and the
    annotation file that lists them instead, if any."""
    extensions = getattr(dataset, 'extensions', None)
    suffix = getattr(dataset, 'img_suffix', None)
    if extensions is None and isinstance(suffix, str):
        extensions = (suffix, )
    # MMPretrain's folder data sets and MMSeg's without a list keep ''
    return extensions, getattr(dataset, 'ann_file', None) or None


class NamedImageLoading(BaseTransform):
    """An image loader whose failure names the file and what a data folder
    may hold (:class:`ImageReadErrorHook` puts it around the loaders).

    Args:
        loader (BaseTransform): ``LoadImageFromFile`` (or a subclass) or
            ``LoadImageWithPillow``.
        extensions (Sequence[str], optional): The file name endings the
            data set lists, for the message.
        ann_file (str, optional): The annotation file that lists the data
            set's images (COCO, a list file); None when the data set reads
            every file of a folder.
    """

    def __init__(self,
                 loader: BaseTransform,
                 extensions: Optional[Sequence[str]] = None,
                 ann_file: Optional[str] = None) -> None:
        self.loader = loader
        self.extensions = extensions
        self.ann_file = ann_file

    def transform(self, results: dict) -> Optional[dict]:
        try:
            return self.loader(results)
        except Exception as error:
            path = results.get('img_path', '(no img_path)')
            decoder = (f'{_decoder(self.loader)} must decode '
                       f'({type(self.loader).__name__})')
            if self.ann_file:
                advice = (f'The data set reads the images {self.ann_file} '
                          f'lists, which {decoder}; replace the file with '
                          'a readable image or remove its entries from the '
                          'annotations.')
            else:
                ending = ''
                if self.extensions:
                    ending = ' ending in ' + ', '.join(
                        sorted(self.extensions))
                advice = (f'The data set reads every file{ending} of its '
                          f'folder as an image, which {decoder}; move '
                          'other files (text, archives, broken downloads) '
                          'out of the data folder.')
            raise UnreadableImagesError(
                f'cannot read {path} as an image: '
                f'{type(error).__name__}: {error}. {advice} '
                '`python tools/analysis/check_data.py CONFIG` names every '
                'unreadable file of a config without training.') from error

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.loader!r})'


def _restarted(iterator, loader: DataLoader):
    """A new iterator of the type of ``iterator`` over ``loader``, with new
    workers, that yields what ``iterator`` would have yielded from its
    start: an ``InfiniteSampler`` starts over from its first index (its
    one stream of indices, shared by the iterators, closes when the old
    iterator goes), persistent workers are replaced. The old workers stop
    when the caller drops ``iterator``."""
    for sampler in (loader.sampler,
                    getattr(loader.batch_sampler, 'sampler', None)):
        if isinstance(sampler, InfiniteSampler):
            restart_infinite_sampler(sampler)
    forget_persistent_workers(loader)
    # a new iterator draws its workers' base seed from the global RNG: the
    # run's own random draws stay as they were (mmengine's worker_init_fn
    # seeds each worker from the run's seed)
    with torch.random.fork_rng(devices=[]):
        return restart_loop_iterator(iterator, loader)


@HOOKS.register_module()
class ImageReadErrorHook(Hook):
    """Name the file, and what a data folder may hold, when an image cannot
    be read during a run.

    A file that is not an image in a data folder (a ``.jpg`` holding text, a
    truncated download) otherwise stops the run where the data loader
    reaches it, inside a worker, with MMCV's ``failed to load image: PATH``
    (OpenCV) or Pillow's ``UnidentifiedImageError`` naming no file at all
    (``imdecode_backend='pillow'``). Before the loop starts, this hook wraps
    each image loader (``LoadImageFromFile`` or a subclass,
    ``LoadImageWithPillow``) of the loop's data sets (wrapped data sets
    included) in :class:`NamedImageLoading`, which raises
    :class:`~mmropim.datasets.UnreadableImagesError` naming the file, the
    file name endings the data set lists, the decoder, and
    ``tools/analysis/check_data.py``, which reads every image of a config
    up front. Images that load are returned exactly as before; nothing is
    read in advance. An ``IterBasedTrainLoop`` starts its data-loader
    workers when it is built, before this hook runs: its iterator is
    started again, with new workers, once the loaders are wrapped; it
    reads the same batches in the same order as the first one would have
    (an ``InfiniteSampler`` starts over from its first index).
    """

    priority = 'VERY_LOW'

    def before_train(self, runner) -> None:
        wrapped = self._wrap(runner, ('train_loop', 'val_loop'))
        loop = runner.train_loop
        iterator = getattr(loop, 'dataloader_iterator', None)
        if wrapped and iterator is not None and \
                loop.dataloader.num_workers > 0:
            # IterBasedTrainLoop started the workers when it was built,
            # with the loaders as they were: start them again
            loop.dataloader_iterator = _restarted(iterator, loop.dataloader)

    def before_val(self, runner) -> None:
        self._wrap(runner, ('val_loop', ))

    def before_test(self, runner) -> None:
        self._wrap(runner, ('test_loop', ))

    @staticmethod
    def _datasets(runner, loops: Sequence[str]) -> Iterator:
        for name in loops:
            loop = getattr(runner, name, None)
            dataset = getattr(getattr(loop, 'dataloader', None), 'dataset',
                              None)
            if dataset is not None:
                yield from built_datasets(dataset)

    def _wrap(self, runner, loops: Sequence[str]) -> bool:
        """Wrap the image loaders of the loops' data sets; whether any was
        wrapped now."""
        wrapped = False
        for dataset in self._datasets(runner, loops):
            transforms = getattr(getattr(dataset, 'pipeline', None),
                                 'transforms', None)
            if not isinstance(transforms, list):
                continue
            for i, transform in enumerate(transforms):
                if isinstance(transform, IMAGE_LOADERS):
                    transforms[i] = NamedImageLoading(
                        transform, *_listing(dataset))
                    wrapped = True
        return wrapped
