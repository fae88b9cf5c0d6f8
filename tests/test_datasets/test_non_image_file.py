"""A file in a data folder that is not an image (a ``.jpg`` holding text)
stops training with an error that names the file and says what the folder
may hold, in the main process and from a data loader worker alike; without
the config's ImageReadErrorHook, MMCV's loader said only ``failed to load
image: PATH`` (OpenCV) or raised Pillow's ``UnidentifiedImageError`` naming
no file at all (``imdecode_backend='pillow'``)."""
import glob
import os
import os.path as osp
import shutil
import types

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope, init_default_scope
from mmpretrain.registry import DATASETS
from torch.utils.data import DataLoader

import mmropim  # noqa: F401
from mmropim.datasets import UnreadableImagesError
from mmropim.engine.hooks import ImageReadErrorHook
from helpers import (REPO_ROOT, ROPIM_TINY_CFG, assert_names, logged_scalars,
                     run_tool_process)


@pytest.fixture
def folder_with_text_jpg(demo_root, tmp_path):
    """Two demo classes, 3 images each, and ``notes.jpg`` holding text."""
    for name in ('astronaut', 'camera'):
        src = osp.join(demo_root, 'train', name)
        dst = tmp_path / 'train' / name
        dst.mkdir(parents=True)
        for i in range(3):
            shutil.copy(osp.join(src, f'{name}_{i:04d}.png'), dst)
    bad = tmp_path / 'train' / 'camera' / 'notes.jpg'
    bad.write_text('shopping list: milk, eggs\n')
    return str(tmp_path) + '/', str(bad)


def dataset(root, loader=None):
    cfg = Config.fromfile(ROPIM_TINY_CFG)
    data = cfg.train_dataloader.dataset
    data.data_root = root
    if loader is not None:
        data.pipeline[0] = loader
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        init_default_scope('mmpretrain')
        return DATASETS.build(data)


def read_all(built, workers):
    """Iterate a data loader over the data set after the hook's
    before_train, as the runner does."""
    loader = DataLoader(built, batch_size=7, num_workers=workers,
                        collate_fn=pseudo_collate)
    runner = types.SimpleNamespace(
        train_loop=types.SimpleNamespace(dataloader=loader),
        val_loop=None, test_loop=None)
    ImageReadErrorHook().before_train(runner)
    for _ in loader:
        pass


LOADERS = [
    pytest.param(None, id='opencv'),
    pytest.param(dict(type='LoadImageFromFile', imdecode_backend='pillow'),
                 id='pillow'),
    pytest.param(dict(type='LoadImageWithPillow'), id='data-root-loader'),
]


@pytest.mark.parametrize('workers', [0, 1], ids=['main', 'worker'])
@pytest.mark.parametrize('loader', LOADERS)
def test_a_text_file_named_jpg_is_named_with_what_is_allowed(
        folder_with_text_jpg, loader, workers):
    root, bad = folder_with_text_jpg
    with pytest.raises(Exception) as error:
        read_all(dataset(root, loader), workers)
    text = str(error.value)
    assert 'UnreadableImagesError' in text or isinstance(
        error.value, UnreadableImagesError), text
    assert_names(text, bad, '.jpg', '.png', 'tools/analysis/check_data.py')


def test_good_images_load_as_before(folder_with_text_jpg):
    """The hook wraps the loader once (a second call changes nothing); an
    image loads exactly as without it."""
    root, bad = folder_with_text_jpg
    os.remove(bad)
    built = dataset(root)
    info = built.get_data_info(0)
    before = built.pipeline.transforms[0](dict(info))['img']
    read_all(built, 0)  # no error: every image of the folder is read
    read_all(built, 0)
    loader = built.pipeline.transforms[0]
    assert type(loader.loader).__name__ == 'LoadImageFromFile'
    np.testing.assert_array_equal(loader(dict(info))['img'], before)


@pytest.mark.parametrize('config', [
    osp.join('_base_', 'default_runtime.py'),
    *sorted(
        osp.relpath(path, osp.join(REPO_ROOT, 'configs'))
        for path in glob.glob(osp.join(REPO_ROOT, 'configs', 'downstream',
                                       '*', '*.py')))
])
def test_every_shipped_runtime_has_the_hook(config):
    """MMPretrain's runtime (every pre-training and fine-tuning config) and
    every MMSeg / MMDet transfer config."""
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', config))
    assert [h for h in cfg.custom_hooks if h.type == 'ImageReadErrorHook']


def downstream_dataset(demo_sets, config, key):
    """The demo data set of a transfer config, built in its scope."""
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'downstream',
                                   config))
    data = cfg[key].dataset
    data.data_root = osp.join(demo_sets, osp.basename(
        data.data_root.rstrip('/')))
    scope = cfg.default_scope
    import importlib
    importlib.import_module(f'{scope}.datasets')
    importlib.import_module(f'{scope}.datasets.transforms')
    with DefaultScope.overwrite_default_scope(scope):
        init_default_scope(scope)
        return DATASETS.build(data)


