"""Data checked before a run: class folders that differ between splits,
and unreadable images behind ``--data-root`` / ``image_mean_std.py``."""
import os
import os.path as osp
import shutil

import numpy as np
import pytest
from PIL import Image

from mmropim.datasets import ClassFolderMismatchError, check_class_folders
from tools.analysis.image_mean_std import main as image_mean_std
from helpers import (REPO_ROOT, ROPIM_TINY_CFG, assert_names, raises_naming,
                     run_tool_process)

FINETUNE_CFG = osp.join(REPO_ROOT, 'configs', 'prmim', 'benchmarks',
                        'vit-mini-p8_1xb32-coslr-10e_demo-64px.py')


def run(*args):
    return run_tool_process(*args)


def demo_with_own_val(demo_root, tmp_path):
    """A copy of the demo set whose ``val/`` can be changed (``train/`` is
    linked); returns its root and the first class of ``val/``."""
    root = tmp_path / 'demo'
    root.mkdir()
    (root / 'train').symlink_to(osp.join(demo_root, 'train'))
    shutil.copytree(osp.join(demo_root, 'val'), root / 'val')
    return root, sorted(os.listdir(root / 'val'))[0]


@pytest.fixture
def val_missing_a_class(demo_root, tmp_path):
    """The demo set with the first class folder missing from ``val/``."""
    root, first = demo_with_own_val(demo_root, tmp_path)
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
    assert_names(result.stderr, 'ClassFolderMismatchError', 'val_dataloader',
                 f'{root}/val', f'{root}/train', repr(missing))
    assert 'Epoch(train)' not in result.stdout + result.stderr


def test_train_checks_only_the_splits_it_reads(val_missing_a_class,
                                               demo_root, tmp_path):
    """tools/train.py reads the train split, and val unless
    --no-validate; a test split of other classes (the config's default
    data, say, while training on one's own) is tools/test.py's to check
    against the checkpoint, not a reason to refuse the training."""
    other, _ = val_missing_a_class
    result = run('tools/train.py', FINETUNE_CFG, '--work-dir',
                 tmp_path / 'work', '--no-validate', '--cfg-options',
                 'model.backbone.init_cfg=None',
                 'train_dataloader.dataset.indices=32',
                 'train_cfg.max_epochs=1',
                 f'train_dataloader.dataset.data_root={demo_root}',
                 f'test_dataloader.dataset.data_root={other}')
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / 'work' / 'epoch_1.pth').is_file()


def test_class_list_must_name_the_folders_in_their_order(demo_root):
    train = dict(type='CustomDataset', data_root=demo_root,
                 data_prefix='train')
    folders = sorted(os.listdir(osp.join(demo_root, 'train')))
    check_class_folders(dict(train_dataloader=dict(
        dataset=dict(train, classes=folders))))
    with raises_naming(ClassFolderMismatchError,
                       'train_dataloader.dataset.classes', "'zebra'",
                       repr(folders[-1])):
        check_class_folders(dict(train_dataloader=dict(
            dataset=dict(train, classes=folders[:-1] + ['zebra']))))
    with raises_naming(ClassFolderMismatchError,
                       'train_dataloader.dataset.classes', 'sort'):
        check_class_folders(dict(train_dataloader=dict(
            dataset=dict(train, classes=folders[::-1]))))
    # annotation files and unlabelled pre-training sets are not folders
    check_class_folders(dict(
        train_dataloader=dict(dataset=dict(train, with_label=False)),
        val_dataloader=dict(dataset=dict(train, ann_file='meta/val.txt',
                                         data_prefix='val'))))


@pytest.fixture
def folder_subclass():
    """A ``CustomDataset`` subclass registered under another name."""
    from mmpretrain.datasets import CustomDataset
    from mmpretrain.registry import DATASETS

    class PlantFolders(CustomDataset):
        pass

    DATASETS.register_module(name='PlantFolders', module=PlantFolders)
    yield 'PlantFolders'
    DATASETS._module_dict.pop('PlantFolders')


@pytest.mark.parametrize('wrapping', [
    'subclass', 'ConcatDataset', 'RepeatDataset', 'ClassBalancedDataset'])
