"""Session fixtures: the demo data sets and two tiny real pre-training runs
(shared helpers live in helpers.py)."""
import os
import os.path as osp
import shutil

import pytest

from helpers import PRMIM_TINY_CFG, REPO_ROOT, ROPIM_TINY_CFG, run_tool


@pytest.fixture(scope='session')
def repo_root():
    return REPO_ROOT


@pytest.fixture(scope='session')
def demo_sets(tmp_path_factory):
    """The ImageNet-, ADE20K- and COCO-style demo sets under one root, as
    ``make_demo_data.py`` writes them, once per test session."""
    from mmropim.datasets.demo import (write_ade20k_style, write_coco_style,
                                       write_imagenet_style)
    root = str(tmp_path_factory.mktemp('demo'))
    write_imagenet_style(osp.join(root, 'imagenet'))
    write_ade20k_style(osp.join(root, 'ade20k'))
    write_coco_style(osp.join(root, 'coco'))
    return root


@pytest.fixture(scope='session')
def demo_root(demo_sets):
    """The ImageNet-style demo image set."""
    return osp.join(demo_sets, 'imagenet') + '/'


@pytest.fixture(scope='session')
def small_demo_root(demo_root, tmp_path_factory):
    """The demo image set cut to 4 training and 2 held-out images per class
    (56 / 28), for the end-to-end runs of the comparison scripts, whose
    many short trainings are what they test, not their accuracy."""
    root = tmp_path_factory.mktemp('small_demo')
    for split, count in (('train', 4), ('val', 2)):
        for folder in sorted(os.listdir(osp.join(demo_root, split))):
            os.makedirs(root / split / folder)
            for name in sorted(os.listdir(osp.join(demo_root, split,
                                                   folder)))[:count]:
                shutil.copy(osp.join(demo_root, split, folder, name),
                            root / split / folder / name)
    return str(root) + '/'


@pytest.fixture(scope='session')
def pretrain_run(demo_root, tmp_path_factory):
    """Tiny ROPIM pre-training through tools/train.py: 4 epochs, then
    --resume to 6 epochs in the same work dir."""
    work_dir = str(tmp_path_factory.mktemp('ropim_work'))
    data_option = f'train_dataloader.dataset.data_root={demo_root}'
    first = run_tool('tools/train.py', ROPIM_TINY_CFG, '--work-dir', work_dir,
                     '--cfg-options', data_option, 'train_cfg.max_epochs=4',
                     'default_hooks.checkpoint.interval=2')
    second = run_tool('tools/train.py', ROPIM_TINY_CFG, '--work-dir',
                      work_dir, '--resume', '--cfg-options', data_option,
                      'train_cfg.max_epochs=6',
                      'default_hooks.checkpoint.interval=2')
    return dict(work_dir=work_dir, first_log=first, second_log=second,
                checkpoint=osp.join(work_dir, 'epoch_6.pth'))


@pytest.fixture(scope='session')
def prmim_run(demo_root, tmp_path_factory):
    """Tiny MAE + PR-MIM pre-training through tools/train.py, 3 epochs."""
    work_dir = str(tmp_path_factory.mktemp('prmim_work'))
    run_tool('tools/train.py', PRMIM_TINY_CFG, '--work-dir', work_dir,
             '--cfg-options',
             f'train_dataloader.dataset.data_root={demo_root}',
             'train_cfg.max_epochs=3')
    return dict(work_dir=work_dir,
                checkpoint=osp.join(work_dir, 'epoch_3.pth'))
