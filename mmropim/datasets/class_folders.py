"""The class folders of the splits of a classification config, checked
against each other before a run is built.

MMPretrain's ``CustomDataset`` without an annotation file labels images by
their class folder's position among the sorted folder names of its own
split. A class folder missing from ``val/`` therefore shifts every
validation label after it (``dog`` becomes 0 instead of 1) and validation
reports nonsense without an error; the class names (``classes=[...]``,
``classes='classes.txt'`` or ``metainfo=dict(classes=...)``) are only
compared by their count. :func:`check_class_folders` names the folders that
differ. Testing a checkpoint often goes without its training images:
:func:`check_class_folders_fit_model` compares the evaluated splits with the
classes the checkpoint was trained on (or the count of its head's).

A dataset is a folder dataset when the registry's class for its ``type`` is
``CustomDataset`` or a subclass (``ImageNet``, one of the user's), however
it is named; wrappers (``ConcatDataset``, ``RepeatDataset``,
``ClassBalancedDataset``, ...) are searched through their ``dataset`` /
``datasets``. The paths, annotation file and class names are those the
class itself derives from its arguments (it is built without its pipeline
and without loading its data list).
"""
import inspect
import os
import os.path as osp
from typing import Iterator, List, Mapping, Optional, Tuple

from ..utils.dataset_configs import dataset_configs

SPLITS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


class ClassFolderMismatchError(ValueError):
    """The splits of a classification config do not have the same class
    folders, or not those of its ``classes``."""


class FolderDataset:
    """What a folder dataset config numbers its labels by.

    Args:
        where (str): The config path of the dataset, for messages
            (``'val_dataloader.dataset'``,
            ``'val_dataloader.dataset.datasets.1'``).
        folder (str): The folder whose subfolders are the classes.
        classes (tuple, optional): The class names the config gives, if any.
        classes_from (str): How the config gives them, for messages.
        label_names (tuple, optional): The names the dataset gives its
            labels: ``classes``, else its class's own (``ImageNet``'s), if
            any.
    """

    def __init__(self, where: str, folder: str,
                 classes: Optional[tuple] = None,
                 classes_from: str = '',
                 label_names: Optional[tuple] = None) -> None:
        self.where = where
        self.folder = folder
        self.classes = classes
        self.classes_from = classes_from
        self.label_names = classes if label_names is None else label_names


def dataset_class(dataset: Mapping, scope: Optional[str]):
    """The class the registry builds for a dataset config (its ``type``,
    a class or a name looked up under ``scope``); None if it names none."""
    from mmpretrain.registry import DATASETS
    kind = dataset.get('type')
    if not isinstance(kind, str):
        return kind if isinstance(kind, type) else None
    try:
        with DATASETS.switch_scope_and_registry(
                dataset.get('_scope_', scope)) as registry:
            return registry.get(kind)
    except Exception:  # an unknown scope or type: the runner reports it
        return None


def folder_dataset(dataset: Mapping, where: str,
                   scope: Optional[str]) -> Optional[FolderDataset]:
    """The class folders of a ``CustomDataset`` config (or a subclass's)
    without an annotation file and with labels, on the local disk; None for
    any other dataset.

    Args:
        dataset (Mapping): A dataset config.
        where (str): Its config path, for messages.
        scope (str, optional): The default scope its ``type`` is looked up
            in.
    """
    from mmpretrain.datasets import CustomDataset
    cls = dataset_class(dataset, scope)
    if not (isinstance(cls, type) and issubclass(cls, CustomDataset)):
        return None
    arguments = {k: v for k, v in dataset.items()
                 if k != 'type' and not k.startswith('_')}
    arguments.update(pipeline=[], lazy_init=True)
    try:
        # paths joined, a split turned into a prefix or an annotation file,
        # a classes file read, as the class does it
        instance = cls(**arguments)
    except Exception:  # building it for the run fails the same way
        return None
    if instance.ann_file or not getattr(instance, 'with_label', True):
        return None
    folder = instance.data_prefix.get('img_path') or ''
    if '://' in folder or not osp.isdir(folder):
        return None  # remote, or missing: the dataset reports it
    metainfo = dataset.get('metainfo')
    if isinstance(metainfo, Mapping) and 'classes' in metainfo:
        classes_from = f'{where}.metainfo.classes'
    elif isinstance(dataset.get('classes'), str):
        classes_from = f"{where}.classes (the file {dataset['classes']})"
    elif dataset.get('classes') is not None:
        classes_from = f'{where}.classes'
    else:  # names the class itself gives (ImageNet's) are not the folders'
        own = instance.metainfo.get('classes')
        return FolderDataset(
            where, folder, label_names=None if own is None else tuple(own))
    classes = instance.metainfo.get('classes')
    return FolderDataset(where, folder,
                         None if classes is None else tuple(classes),
                         classes_from)


