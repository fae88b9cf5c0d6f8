"""The class folders of the splits of a classification config, checked
against each other before a run is built.

MMPretrain's ``CustomDataset`` without an annotation file labels images by
their class folder's position among the sorted folder names of its own
split. A class folder missing from ``val/`` therefore shifts every
validation label after it (``dog`` becomes 0 instead of 1) and validation
reports nonsense without an error; a ``classes`` list is only compared by
its length. :func:`check_class_folders` names the folders that differ.
"""
import os
import os.path as osp
from typing import List, Mapping, Optional, Tuple

from ..utils.arg_checks import config_type_name

SPLITS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
FOLDER_DATASETS = ('CustomDataset', )


class ClassFolderMismatchError(ValueError):
    """The splits of a classification config do not have the same class
    folders, or not those of its ``classes``."""


def class_folder_root(dataset: Mapping) -> Optional[str]:
    """The local folder whose subfolders are the classes of a
    ``CustomDataset`` config without an annotation file and with labels;
    None for any other dataset (or one not on the local disk).

    Args:
        dataset (Mapping): A dataset config, possibly inside wrappers
            (``RepeatDataset`` ...).
    """
    while isinstance(dataset, Mapping) and 'dataset' in dataset and \
            config_type_name(dataset) not in FOLDER_DATASETS:
        dataset = dataset['dataset']
    if not isinstance(dataset, Mapping) or config_type_name(
            dataset) not in FOLDER_DATASETS or dataset.get(
                'ann_file') or not dataset.get('with_label', True):
        return None
    prefix = dataset.get('data_prefix', '')
    if isinstance(prefix, Mapping):
        prefix = prefix.get('img_path', '')
    root = dataset.get('data_root') or ''
    prefix = prefix or ''
    folder = prefix if osp.isabs(prefix) else osp.join(root, prefix)
    if '://' in folder or not osp.isdir(folder):
        return None  # remote, or missing: the dataset reports it
    return folder


def class_folders(folder: str) -> List[str]:
    """The sorted subfolder names, as ``CustomDataset`` numbers them."""
    return sorted(name for name in os.listdir(folder)
                  if osp.isdir(osp.join(folder, name)))


def differences(names: List[str], reference: List[str]) -> Tuple[list, list]:
    """``reference`` names not in ``names``, and ``names`` not in it."""
    return ([n for n in reference if n not in names],
            [n for n in names if n not in reference])


def check_class_folders(cfg: Mapping) -> None:
    """Refuse splits whose class folders differ from the training split's,
    or from the dataset's ``classes``.

    Args:
        cfg (Mapping): A run config; ``train_dataloader``,
            ``val_dataloader`` and ``test_dataloader`` are checked where
            they are folder datasets (``CustomDataset`` without
            ``ann_file``, with labels) on the local disk.

    Raises:
        ClassFolderMismatchError: Naming the split, its folder and the
            class folders missing or extra.
    """
    reference = None
    for split in SPLITS:
        dataset = (cfg.get(split) or {}).get('dataset')
        folder = class_folder_root(dataset) if dataset else None
        if folder is None:
            continue
        names = class_folders(folder)
        classes = dataset.get('classes')
        if isinstance(classes, (list, tuple)):
            missing, extra = differences(names, list(classes))
            if missing or extra:
                raise ClassFolderMismatchError(
                    f'{split}.dataset.classes lists {len(classes)} classes '
                    f'but {folder} has the class folders {names}: no folder '
                    f'for {missing}, folders not in classes: {extra}')
            if names != list(classes):
                raise ClassFolderMismatchError(
                    f'{split}.dataset.classes is not in the sorted order of '
                    f'the class folders of {folder}: CustomDataset labels '
                    f'the folders in that order ({names}), so the class '
                    'names would not be those of the labels; sort classes')
        if reference is None:
            reference = (split, folder, names)
            continue
        missing, extra = differences(names, reference[2])
        if missing or extra:
            raise ClassFolderMismatchError(
                f'the class folders of {split} ({folder}) are not those of '
                f'{reference[0]} ({reference[1]}): missing {missing}, extra '
                f'{extra}. CustomDataset numbers the classes of each split '
                'by its own sorted folder names, so every label after a '
                'difference would name another class; give every split the '
                'same class folders (an empty folder keeps the numbering)')
