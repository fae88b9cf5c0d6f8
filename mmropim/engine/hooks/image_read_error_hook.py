from typing import Iterator, Optional, Sequence

from mmcv.transforms import BaseTransform
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from mmropim.datasets.image_checks import (IMAGE_LOADERS,
                                           UnreadableImagesError,
                                           built_datasets)
from mmropim.datasets.transforms import LoadImageWithPillow


def _decoder(loader) -> str:
    if isinstance(loader, LoadImageWithPillow):
        return 'Pillow'
    backend = getattr(loader, 'imdecode_backend', 'cv2')
    return {'cv2': 'OpenCV', 'pillow': 'Pillow'}.get(backend, backend)


class NamedImageLoading(BaseTransform):
    """An image loader whose failure names the file and what a data folder
    may hold (:class:`ImageReadErrorHook` puts it around the loaders).

    Args:
        loader (BaseTransform): ``LoadImageFromFile`` (or a subclass) or
            ``LoadImageWithPillow``.
        extensions (Sequence[str], optional): The file name endings the
            data set lists, for the message.
    """

    def __init__(self, loader: BaseTransform,
                 extensions: Optional[Sequence[str]] = None) -> None:
        self.loader = loader
        self.extensions = extensions

    def transform(self, results: dict) -> Optional[dict]:
        try:
            return self.loader(results)
        except Exception as error:
            path = results.get('img_path', '(no img_path)')
            ending = ''
            if self.extensions:
                ending = ' ending in ' + ', '.join(sorted(self.extensions))
            raise UnreadableImagesError(
                f'cannot read {path} as an image: '
                f'{type(error).__name__}: {error}. The data set reads every '
                f'file{ending} of its folder as an image, which '
                f'{_decoder(self.loader)} must decode '
                f'({type(self.loader).__name__}); move other files (text, '
                'archives, broken downloads) out of the data folder. '
                '`python tools/analysis/check_data.py CONFIG` names every '
                'unreadable file of a config without training.') from error

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.loader!r})'


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
    workers when it is built, before this hook runs: their iterator is
    started again once the loaders are wrapped.
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
            loop.dataloader_iterator = type(iterator)(loop.dataloader)

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
                        transform, getattr(dataset, 'extensions', None))
                    wrapped = True
        return wrapped