def folder_datasets(dataset, where: str,
                    scope: Optional[str]) -> Iterator[FolderDataset]:
    """The folder datasets of a dataset config, inside wrappers too.

    Args:
        dataset: A dataset config.
        where (str): Its config path, for messages.
        scope (str, optional): The default scope of the config.
    """
    for inner_where, config in dataset_configs(dataset, where):
        found = folder_dataset(config, inner_where, scope)
        if found is not None:
            yield found


def class_folders(folder: str) -> List[str]:
    """The sorted subfolder names, as ``CustomDataset`` numbers them."""
    return sorted(name for name in os.listdir(folder)
                  if osp.isdir(osp.join(folder, name)))


def differences(names: List[str], reference: List[str]) -> Tuple[list, list]:
    """``reference`` names not in ``names``, and ``names`` not in it."""
    return ([n for n in reference if n not in names],
            [n for n in names if n not in reference])


def check_given_classes(found: FolderDataset, names: List[str]) -> None:
    """Refuse class names that are not the folder names in their sorted
    order (the label of a folder is its position among them)."""
    if found.classes is None:
        return
    classes = list(found.classes)
    missing, extra = differences(names, classes)
    if missing or extra:
        raise ClassFolderMismatchError(
            f'{found.classes_from} lists {len(classes)} classes but '
            f'{found.folder} has the class folders {names}: no folder for '
            f'{missing}, folders not in classes: {extra}')
    if names != classes:
        raise ClassFolderMismatchError(
            f'{found.classes_from} is not in the sorted order of the class '
            f'folders of {found.folder}: CustomDataset labels the folders in '
            f'that order ({names}), so the class names ({classes}) would not '
            'be those of the labels; sort classes')


def check_class_folders(cfg: Mapping,
                        splits: Tuple[str, ...] = SPLITS) -> None:
    """Refuse splits whose class folders differ from the training split's,
    or from the dataset's ``classes``.

    Args:
        cfg (Mapping): A run config; the data loaders of ``splits`` are
            checked where they are folder datasets (``CustomDataset`` or a
            subclass, without ``ann_file``, with labels) on the local disk,
            inside dataset wrappers too; types are looked up under the
            config's ``default_scope`` ('mmpretrain' if it has none).
        splits (tuple[str]): The data loaders the run reads, the first
            the reference. Defaults to ``train_dataloader``,
            ``val_dataloader`` and ``test_dataloader``.

    Raises:
        ClassFolderMismatchError: Naming the split, its folder and the
            class folders missing or extra.
    """
    scope = cfg.get('default_scope') or 'mmpretrain'
    reference = None
    for split in splits:
        dataset = (cfg.get(split) or {}).get('dataset')
        for found in folder_datasets(dataset, f'{split}.dataset', scope):
            names = class_folders(found.folder)
            check_given_classes(found, names)
            if reference is None:
                reference = (found.where, found.folder, names)
                continue
            missing, extra = differences(names, reference[2])
            if missing or extra:
                raise ClassFolderMismatchError(
                    f'the class folders of {found.where} ({found.folder}) '
                    f'are not those of {reference[0]} ({reference[1]}): '
                    f'missing {missing}, extra {extra}. CustomDataset '
                    'numbers the classes of each split by its own sorted '
                    'folder names, so every label after a difference would '
                    'name another class; give every split the same class '
                    'folders (an empty folder keeps the numbering)')
    if reference is not None:
        check_head_classes(cfg, *reference)


