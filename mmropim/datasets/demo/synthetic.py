"""Synthetic images for runs whose content does not matter but must be
learnable (the full-size config checks, the GPU smoke run)."""
import torch


def smooth_images(num_images: int, size: int, seed: int = 0) -> torch.Tensor:
    """Random uint8 images with structure at several scales.

    Coarse colour fields plus finer detail, not white noise, whose per-patch
    normalized pixel targets would be unlearnable.

    Args:
        num_images (int): Number of images.
        size (int): Side length in pixels, at least 32.
        seed (int): Random seed; the same seed gives the same images.

    Returns:
        torch.Tensor: (N, H, W, 3) uint8, as ``LoadImageFromFile`` gives
        them.
    """
    if size < 32:
        raise ValueError(f'size must be at least 32 pixels, got {size}')
    generator = torch.Generator().manual_seed(seed)
    up = torch.nn.functional.interpolate
    coarse = torch.rand(num_images, 3, size // 32, size // 32,
                        generator=generator)
    detail = torch.rand(num_images, 3, size // 8, size // 8,
                        generator=generator)
    images = 0.7 * up(coarse, size=size, mode='bicubic') + \
        0.3 * up(detail, size=size, mode='bilinear')
    images = (images.clamp(0, 1) * 255).round().byte()
    return images.permute(0, 2, 3, 1).contiguous()
