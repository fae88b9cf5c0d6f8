"""Synthetic images of mmropim/datasets/demo (the demo set writers are
tested where they are used: conftest.py writes them for the suite)."""
import pytest
import torch

from mmropim.datasets.demo import smooth_images


def test_smooth_images_are_seeded_uint8_with_structure():
    images = smooth_images(3, 64, seed=1)
    assert images.shape == (3, 64, 64, 3) and images.dtype == torch.uint8
    assert torch.equal(images, smooth_images(3, 64, seed=1))
    assert not torch.equal(images, smooth_images(3, 64, seed=2))
    pixels = images.float()
    # neighbours alike (not white noise), images and colours unlike
    step = (pixels[:, 1:] - pixels[:, :-1]).abs().mean()
    assert step < 0.1 * pixels.std()
    assert pixels.std() > 20
    assert (pixels[0] - pixels[1]).abs().mean() > 20


def test_smooth_images_name_a_side_too_small():
    with pytest.raises(ValueError, match='at least 32 pixels, got 16'):
        smooth_images(1, 16)