def check_head_classes(cfg: Mapping, where: str, folder: str,
                       names: List[str]) -> None:
    """Refuse more class folders in the training split than the model
    head has classes (``model.head.num_classes``): the labels from
    ``num_classes`` on would stop the run deep in the loss, or train
    silently when such a folder is empty."""
    head = (cfg.get('model') or {}).get('head')
    num_classes = head.get('num_classes') if isinstance(head,
                                                        Mapping) else None
    if isinstance(num_classes, bool) or not isinstance(
            num_classes, int) or len(names) <= num_classes:
        return
    empty = [name for name in names
             if not os.listdir(osp.join(folder, name))]
    raise ClassFolderMismatchError(
        f'{where} ({folder}) has {len(names)} class folders but '
        f'model.head.num_classes={num_classes}: CustomDataset labels the '
        f'folders by their sorted names, so {shown(names[num_classes:])} '
        f'would get labels the head does not have'
        + (f'; empty folders: {shown(empty)}' if empty else '') +
        f'. Set model.head.num_classes={len(names)}, or remove the folders '
        'that are not classes')


def shown(names: list, most: int = 10) -> str:
    """``names`` for a message, the first ``most`` of a long list."""
    if len(names) <= most:
        return repr(names)
    return f'{repr(names[:most])[:-1]}, ... ({len(names)} in all)]'


def trained_classes(checkpoint_meta) -> Optional[List[str]]:
    """The class names of ``meta['dataset_meta']`` (the training dataset's
    metainfo, which MMEngine's ``Runner.save_checkpoint`` writes), if
    any."""
    if not isinstance(checkpoint_meta, Mapping):
        return None
    dataset_meta = checkpoint_meta.get('dataset_meta')
    if not isinstance(dataset_meta, Mapping):
        return None
    classes = dataset_meta.get('classes')
    if isinstance(classes, str) or not isinstance(classes, (list, tuple)):
        return None
    return [str(name) for name in classes]


def check_class_folders_fit_model(
        cfg: Mapping,
        checkpoint_meta: Optional[Mapping],
        checkpoint: str,
        num_classes: Optional[int] = None,
        splits: Tuple[str, ...] = ('val_dataloader', 'test_dataloader')
) -> None:
    """Refuse evaluated splits whose class folders are not the classes the
    model was trained on.

    :func:`check_class_folders` compares with the training split, which a
    test often goes without; here the reference is the checkpoint's
    ``meta['dataset_meta']['classes']`` (names and order), else the
    model head's ``num_classes`` (the count only). Class names that a
    dataset class gives itself (``ImageNet``'s) are not folder names: when
    the checkpoint's are those of the evaluated dataset, their count is
    compared.

    Args:
        cfg (Mapping): A run config; its ``splits`` are checked where they
            are folder datasets (see :func:`check_class_folders`).
        checkpoint_meta (Mapping, optional): The checkpoint's ``meta``.
        checkpoint (str): The checkpoint file, for messages.
        num_classes (int, optional): The model head's ``num_classes``, if
            it has one. Defaults to None.
        splits (tuple[str]): The data loaders checked. Defaults to
            ``('val_dataloader', 'test_dataloader')``.

    Raises:
        ClassFolderMismatchError: Naming the split, its folder, the class
            folders missing or extra (or their count) and the reference.
    """
    scope = cfg.get('default_scope') or 'mmpretrain'
    classes = trained_classes(checkpoint_meta)
    if classes is None and num_classes is None:
        return
    fix = ('CustomDataset numbers the classes by the sorted folder names '
           'of each split, so every label after a difference would name '
           'another class; give {} a folder for each class the model was '
           'trained on (an empty folder keeps the numbering) and no other')
    for split in splits:
        dataset = (cfg.get(split) or {}).get('dataset')
        for found in folder_datasets(dataset, f'{split}.dataset', scope):
            names = class_folders(found.folder)
            fix_here = fix.format(found.folder)
            if classes is None or (names != classes and found.label_names
                                   and list(found.label_names) == classes):
                count, source = (
                    (num_classes, f'the model head has num_classes='
                     f'{num_classes} (the checkpoint {checkpoint} names no '
                     'classes, so the missing or extra folders cannot be '
                     'named)') if classes is None else
                    (len(classes), f'the checkpoint {checkpoint} was '
                     f'trained on {len(classes)} classes (the names '
                     f'{found.where} gives its labels, not folder names)'))
                if len(names) != count:
                    raise ClassFolderMismatchError(
                        f'{found.where} ({found.folder}) has {len(names)} '
                        f'class folders but {source}. {fix_here}')
                continue
            missing, extra = differences(names, classes)
            reference = (f"the classes the checkpoint {checkpoint} was "
                         "trained on (its meta['dataset_meta']['classes'], "
                         f'{len(classes)} classes)')
            if missing or extra:
                raise ClassFolderMismatchError(
                    f'the class folders of {found.where} ({found.folder}) '
                    f'are not {reference}: missing {shown(missing)}, extra '
                    f'{shown(extra)}. {fix_here}')
            if names != classes:
                raise ClassFolderMismatchError(
                    f'{found.where} ({found.folder}) has the class folders '
                    f'of {reference} in another order: the model numbers '
                    f'them {shown(classes)}, CustomDataset the sorted '
                    f'folders {shown(names)}, so the labels would not be '
                    'the trained ones (or the checkpoint names its classes '
                    'in another order than its labels). Test with an '
                    'annotation file (ann_file) giving each image its '
                    'trained label')


