"""The training set of a config pointed at the demo set of its task
(``make_demo_data.py``'s output), for ``check_configs.py``."""
import copy
import glob
import math
import os
import os.path as osp

from mmengine.config import ConfigDict

from mmropim.utils.run_config import training_dataset

# Where each task's demo set lives and how its config's dataset is pointed
# at it (the dataset class and pipeline stay the config's own, except that
# the pre-training / classification folders are read as CustomDataset).
DEMO_SETS = dict(
    mmpretrain=dict(
        subdir='imagenet',
        images='train/*/*',
        override=dict(type='CustomDataset', data_prefix='train',
                      ann_file='', split='')),
    mmseg=dict(
        subdir='ade20k',
        images='images/training/*',
        override=dict(
            img_suffix='.png', seg_map_suffix='.png',
            data_prefix=dict(img_path='images/training',
                             seg_map_path='annotations/training'))),
    mmdet=dict(
        subdir='coco',
        images='train/*',
        override=dict(
            metainfo=dict(classes=('nucleus', )),
            ann_file='annotations/instances_train.json',
            data_prefix=dict(img='train/'))))


def reduces_zero_label(dataset_cfg: dict) -> bool:
    """Whether an MMSeg dataset maps label 0 to 'ignore' (ADE20K's
    convention: 0 = other), by its config or its class default."""
    if 'reduce_zero_label' in dataset_cfg:
        return bool(dataset_cfg['reduce_zero_label'])
    import inspect

    from mmseg.registry import DATASETS
    parameter = inspect.signature(DATASETS.get(
        dataset_cfg['type']).__init__).parameters.get('reduce_zero_label')
    return bool(parameter is not None and parameter.default)


def shift_seg_labels(root: str, out: str) -> str:
    """A copy of an ADE20K-style demo set with every label id raised by one
    (0 background -> 1, 1 nucleus -> 2), for datasets that reduce the zero
    label: otherwise background is ignored and a crop without a nucleus
    supervises nothing."""
    import shutil

    import numpy as np
    from PIL import Image
    shutil.copytree(osp.join(root, 'images'), osp.join(out, 'images'),
                    dirs_exist_ok=True)
    for path in glob.glob(
            osp.join(glob.escape(root), 'annotations', '*', '*.png')):
        target = osp.join(out, osp.relpath(path, root))
        os.makedirs(osp.dirname(target), exist_ok=True)
        labels = np.asarray(Image.open(path)).astype(np.uint8)
        Image.fromarray(labels + 1).save(target)
    return out


def demo_dataset(dataset_cfg: dict, scope: str, demo_root: str,
                 num_samples: int, scratch: str) -> ConfigDict:
    """The config's training dataset read from the demo set of its task and
    repeated to at least ``num_samples`` images. Dataset wrappers (e.g. the
    LSJ configs' ``RepeatDataset``) are unwrapped; the dataset class (except
    for ImageNet) and the pipeline stay the config's own. ``scratch`` holds
    relabelled copies where the dataset needs them."""
    dataset_cfg = training_dataset(dataset_cfg)
    demo = DEMO_SETS[scope]
    root = osp.join(demo_root, demo['subdir'])
    length = len(glob.glob(osp.join(glob.escape(root), demo['images'])))
    if length == 0:
        raise FileNotFoundError(
            f'no demo images under {root}: run '
            f'python tools/dataset_converters/make_demo_data.py --out '
            f'{demo_root}')
    if scope == 'mmseg' and reduces_zero_label(dataset_cfg):
        root = shift_seg_labels(root, osp.join(scratch, 'seg_labels_plus1'))
    dataset = copy.deepcopy(ConfigDict(dataset_cfg))
    dataset.update(copy.deepcopy(demo['override']), data_root=root)
    if scope == 'mmpretrain':
        for key in ('ann_file', 'split'):
            dataset.pop(key)
    return ConfigDict(type='RepeatDataset',
                      times=math.ceil(num_samples / length), dataset=dataset)
