"""Pre-training on a folder of the user's own mixed images: nested folders,
several formats and modes (grayscale, RGBA, palette, 16-bit), through
``tools/train.py --data-root``, read as 3 channels or kept as 1 / 4 as the
backbone's ``in_channels`` says; and the folder's mean/std tool."""
import copy

import numpy as np
import pytest
from PIL import Image

from mmropim.datasets import (LoadImageWithPillow, image_files, to_8bit_array,
                              to_8bit_rgb)
from tools.analysis.image_mean_std import main as image_mean_std
from helpers import (PRMIM_TINY_CFG, ROPIM_TINY_CFG, logged_scalars,
                     raises_naming, run_tool)


@pytest.fixture(scope='module')
def mixed_folder(tmp_path_factory):
    """Real photos from scikit-image's wheel, written in the modes and
    formats users' folders hold, two levels deep."""
    from skimage import data
    root = tmp_path_factory.mktemp('own_images')
    (root / 'a' / 'b').mkdir(parents=True)
    (root / 'c').mkdir()
    astronaut = Image.fromarray(data.astronaut()).resize((96, 96))
    camera = Image.fromarray(data.camera()).resize((80, 80))
    coffee = Image.fromarray(data.coffee()).resize((100, 72))
    astronaut.save(root / 'astronaut.jpg')
    camera.save(root / 'a' / 'camera_gray.png')  # mode L
    rgba = coffee.convert('RGBA')
    rgba.putalpha(128)
    rgba.save(root / 'a' / 'b' / 'coffee_rgba.png')
    astronaut.convert('P', palette=Image.ADAPTIVE).save(root / 'c' / 'p.gif')
    deep = (np.asarray(camera, np.uint16) * 257)  # full 16-bit range
    Image.fromarray(deep).save(root / 'c' / 'camera_16bit.tif')
    coffee.save(root / 'c' / 'coffee.bmp')
    (root / 'c' / 'notes.txt').write_text('not an image')
    (root / 'c' / 'clip.mpg').write_bytes(b'\x00\x00\x01\xba')  # a video
    return root


def test_conversions_keep_the_values(mixed_folder):
    with Image.open(mixed_folder / 'c' / 'camera_16bit.tif') as image:
        assert image.mode.startswith('I;16')
        deep = to_8bit_rgb(image)
    with Image.open(mixed_folder / 'a' / 'camera_gray.png') as image:
        gray = to_8bit_rgb(image)
    # 16-bit scaled back to the 8-bit values, not clipped to white
    np.testing.assert_array_equal(deep, gray)
    assert gray.shape[-1] == 3 and (gray[..., 0] == gray[..., 2]).all()
    with Image.open(mixed_folder / 'a' / 'b' / 'coffee_rgba.png') as image:
        rgba = to_8bit_rgb(image)
    with Image.open(mixed_folder / 'c' / 'coffee.bmp') as image:
        np.testing.assert_array_equal(rgba, to_8bit_rgb(image))  # alpha off
    results = LoadImageWithPillow()(
        dict(img_path=str(mixed_folder / 'c' / 'coffee.bmp')))
    np.testing.assert_array_equal(results['img'], rgba[..., ::-1])  # BGR
    assert results['img_shape'] == (72, 100)


def test_channels_kept_as_asked(mixed_folder):
    with Image.open(mixed_folder / 'a' / 'b' / 'coffee_rgba.png') as image:
        rgba = to_8bit_array(image, 4)
        gray = to_8bit_array(image, 1)
        luma = np.asarray(image.convert('RGB').convert('L'))
    assert rgba.shape[-1] == 4 and (rgba[..., 3] == 128).all()  # alpha kept
    np.testing.assert_array_equal(gray[..., 0], luma)
    with Image.open(mixed_folder / 'astronaut.jpg') as image:
        opaque = to_8bit_array(image, 4)
    assert (opaque[..., 3] == 255).all()
    path = str(mixed_folder / 'a' / 'b' / 'coffee_rgba.png')
    assert LoadImageWithPillow(channels=1)(dict(img_path=path))['img'] \
        .shape == (72, 100)  # 2-D, as LoadImageFromFile's grayscale
    np.testing.assert_array_equal(
        LoadImageWithPillow(channels=4)(dict(img_path=path))['img'], rgba)
    with raises_naming(ValueError, 'channels', '1', '3', '4', '2'):
        LoadImageWithPillow(channels=2)


def test_high_bit_range_scales_12_bit_data(tmp_path):
    from skimage import data
    camera = data.camera()
    twelve = camera.astype(np.uint16) * 16  # 12-bit values in a 16-bit file
    Image.fromarray(twelve).save(tmp_path / 'sensor.tif')
    with Image.open(tmp_path / 'sensor.tif') as image:
        full = to_8bit_array(image, 1)  # 0..65535: dark
        bits = to_8bit_array(image, 1, high_bit_range=12)
        stretched = to_8bit_array(image, 1, high_bit_range='image')
    assert full.max() <= 16
    np.testing.assert_allclose(
        bits[..., 0], camera * 255.0 * 16 / 4095, atol=0.51)  # 0..4095
    assert stretched.min() == 0 and stretched.max() == 255
    with raises_naming(ValueError, 'high_bit_range', "'full'", "'image'",
                       '1..32', '40'):
        LoadImageWithPillow(high_bit_range=40)