def test_val_missing_a_class_is_refused_however_the_dataset_is_given(
        val_missing_a_class, folder_subclass, wrapping):
    """A subclass of CustomDataset (known by the registry's class, not its
    name) and the dataset wrappers number the folders the same way: every
    validation label after the missing class would shift."""
    root, missing = val_missing_a_class
    train = dict(type='CustomDataset', data_root=str(root),
                 data_prefix='train')
    val = dict(train, data_prefix='val')
    if wrapping == 'subclass':
        val['type'] = folder_subclass
    elif wrapping == 'ConcatDataset':
        val = dict(type=wrapping, datasets=[dict(train), val])
    else:
        val = dict(type=wrapping, dataset=val, times=2, oversample_thr=0.1)
    with raises_naming(ClassFolderMismatchError, 'val_dataloader',
                       f'{root}/val', f"missing ['{missing}']"):
        check_class_folders(dict(
            default_scope='mmpretrain', train_dataloader=dict(dataset=train),
            val_dataloader=dict(dataset=val)))


def folder_split(root, split='val', **dataset):
    """A ``val_dataloader`` / ``test_dataloader`` of a folder of ROOT."""
    return dict(dataset=dict(dict(type='CustomDataset', data_root=str(root),
                                  data_prefix=split), **dataset))


def test_test_splits_are_checked_against_the_trained_classes(
        val_missing_a_class, demo_root, folder_subclass):
    """Without a train folder nothing was compared: the classes the
    checkpoint was trained on (``meta['dataset_meta']``, as MMEngine's
    Runner writes it) or else the head's ``num_classes`` are the
    reference."""
    from mmpretrain.datasets import CustomDataset, ImageNet
    from mmpretrain.registry import DATASETS

    from mmropim.datasets import check_class_folders_fit_model
    root, missing = val_missing_a_class
    trained = sorted(os.listdir(osp.join(demo_root, 'val')))
    meta = dict(dataset_meta=dict(classes=tuple(trained)))
    whole = dict(test_dataloader=folder_split(demo_root))
    check_class_folders_fit_model(whole, meta, 'run/epoch_1.pth')
    lacking = dict(val_dataloader=folder_split(root), **whole)
    with raises_naming(ClassFolderMismatchError, 'val_dataloader.dataset',
                       f'{root}/val', f"missing ['{missing}']",
                       'run/epoch_1.pth', 'empty folder'):
        check_class_folders_fit_model(lacking, meta, 'run/epoch_1.pth')
    # the labels of the checkpoint numbered in another order
    with raises_naming(ClassFolderMismatchError, 'test_dataloader.dataset',
                       'order', 'c.pth'):
        check_class_folders_fit_model(
            whole, dict(dataset_meta=dict(classes=trained[::-1])), 'c.pth')
    # a checkpoint without class names: the count against the head's
    for no_names in ({}, dict(dataset_meta=dict()), None):
        check_class_folders_fit_model(whole, no_names, 'c.pth',
                                      num_classes=len(trained))
        check_class_folders_fit_model(lacking, no_names, 'c.pth')
        with raises_naming(ClassFolderMismatchError, 'val_dataloader',
                           f'{root}/val', f'{len(trained) - 1} class folders',
                           f'num_classes={len(trained)}', 'empty folder'):
            check_class_folders_fit_model(lacking, no_names, 'c.pth',
                                          num_classes=len(trained))
    # names a dataset class gives its labels (ImageNet's) are not folder
    # names: their count is compared
    DATASETS.get(folder_subclass).METAINFO = dict(
        classes=tuple(name.upper() for name in trained))
    try:
        named = dict(test_dataloader=folder_split(
            demo_root, type=folder_subclass))
        check_class_folders_fit_model(
            named, dict(dataset_meta=dict(classes=tuple(
                name.upper() for name in trained))), 'c.pth')
    finally:
        DATASETS.get(folder_subclass).METAINFO = CustomDataset.METAINFO
    with raises_naming(ClassFolderMismatchError, 'test_dataloader',
                       f'{len(trained)} class folders', '1000 classes',
                       'c.pth'):
        check_class_folders_fit_model(
            dict(test_dataloader=folder_split(demo_root, type='ImageNet')),
            dict(dataset_meta=ImageNet.METAINFO), 'c.pth')


