"""Rows of docs/bad_input.md that no other test file holds: what a data
folder with odd images, an empty data folder and a config without
``custom_imports`` give."""
import subprocess
import sys

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import DATASETS
from PIL import Image

import mmropim  # noqa: F401
from helpers import REPO_ROOT, ROPIM_TINY_CFG, run_tool


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


def test_unreadable_image_names_the_file(odd_images):
    broken = odd_images / 'train' / 'odd' / 'broken.jpg'
    broken.write_bytes(b'\xff\xd8\xff\xe0 not a JPEG')
    dataset = folder_dataset(odd_images)
    index, = [i for i in range(len(dataset))
              if dataset.get_data_info(i)['img_path'] == str(broken)]
    with pytest.raises(AssertionError, match=f'failed to load image: '
                       f'{broken}'):
        dataset[index]


def test_empty_data_folder_names_the_folder_and_extensions(tmp_path):
    (tmp_path / 'train').mkdir()
    with pytest.raises(RuntimeError, match=r'Found 0 files in subfolders '
                       r'of.*train.*Supported extensions are: .*\.jpg'):
        folder_dataset(tmp_path)


def without_custom_imports(tmp_path):
    path = tmp_path / 'no_imports.py'
    path.write_text(f'_base_ = [{ROPIM_TINY_CFG!r}]\n'
                    'custom_imports = dict(imports=[])\n')
    return str(path)


def test_config_without_custom_imports(tmp_path, demo_root):
    """Our tools import mmropim themselves; MMEngine alone names the type
    its registry lacks."""
    path = without_custom_imports(tmp_path)
    assert Config.fromfile(path).custom_imports.imports == []
    run_tool('tools/train.py', path, '--work-dir', str(tmp_path / 'work'),
             '--cfg-options',
             f'train_dataloader.dataset.data_root={demo_root}',
             'train_dataloader.dataset.indices=32', 'train_cfg.max_epochs=1')
    code = ('from mmengine.config import Config\n'
            'from mmengine.registry import init_default_scope\n'
            'from mmpretrain.registry import MODELS\n'
            'init_default_scope("mmpretrain")\n'
            f'MODELS.build(Config.fromfile({path!r}).model)\n')
    result = subprocess.run([sys.executable, '-c', code], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert 'ROPIM is not in the mmpretrain::model registry' in result.stderr


def test_missing_resume_checkpoint_is_named(tmp_path):
    missing = str(tmp_path / 'epoch_9.pth')
    result = subprocess.run(
        [sys.executable, 'tools/train.py', ROPIM_TINY_CFG, '--work-dir',
         str(tmp_path / 'work'), '--resume', missing], cwd=REPO_ROOT,
        capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert f'--resume checkpoint {missing} does not exist' in result.stderr


def test_check_data_names_every_unreadable_image(odd_images, tmp_path):
    """``tools/train.py --check-data`` decodes the whole training set first
    and names every bad file, before any training step."""
    folder = odd_images / 'train' / 'odd'
    (folder / 'broken.jpg').write_bytes(b'\xff\xd8\xff\xe0 not a JPEG')
    (folder / 'empty.png').write_bytes(b'')
    work_dir = tmp_path / 'work'
    result = subprocess.run(
        [sys.executable, 'tools/train.py', ROPIM_TINY_CFG, '--check-data',
         '--work-dir', str(work_dir), '--cfg-options',
         f'train_dataloader.dataset.data_root={odd_images}'],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert 'UnreadableImagesError: 2 of the 5 training images cannot be ' \
        'read' in result.stderr
    assert f'{folder / "broken.jpg"}: not an image' in result.stderr
    assert f'{folder / "empty.png"}: ' in result.stderr
    assert not work_dir.exists() or not list(work_dir.glob('*.pth'))


def test_check_data_passes_a_readable_set(odd_images):
    from tools.analysis.check_data import check_training_images
    cfg = Config.fromfile(ROPIM_TINY_CFG)
    cfg.train_dataloader.dataset.data_root = str(odd_images)
    assert check_training_images(cfg, workers=2) == 3
