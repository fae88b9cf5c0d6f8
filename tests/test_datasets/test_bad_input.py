"""Rows of docs/bad_input.md that no other test file holds: what a data
folder with odd images and a config without ``custom_imports`` give (what
MMCV, MMPretrain and MMEngine themselves say about an unreadable image, an
empty data folder or an unregistered type is theirs, not tested here)."""

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import DATASETS
from PIL import Image

import mmropim  # noqa: F401
from helpers import ROPIM_TINY_CFG, assert_names, run_tool, run_tool_process


def folder_dataset(root):
    cfg = Config.fromfile(ROPIM_TINY_CFG)
    dataset = cfg.train_dataloader.dataset
    dataset.data_root = str(root)
    init_default_scope('mmpretrain')
    return DATASETS.build(dataset)


@pytest.fixture
def odd_images(tmp_path):
    folder = tmp_path / 'train' / 'odd'
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (80, 90), np.uint8)).save(
        folder / 'gray.png')
    Image.fromarray(rng.integers(0, 255, (80, 90, 4), np.uint8)).save(
        folder / 'rgba.png')
    Image.fromarray(rng.integers(0, 65535, (80, 90), np.uint16)).save(
        folder / 'deep16.png')
    return tmp_path


def test_gray_rgba_and_16_bit_images_load_as_8_bit_rgb(odd_images):
    dataset = folder_dataset(odd_images)
    assert len(dataset) == 3
    for index in range(3):
        inputs = dataset[index]['inputs']
        assert tuple(inputs.shape) == (3, 64, 64)
        assert str(inputs.dtype) == 'torch.uint8'


def without_custom_imports(tmp_path):
    path = tmp_path / 'no_imports.py'
    path.write_text(f'_base_ = [{ROPIM_TINY_CFG!r}]\n'
                    'custom_imports = dict(imports=[])\n')
    return str(path)


def test_config_without_custom_imports(tmp_path, demo_root):
    """Our tools import mmropim themselves."""
    path = without_custom_imports(tmp_path)
    assert Config.fromfile(path).custom_imports.imports == []
    run_tool('tools/train.py', path, '--work-dir', str(tmp_path / 'work'),
             '--cfg-options',
             f'train_dataloader.dataset.data_root={demo_root}',
             'train_dataloader.dataset.indices=32', 'train_cfg.max_epochs=1')


def test_missing_resume_checkpoint_is_named(tmp_path):
    missing = str(tmp_path / 'epoch_9.pth')
    result = run_tool_process('tools/train.py', ROPIM_TINY_CFG,
                              '--work-dir', str(tmp_path / 'work'),
                              '--resume', missing, timeout=300)
    assert result.returncode != 0
    assert_names(result.stderr, '--resume', missing)


def test_check_data_names_every_unreadable_image(odd_images, tmp_path):
    """``tools/train.py --check-data`` decodes the whole training set first
    and names every bad file, before any training step."""
    folder = odd_images / 'train' / 'odd'
    (folder / 'broken.jpg').write_bytes(b'\xff\xd8\xff\xe0 not a JPEG')
    (folder / 'empty.png').write_bytes(b'')
    work_dir = tmp_path / 'work'
    result = run_tool_process(
        'tools/train.py', ROPIM_TINY_CFG, '--check-data', '--work-dir',
        str(work_dir), '--cfg-options',
        f'train_dataloader.dataset.data_root={odd_images}', timeout=300)
    assert result.returncode != 0
    assert_names(result.stderr, 'UnreadableImagesError',
                 str(folder / 'broken.jpg'), str(folder / 'empty.png'))
    for good in ('gray.png', 'rgba.png', 'deep16.png'):  # only the bad ones
        assert str(folder / good) not in result.stderr
    assert not work_dir.exists() or not list(work_dir.glob('*.pth'))


def test_check_data_passes_a_readable_set(odd_images):
    from mmropim.datasets import check_run_images
    cfg = Config.fromfile(ROPIM_TINY_CFG)
    cfg.train_dataloader.dataset.data_root = str(odd_images)
    # a pre-training config: no val or test set to read
    assert check_run_images(cfg, workers=2) == {'train_dataloader': 3}