def downloads(dataset: Mapping, scope: Optional[str]) -> bool:
    """Whether a dataset config downloads its data into its ``data_root``
    (MMPretrain's ``CIFAR10`` / ``MNIST``: ``download=True`` by default)."""
    cls = dataset_class(dataset, scope)
    if not inspect.isclass(cls):
        return False
    parameter = inspect.signature(cls).parameters.get('download')
    if parameter is None:
        return False
    return bool(dataset.get('download', parameter.default))


def check_data_roots(cfg: Mapping, splits: Tuple[str, ...] = SPLITS) -> None:
    """Refuse a local ``data_root`` that is not a folder, and a
    ``data_prefix`` folder (a str, or the str values of a dict such as
    ``dict(img_path=...)``) that is not one under it, in the datasets of
    ``splits`` (inside dataset wrappers too); remote paths (``s3://``),
    roots read through ``backend_args`` and datasets that download into
    their root are not checked. The run would stop once the dataset is
    built, after writing to the work dir, with an error naming the path but
    not the key.

    Args:
        cfg (Mapping): A run config.
        splits (tuple[str]): The data loaders the run reads. Defaults to
            all three.

    Raises:
        FileNotFoundError: Naming the key and the path.
    """
    scope = cfg.get('default_scope') or 'mmpretrain'
    for split in splits:
        dataset = (cfg.get(split) or {}).get('dataset')
        for where, config in dataset_configs(dataset, f'{split}.dataset'):
            root = config.get('data_root')
            if not isinstance(root, str) or '://' in root or config.get(
                    'backend_args') or config.get('file_client_args') or \
                    downloads(config, scope):
                continue
            if not osp.isdir(root):
                raise FileNotFoundError(
                    f'{where}.data_root is {root!r}, which is not a folder '
                    f'(from {os.getcwd()}): give the folder that holds the '
                    'data')
            prefix = config.get('data_prefix')
            prefixes = [('data_prefix', prefix)] if isinstance(
                prefix, str) else [(f'data_prefix.{key}', value)
                                   for key, value in prefix.items()] \
                if isinstance(prefix, Mapping) else []
            for key, value in prefixes:
                if isinstance(value, str) and value and '://' not in value \
                        and not osp.isdir(osp.join(root, value)):
                    raise FileNotFoundError(
                        f'{where}.{key} is {value!r}, which is not a folder '
                        f'in {where}.data_root {root!r}: the folders there '
                        f'are {shown(class_folders(root))}')