def broken_downstream_image(demo_sets, tmp_path, config, index):
    """The validation set of a transfer demo config on a copy of its demo
    data, whose ``index``-th image is made a text file; and its path."""
    folder = config.split(osp.sep)[0]
    shutil.copytree(osp.join(demo_sets, folder), tmp_path / folder)
    built = downstream_dataset(str(tmp_path), config, 'val_dataloader')
    bad = built.get_data_info(index)['img_path']
    with open(bad, 'w') as f:
        f.write('not an image\n')
    with pytest.raises(UnreadableImagesError) as error:
        read_all(built, 0)
    return str(error.value), bad


def test_a_broken_image_of_a_segmentation_folder_is_named(
        demo_sets, tmp_path):
    """MMSeg's data sets list the files of a folder by ``img_suffix``."""
    text, bad = broken_downstream_image(
        demo_sets, tmp_path, osp.join(
            'ade20k', 'upernet_ropim-beit-mini-p8_1xb4-40iter_demo-nuclei-'
            '128px.py'), 1)
    assert_names(text, bad, 'ending in .png', 'folder',
                 'tools/analysis/check_data.py')


def test_a_broken_image_of_an_annotation_file_is_named(demo_sets, tmp_path):
    """MMDet's COCO data set reads the images its annotation file lists:
    the message names that file, not a folder to tidy."""
    text, bad = broken_downstream_image(
        demo_sets, tmp_path, osp.join(
            'coco', 'mask-rcnn_ropim-beit-mini-p8_simple-fpn_1xb2-2e_demo-'
            'nuclei-128px.py'), 0)
    assert_names(text, bad, 'instances_val.json', 'annotation',
                 'tools/analysis/check_data.py')
    assert 'folder' not in text, text


def iteration_based_config(tmp_path, persistent_workers=False,
                           random_pipeline=True):
    """The BEiT fine-tuning demo as an iteration-based run whose training
    loader has 2 workers and MMEngine's InfiniteSampler; without
    ``random_pipeline`` the images are read as they are (the test
    pipeline)."""
    pipeline = '' if random_pipeline else \
        ', dataset=dict(pipeline={{_base_.test_pipeline}})'

    base = osp.join(REPO_ROOT, 'configs', 'ropim', 'benchmarks',
                    'beit-mini-p8_1xb32-coslr-10e_demo-64px.py')
    config = tmp_path / 'iter_based.py'
    config.write_text(
        f'_base_ = [{base!r}]\n'
        "train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', "
        'max_iters=3)\n'
        "param_scheduler = []\n"
        'log_processor = dict(by_epoch=False)\n'
        'default_hooks = dict(checkpoint=dict(by_epoch=False), '
        'logger=dict(interval=1))\n'
        "train_dataloader = dict(sampler=dict(type='InfiniteSampler'), "
        f'num_workers=2, batch_size=7, '
        f'persistent_workers={persistent_workers}{pipeline})\n'
        'randomness = dict(seed=0)\n')
    return str(config)


def train_iteration_based(config, work_dir, root, *options):
    return run_tool_process(
        'tools/train.py', config, '--work-dir', str(work_dir),
        '--no-validate', '--cfg-options', 'model.backbone.init_cfg=None',
        'model.head.num_classes=2',
        f'train_dataloader.dataset.data_root={root}', *options, timeout=600)


def test_an_iteration_based_run_with_workers_names_the_file(
        folder_with_text_jpg, tmp_path):
    """MMEngine's IterBasedTrainLoop starts its loader's workers when it is
    built, before before_train: they held the unwrapped loader and stopped
    with the bare ``failed to load image`` (the hook now restarts them)."""
    root, bad = folder_with_text_jpg
    # persistent workers: the harder case (the loader keeps its workers)
    result = train_iteration_based(
        iteration_based_config(tmp_path, persistent_workers=True),
        tmp_path / 'work', root)
    assert result.returncode != 0, result.stdout[-2000:]
    assert_names(result.stderr, 'UnreadableImagesError', bad,
                 'tools/analysis/check_data.py')


@pytest.mark.slow
def test_an_iteration_based_run_reads_as_without_the_hook(
        folder_with_text_jpg, tmp_path):
    """Restarting the workers after wrapping the loaders keeps the run as
    it was: the same images in the same order, the same random draws of
    the main process (MMEngine's InfiniteSampler shares one stream of
    indices between its iterators; once the first iterator was dropped,
    that stream was closed and the run stopped at its first step with
    StopIteration). The new workers' own random streams (augmentations)
    are drawn anew, so this compares runs whose pipeline draws nothing."""
    root, bad = folder_with_text_jpg
    os.remove(bad)
    # persistent workers: the loader keeps them unless they are replaced
    config = iteration_based_config(tmp_path, persistent_workers=True,
                                    random_pipeline=False)
    losses = {}
    for hooks in ('default', '[]'):
        options = () if hooks == 'default' else ('custom_hooks=[]', )
        work_dir = tmp_path / f'work-{hooks}'
        result = train_iteration_based(config, work_dir, root, *options)
        assert result.returncode == 0, result.stderr[-3000:]
        assert 'ImageReadErrorHook' in result.stdout or hooks == '[]'
        losses[hooks] = [row['loss'] for row in
                         logged_scalars(str(work_dir))[-1] if 'loss' in row]
    assert len(losses['default']) == 3
    assert losses['default'] == losses['[]']
