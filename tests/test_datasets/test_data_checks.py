"""Data checked before a run: class folders that differ between splits,
and unreadable images behind ``--data-root`` / ``image_mean_std.py``."""
import os
import os.path as osp
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from mmropim.datasets import ClassFolderMismatchError, check_class_folders
from tools.analysis import image_mean_std
from helpers import REPO_ROOT, ROPIM_TINY_CFG

FINETUNE_CFG = osp.join(REPO_ROOT, 'configs', 'prmim', 'benchmarks',
                        'vit-mini-p8_1xb32-coslr-10e_demo-64px.py')


def run(*args):
    return subprocess.run([sys.executable, *map(str, args)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture
def val_missing_a_class(demo_root, tmp_path):
    """The demo set with the first class folder missing from ``val/``."""
    root = tmp_path / 'demo'
    root.mkdir()
    (root / 'train').symlink_to(osp.join(demo_root, 'train'))
    shutil.copytree(osp.join(demo_root, 'val'), root / 'val')
    first = sorted(os.listdir(root / 'val'))[0]
    shutil.rmtree(root / 'val' / first)
    return root, first


def test_train_refuses_a_val_split_missing_a_class_folder(
        val_missing_a_class, tmp_path):
    """Every validation label after the missing folder would be one less
    (MMPretrain numbers each split's sorted folders): the run is refused
    before it is built, naming the class."""
    root, missing = val_missing_a_class
    result = run('tools/train.py', FINETUNE_CFG, '--work-dir',
                 tmp_path / 'work', '--cfg-options',
                 'model.backbone.init_cfg=None',
                 'train_dataloader.dataset.indices=32',
                 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
                 *[f'{split}_dataloader.dataset.data_root={root}'
                   for split in ('train', 'val', 'test')])
    assert result.returncode != 0, result.stdout[-2000:]
    assert 'ClassFolderMismatchError: the class folders of val_dataloader ' \
        f'({root}/val) are not those of train_dataloader ({root}/train): ' \
        f"missing ['{missing}'], extra []" in result.stderr
    assert 'Epoch(train)' not in result.stdout + result.stderr


def test_class_list_must_name_the_folders_in_their_order(demo_root):
    train = dict(type='CustomDataset', data_root=demo_root,
                 data_prefix='train')
    folders = sorted(os.listdir(osp.join(demo_root, 'train')))
    check_class_folders(dict(train_dataloader=dict(
        dataset=dict(train, classes=folders))))
    with pytest.raises(ClassFolderMismatchError,
                       match=r"no folder for \['zebra'\], folders not in "
                       rf"classes: \['{folders[-1]}'\]"):
        check_class_folders(dict(train_dataloader=dict(
            dataset=dict(train, classes=folders[:-1] + ['zebra']))))
    with pytest.raises(ClassFolderMismatchError,
                       match='not in the sorted order'):
        check_class_folders(dict(train_dataloader=dict(
            dataset=dict(train, classes=folders[::-1]))))
    # annotation files and unlabelled pre-training sets are not folders
    check_class_folders(dict(
        train_dataloader=dict(dataset=dict(train, with_label=False)),
        val_dataloader=dict(dataset=dict(train, ann_file='meta/val.txt',
                                         data_prefix='val'))))


@pytest.fixture
def folder_with_bad_images(tmp_path):
    folder = tmp_path / 'images' / 'nested'
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in ('a.png', 'b.png'):
        Image.fromarray(rng.integers(0, 255, (72, 72, 3), np.uint8)).save(
            folder / name)
    (folder / 'broken.jpg').write_bytes(b'\xff\xd8\xff\xe0 not a JPEG')
    (folder / 'empty.png').write_bytes(b'')
    return tmp_path / 'images'


def test_check_data_reads_the_images_of_data_root(folder_with_bad_images,
                                                  tmp_path):
    """--data-root reads with LoadImageWithPillow; --check-data used to look
    for LoadImageFromFile only, check nothing and let training die on the
    first bad file."""
    result = run('tools/train.py', ROPIM_TINY_CFG, '--data-root',
                 folder_with_bad_images, '--check-data', '--work-dir',
                 tmp_path / 'work', '--cfg-options', 'train_cfg.max_epochs=1')
    assert result.returncode != 0, result.stdout[-2000:]
    assert 'UnreadableImagesError: 2 of the 4 training images cannot be ' \
        'read' in result.stderr
    folder = folder_with_bad_images / 'nested'
    assert f'{folder / "broken.jpg"}: OSError: cannot decode' in result.stderr
    assert f'{folder / "empty.png"}: OSError: cannot decode' in result.stderr
    assert 'Epoch(train)' not in result.stdout + result.stderr


def test_image_mean_std_names_every_unreadable_file(folder_with_bad_images,
                                                    capsys):
    with pytest.raises(SystemExit) as stop:
        image_mean_std.main([str(folder_with_bad_images)])
    message = str(stop.value.code)
    folder = folder_with_bad_images / 'nested'
    assert message.startswith('2 of the 4 images cannot be decoded and are '
                              'left out of the figures:')
    assert f'{folder / "broken.jpg"}: OSError: cannot decode' in message
    assert f'{folder / "empty.png"}: OSError: cannot decode' in message
    assert '--skip-unreadable' in message
    printed = capsys.readouterr().out
    assert printed.startswith('2 images, 10368 pixels')  # the figures
    mean, std = image_mean_std.main([str(folder_with_bad_images),
                                     '--skip-unreadable'])
    good = np.concatenate([
        np.asarray(Image.open(folder / name)).reshape(-1, 3)
        for name in ('a.png', 'b.png')
    ]).astype(np.float64)
    np.testing.assert_allclose(mean, good.mean(axis=0))
    np.testing.assert_allclose(std, good.std(axis=0))
    assert 'warning: 2 of the 4 images cannot be decoded' in \
        capsys.readouterr().err


def test_check_data_refuses_a_pipeline_without_an_image_loader(demo_root):
    """Checking nothing is not a pass."""
    from mmengine.config import Config

    from tools.analysis.check_data import (NoImageLoaderError,
                                           check_training_images)
    cfg = Config.fromfile(ROPIM_TINY_CFG)
    dataset = cfg.train_dataloader.dataset
    dataset.data_root = demo_root
    dataset.pipeline = [t for t in dataset.pipeline
                        if t['type'] != 'LoadImageFromFile']
    with pytest.raises(NoImageLoaderError,
                       match=r'no LoadImageFromFile \(or subclass\) nor '
                       r"LoadImageWithPillow, got \['RandomResizedCrop'"):
        check_training_images(cfg, workers=1)