@pytest.fixture(scope='module')
def finetuned_checkpoint(demo_root, tmp_path_factory):
    """An untrained classifier of FINETUNE_CFG saved as a fine-tuning run
    saves it: with the classes of its training set in
    ``meta['dataset_meta']`` (MMEngine's ``Runner.save_checkpoint``)."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(FINETUNE_CFG)
    cfg.model.backbone.init_cfg = None
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    classes = tuple(sorted(os.listdir(osp.join(demo_root, 'train'))))
    path = tmp_path_factory.mktemp('finetuned') / 'epoch_1.pth'
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict(),
                    meta=dict(dataset_meta=dict(classes=classes))), path)
    return str(path)


@pytest.mark.parametrize('val', ['missing_a_class', 'whole'])
def test_test_tool_checks_the_folders_against_the_checkpoint_classes(
        demo_root, tmp_path, finetuned_checkpoint, val):
    """Testing with val/test images only (no train folder): a class folder
    missing from val/ shifted every later label and tools/test.py reported
    a wrong accuracy with exit status 0."""
    root, first = demo_with_own_val(demo_root, tmp_path)
    (root / 'train').unlink()
    if val == 'missing_a_class':
        shutil.rmtree(root / 'val' / first)
    out = tmp_path / 'metrics.json'
    result = run('tools/test.py', FINETUNE_CFG, finetuned_checkpoint,
                 '--work-dir', tmp_path / 'work', '--out', out,
                 '--cfg-options',
                 *[f'{split}_dataloader.dataset.data_root={root}'
                   for split in ('train', 'val', 'test')])
    if val == 'whole':
        assert result.returncode == 0, result.stderr[-3000:]
        assert out.exists()
        return
    assert result.returncode != 0, result.stdout[-2000:]
    assert_names(result.stderr, 'ClassFolderMismatchError', 'test_dataloader',
                 f'{root}/val', f"missing ['{first}']", finetuned_checkpoint)
    assert not out.exists()


@pytest.mark.parametrize('given', ['classes', 'metainfo', 'file'])
def test_classes_out_of_folder_order_are_refused_however_given(
        demo_root, tmp_path, given):
    """``classes`` as a list, ``metainfo=dict(classes=...)`` or a file of
    names: the names would not be those of the labels."""
    folders = sorted(os.listdir(osp.join(demo_root, 'train')))

    def dataset(names):
        if given == 'file':
            path = tmp_path / 'classes.txt'
            path.write_text('\n'.join(names))
            names = dict(classes=str(path))
        elif given == 'metainfo':
            names = dict(metainfo=dict(classes=names))
        else:
            names = dict(classes=names)
        return dict(train_dataloader=dict(dataset=dict(
            type='CustomDataset', data_root=demo_root, data_prefix='train',
            **names)))

    check_class_folders(dataset(folders))
    with raises_naming(ClassFolderMismatchError, 'not in the sorted order',
                       repr(folders)):
        check_class_folders(dataset(folders[::-1]))


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
    folder = folder_with_bad_images / 'nested'
    # LoadImageWithPillow's error for each bad file, the good ones unnamed
    assert_names(result.stderr, 'UnreadableImagesError',
                 f'{folder / "broken.jpg"}: OSError',
                 f'{folder / "empty.png"}: OSError')
    for good in ('a.png', 'b.png'):
        assert str(folder / good) not in result.stderr
    assert 'Epoch(train)' not in result.stdout + result.stderr


def test_image_mean_std_names_every_unreadable_file(folder_with_bad_images,
                                                    capsys):
    with pytest.raises(SystemExit) as stop:
        image_mean_std([str(folder_with_bad_images)])
    message = str(stop.value.code)
    folder = folder_with_bad_images / 'nested'
    assert_names(message, f'{folder / "broken.jpg"}: OSError',
                 f'{folder / "empty.png"}: OSError', '--skip-unreadable')
    for good in ('a.png', 'b.png'):
        assert str(folder / good) not in message
    printed = capsys.readouterr().out
    assert '10368' in printed  # the figures: the pixels of a.png and b.png
    mean, std = image_mean_std([str(folder_with_bad_images),
                                '--skip-unreadable'])
    good = np.concatenate([
        np.asarray(Image.open(folder / name)).reshape(-1, 3)
        for name in ('a.png', 'b.png')
    ]).astype(np.float64)
    np.testing.assert_allclose(mean, good.mean(axis=0))
    np.testing.assert_allclose(std, good.std(axis=0))
    assert_names(capsys.readouterr().err, str(folder / 'broken.jpg'),
                 str(folder / 'empty.png'))


def test_check_data_refuses_a_pipeline_without_an_image_loader(demo_root):
    """Checking nothing is not a pass."""
    from mmengine.config import Config

    from mmropim.datasets import NoImageLoaderError, check_run_images
    cfg = Config.fromfile(ROPIM_TINY_CFG)
    dataset = cfg.train_dataloader.dataset
    dataset.data_root = demo_root
    dataset.pipeline = [t for t in dataset.pipeline
                        if t['type'] != 'LoadImageFromFile']
    # the data loader, the loaders it looks for and the transforms it found
    with raises_naming(NoImageLoaderError, 'train_dataloader',
                       'LoadImageFromFile', 'LoadImageWithPillow',
                       'RandomResizedCrop'):
        check_run_images(cfg, workers=1)


@pytest.fixture
def bad_image_in_val(demo_root, tmp_path):
    """The demo set with an unreadable image in one class of ``val/``."""
    root, first = demo_with_own_val(demo_root, tmp_path)
    bad = root / 'val' / first / 'zz_broken.jpg'
    bad.write_bytes(b'\xff\xd8\xff\xe0 not a JPEG')
    return root, bad


def test_train_check_data_reads_the_validation_images_too(
        bad_image_in_val, tmp_path):
    """--check-data used to read the training images only: the run passed
    the check and died at its first validation."""
    root, bad = bad_image_in_val
    result = run('tools/train.py', FINETUNE_CFG, '--check-data', '--work-dir',
                 tmp_path / 'work', '--cfg-options',
                 'model.backbone.init_cfg=None',
                 'train_dataloader.dataset.indices=32',
                 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
                 *[f'{split}_dataloader.dataset.data_root={root}'
                   for split in ('train', 'val', 'test')])
    assert result.returncode != 0, result.stdout[-2000:]
    assert_names(result.stderr, 'UnreadableImagesError', 'val_dataloader',
                 f'{bad}: ')
    assert 'Epoch(train)' not in result.stdout + result.stderr


def test_check_data_reads_every_split_and_names_it(demo_root, tmp_path):
    """``check_data.py`` reads train, val and test (what ``tools/test.py``
    reads), naming the split of each bad file; a split configured as
    another is read once."""
    test_root = tmp_path / 'test_set'
    folder = test_root / 'val' / 'cat'
    folder.mkdir(parents=True)
    Image.new('RGB', (72, 72), (9, 9, 9)).save(folder / 'good.png')
    (folder / 'empty.png').write_bytes(b'')
    options = ['--cfg-options',
               f'train_dataloader.dataset.data_root={demo_root}',
               f'val_dataloader.dataset.data_root={demo_root}']
    result = run('tools/analysis/check_data.py', FINETUNE_CFG, '--workers',
                 2, *options, f'test_dataloader.dataset.data_root={test_root}')
    assert result.returncode != 0, result.stdout[-2000:]
    assert_names(result.stderr, 'UnreadableImagesError',
                 'test_dataloader: 1 of the 2 images',
                 f'{folder / "empty.png"}: ')
    assert str(folder / 'good.png') not in result.stderr
    assert 'train_dataloader' not in result.stderr  # readable splits
    result = run('tools/analysis/check_data.py', FINETUNE_CFG, '--workers',
                 2, *options, f'test_dataloader.dataset.data_root={demo_root}')
    assert result.returncode == 0, result.stderr[-2000:]
    assert_names(result.stdout, 'train_dataloader: all', 'val_dataloader: all',
                 'test_dataloader: the dataset of val_dataloader')


def test_check_data_names_every_unreadable_image_however_many(tmp_path):
    """Only the first 20 were named, then a count."""
    folder = tmp_path / 'train' / 'odd'
    folder.mkdir(parents=True)
    Image.new('RGB', (72, 72), (9, 9, 9)).save(folder / 'good.png')
    bad = [folder / f'broken_{index:02d}.jpg' for index in range(45)]
    for path in bad:
        path.write_bytes(b'\xff\xd8\xff\xe0 not a JPEG')
    result = run('tools/analysis/check_data.py', ROPIM_TINY_CFG, '--workers',
                 2, '--cfg-options',
                 f'train_dataloader.dataset.data_root={tmp_path}')
    assert result.returncode != 0, result.stdout[-2000:]
    assert_names(result.stderr, 'train_dataloader: 45 of the 46 images',
                 *[f'  {path}: ' for path in bad])  # one line each
    assert 'more' not in result.stderr and 'good.png' not in result.stderr


def test_more_class_folders_than_the_head_has_classes_are_refused(
        demo_root, tmp_path):
    """A head with fewer classes than the training folders (a typo in
    num_classes, or a stray empty folder) stopped deep in MMPretrain's loss
    (``Class Index must be less than number of classes``) or, with the
    extra folder sorted last and empty, trained silently."""
    folders = sorted(os.listdir(osp.join(demo_root, 'train')))
    train = dict(type='CustomDataset', data_root=str(demo_root),
                 data_prefix='train')
    cfg = dict(model=dict(type='ImageClassifier',
                          head=dict(type='LinearClsHead',
                                    num_classes=len(folders))),
               train_dataloader=dict(dataset=train))
    check_class_folders(cfg)
    cfg['model']['head']['num_classes'] = len(folders) - 4
    with raises_naming(ClassFolderMismatchError, 'train_dataloader.dataset',
                       f'{len(folders)} class folders',
                       f'model.head.num_classes={len(folders) - 4}'):
        check_class_folders(cfg)
    root = tmp_path / 'data'
    shutil.copytree(demo_root, root)
    os.makedirs(root / 'train' / 'zz_empty')
    cfg['model']['head']['num_classes'] = len(folders)
    with raises_naming(ClassFolderMismatchError, "'zz_empty'",
                       f'{len(folders) + 1} class folders'):
        check_class_folders(dict(cfg, train_dataloader=dict(
            dataset=dict(train, data_root=str(root)))))


def test_a_data_folder_that_does_not_exist_is_named_by_its_key(
        demo_root, tmp_path):
    """Before: a FileNotFoundError from MMEngine's file backend (or from
    listing the class folders), naming the path but not the config key,
    after the work dir was written."""
    from mmropim.datasets import check_data_roots
    train = dict(type='CustomDataset', data_root=str(demo_root),
                 data_prefix='train')
    cfg = dict(train_dataloader=dict(dataset=dict(
        type='RepeatDataset', times=2, dataset=train)),
        val_dataloader=dict(dataset=dict(train, data_prefix='val')),
        test_dataloader=dict(dataset=dict(train, data_root=str(
            tmp_path / 'nope'))))
    check_data_roots(cfg, ('train_dataloader', 'val_dataloader'))
    with raises_naming(FileNotFoundError,
                       'test_dataloader.dataset.data_root',
                       repr(str(tmp_path / 'nope'))):
        check_data_roots(cfg, ('test_dataloader', ))
    cfg['val_dataloader']['dataset']['data_prefix'] = dict(img_path='vall')
    with raises_naming(FileNotFoundError,
                       'val_dataloader.dataset.data_prefix.img_path',
                       repr('vall'), str(demo_root)):
        check_data_roots(cfg, ('train_dataloader', 'val_dataloader'))
    cfg['train_dataloader']['dataset']['dataset']['data_root'] = \
        's3://bucket/data'  # remote: not checked
    check_data_roots(cfg, ('train_dataloader', ))


def test_train_names_a_missing_data_root_before_writing(tmp_path):
    missing = tmp_path / 'nope'
    result = run('tools/train.py', FINETUNE_CFG, '--work-dir',
                 tmp_path / 'work', '--cfg-options',
                 f'train_dataloader.dataset.data_root={missing}')
    assert result.returncode != 0, result.stdout[-2000:]
    assert_names(result.stderr, 'FileNotFoundError',
                 'train_dataloader.dataset.data_root', repr(str(missing)))
    assert not (tmp_path / 'work').exists()


def test_data_roots_that_the_dataset_or_backend_provides_pass(tmp_path):
    """A dataset that downloads into its data_root (MMPretrain's CIFAR10 /
    MNIST, download=True by default) and a data_root read through
    backend_args (a path mapping to remote storage) are not refused."""
    from mmropim.datasets import check_data_roots
    missing = str(tmp_path / 'nope')
    check_data_roots(dict(train_dataloader=dict(dataset=dict(
        type='CIFAR10', data_root=missing))))
    with raises_naming(FileNotFoundError, repr(missing)):
        check_data_roots(dict(train_dataloader=dict(dataset=dict(
            type='CIFAR10', data_root=missing, download=False))))
    check_data_roots(dict(train_dataloader=dict(dataset=dict(
        type='CustomDataset', data_root=missing, backend_args=dict(
            backend='petrel', path_mapping={missing: 's3://bucket/'})))))