def test_photo_is_turned_upright_by_its_exif_orientation(tmp_path):
    photo = Image.fromarray(
        np.arange(40 * 60 * 3, dtype=np.uint8).reshape(40, 60, 3))
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: rotate 90 degrees to view
    photo.save(tmp_path / 'turned.jpg', exif=exif)
    results = LoadImageWithPillow()(
        dict(img_path=str(tmp_path / 'turned.jpg')))
    assert results['img'].shape == (60, 40, 3)


def test_unreadable_image_is_named(tmp_path):
    bad = tmp_path / 'broken.png'
    bad.write_bytes(b'\x89PNG not really')
    with pytest.raises(OSError, match='broken.png'):
        LoadImageWithPillow()(dict(img_path=str(bad)))


def test_mean_std_tool_matches_all_pixels(mixed_folder, capsys):
    mean, std = image_mean_std([str(mixed_folder)])
    pixels = []
    for path in image_files(str(mixed_folder)):
        with Image.open(path) as image:
            pixels.append(to_8bit_rgb(image).reshape(-1, 3))
    assert len(pixels) == 6  # the text and video files are no images
    pixels = np.concatenate(pixels).astype(np.float64)
    np.testing.assert_allclose(mean, pixels.mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(std, pixels.std(axis=0), rtol=1e-6)
    assert 'model.data_preprocessor.mean=[' in capsys.readouterr().out


def test_mean_std_tool_with_one_channel(mixed_folder, capsys):
    mean, std = image_mean_std([str(mixed_folder), '--channels', '1'])
    pixels = np.concatenate([
        LoadImageWithPillow(channels=1)(dict(img_path=path))['img'].ravel()
        for path in image_files(str(mixed_folder))
    ]).astype(np.float64)
    np.testing.assert_allclose(mean, [pixels.mean()], rtol=1e-9)
    np.testing.assert_allclose(std, [pixels.std()], rtol=1e-6)
    assert 'model.data_preprocessor.to_rgb=False' in capsys.readouterr().out
    # RGBA: one figure over all channels, that of all the values
    mean, std = image_mean_std([str(mixed_folder), '--channels', '4'])
    values = np.concatenate([
        LoadImageWithPillow(channels=4)(dict(img_path=path))['img'].ravel()
        for path in image_files(str(mixed_folder))
    ]).astype(np.float64)
    np.testing.assert_allclose([mean[0], std[0]],
                               [values.mean(), values.std()], rtol=1e-6)


@pytest.mark.parametrize('config, channels, options', [
    (PRMIM_TINY_CFG, 1, ['model.head.in_chans=1']),
    (ROPIM_TINY_CFG, 4, [
        'model.neck.type=PixelShuffleDecoder', 'model.neck.in_chans=4',
    ]),
])
def test_train_py_keeps_in_channels(mixed_folder, tmp_path, config, channels,
                                    options):
    """Gray (PR-MIM) and RGBA (ROPIM) images train as the backbone's
    in_channels says, 16-bit read as 12-bit data."""
    work_dir = tmp_path / 'work'
    run_tool('tools/train.py', config, '--data-root', str(mixed_folder),
             '--high-bit-range', '12', '--work-dir', str(work_dir),
             '--cfg-options', f'model.backbone.in_channels={channels}',
             # one value for every channel (MMEngine takes 1 or 3)
             'model.data_preprocessor.mean=[127.0]',
             'model.data_preprocessor.std=[64.0]',
             'model.data_preprocessor.to_rgb=False', *options,
             'train_cfg.max_epochs=1', 'train_dataloader.batch_size=3',
             'train_dataloader.num_workers=0',
             'train_dataloader.persistent_workers=False',
             'default_hooks.logger.interval=1')
    losses = [row['loss'] for row in logged_scalars(str(work_dir))[-1]
              if 'loss' in row]
    assert len(losses) == 2 and all(np.isfinite(losses))


def test_data_root_checks_the_preprocessor_against_in_channels(
        mixed_folder):
    from mmengine.config import Config

    from mmropim.utils.run_config import train_on_image_folder
    cfg = Config.fromfile(PRMIM_TINY_CFG)
    cfg.model.backbone.in_channels = 1
    # the key, its length, the channels and the tool that prints the values
    with raises_naming(ValueError, 'mean', '3 values', 'in_channels=1',
                       '--channels 1'):
        train_on_image_folder(copy.deepcopy(cfg), str(mixed_folder))
    cfg.model.data_preprocessor.update(mean=[127.0], std=[64.0])
    with raises_naming(ValueError, 'model.data_preprocessor.to_rgb=False'):
        train_on_image_folder(copy.deepcopy(cfg), str(mixed_folder))
    cfg.model.backbone.in_channels = 2
    with raises_naming(ValueError, 'model.backbone.in_channels=2',
                       '--data-root'):
        train_on_image_folder(copy.deepcopy(cfg), str(mixed_folder))


def test_model_refuses_a_reconstruction_of_other_channels():
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    ropim = Config.fromfile(ROPIM_TINY_CFG).model
    ropim.backbone.in_channels = 4
    with raises_naming(ValueError, '4-channel', 'SimMIMLinearDecoder',
                       'reconstructs 3', 'PixelShuffleDecoder'):
        MODELS.build(copy.deepcopy(ropim))
    ropim.neck.update(type='PixelShuffleDecoder', in_chans=1)
    with raises_naming(ValueError, '4-channel', 'PixelShuffleDecoder',
                       'reconstructs 1', 'in_chans=4'):
        MODELS.build(copy.deepcopy(ropim))
    ropim.neck.in_chans = 4
    assert MODELS.build(ropim).neck.in_chans == 4
    prmim = Config.fromfile(PRMIM_TINY_CFG).model
    prmim.backbone.in_channels = 1
    with raises_naming(ValueError, '1-channel', 'PRMIMHead', 'reconstructs 3',
                       'head.in_chans=1'):
        MODELS.build(prmim)


def test_model_checks_another_decoder_by_what_it_reconstructs():
    """A subclass of MMPretrain's decoder other than PixelShuffleDecoder
    (here a user's grayscale one) is checked by the channels it
    reconstructs, not taken for an RGB decoder."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpretrain.models.necks import SimMIMLinearDecoder
    from mmpretrain.registry import MODELS

    class GrayDecoder(SimMIMLinearDecoder):

        def __init__(self, in_channels, encoder_stride):
            super().__init__(in_channels, encoder_stride)
            self.decoder[0] = torch.nn.Conv2d(in_channels,
                                              encoder_stride**2, 1)

    init_default_scope('mmpretrain')
    ropim = Config.fromfile(ROPIM_TINY_CFG).model
    ropim.neck.type = GrayDecoder
    ropim.backbone.in_channels = 1
    model = MODELS.build(copy.deepcopy(ropim))
    assert model.neck(torch.zeros(1, 96, 8, 8)).shape == (1, 1, 64, 64)
    ropim.backbone.in_channels = 3
    with raises_naming(ValueError, '3-channel', 'GrayDecoder',
                       'reconstructs 1'):
        MODELS.build(ropim)


def test_train_py_pretrains_on_the_folder(mixed_folder, tmp_path):
    work_dir = tmp_path / 'work'
    run_tool('tools/train.py', PRMIM_TINY_CFG, '--data-root',
             str(mixed_folder), '--work-dir', str(work_dir), '--cfg-options',
             'train_cfg.max_epochs=2', 'train_dataloader.batch_size=3',
             'train_dataloader.num_workers=0',
             'train_dataloader.persistent_workers=False',
             'default_hooks.logger.interval=1')
    losses = [row['loss'] for row in logged_scalars(str(work_dir))[-1]
              if 'loss' in row]
    assert len(losses) == 4  # 6 images, batch 3, 2 epochs
    assert all(np.isfinite(losses))


def test_data_root_keeps_dataset_wrappers_and_names_a_missing_loader(
        mixed_folder):
    from mmengine.config import Config

    from mmropim.utils.run_config import train_on_image_folder
    cfg = Config.fromfile(PRMIM_TINY_CFG)
    cfg.train_dataloader.dataset = dict(
        type='RepeatDataset', times=3, dataset=cfg.train_dataloader.dataset)
    train_on_image_folder(cfg, str(mixed_folder))
    wrapper = cfg.train_dataloader.dataset
    assert wrapper.type == 'RepeatDataset' and wrapper.times == 3
    assert wrapper.dataset.type == 'CustomDataset'
    assert wrapper.dataset.pipeline[0] == dict(type='LoadImageWithPillow')
    assert cfg.val_dataloader is None
    no_loader = Config.fromfile(PRMIM_TINY_CFG)
    no_loader.train_dataloader.dataset.pipeline = \
        no_loader.train_dataloader.dataset.pipeline[1:]
    with raises_naming(ValueError, 'LoadImageFromFile'):
        train_on_image_folder(no_loader, str(mixed_folder))


def test_data_root_keeps_the_dataset_settings_it_does_not_replace(
        mixed_folder):
    """--data-root with --cfg-options train_dataloader.dataset.indices=8
    dropped the indices (the run read every image), silently."""
    from mmengine.config import Config

    from mmropim.utils.run_config import train_on_image_folder
    cfg = Config.fromfile(PRMIM_TINY_CFG)
    cfg.train_dataloader.dataset.update(indices=8, serialize_data=False,
                                        lazy_init=True, split='train')
    train_on_image_folder(cfg, str(mixed_folder))
    dataset = cfg.train_dataloader.dataset
    assert (dataset.indices, dataset.serialize_data,
            dataset.lazy_init) == (8, False, True)
    assert dataset.type == 'CustomDataset' and 'split' not in dataset
