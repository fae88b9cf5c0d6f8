"""Images <-> per-patch vectors, pure torch."""
import torch


def patchify(images: torch.Tensor, patch_size: int) -> torch.Tensor:
    """Cut images into non-overlapping patches, in token order.

    Args:
        images (torch.Tensor): Shape (B, C, H, W), H and W multiples of p.
        patch_size (int): Patch side p.

    Returns:
        torch.Tensor: Shape (B, K, p * p * C), K = (H / p) * (W / p), tokens
        in the row-major order of the patch embedding.
    """
    b, c, h, w = images.shape
    p = patch_size
    x = images.reshape(b, c, h // p, p, w // p, p)
    x = x.permute(0, 2, 4, 3, 5, 1)
    return x.reshape(b, (h // p) * (w // p), p * p * c)


def patch_targets(images: torch.Tensor, patch_size: int,
                  normalize: bool) -> torch.Tensor:
    """Per-patch pixel targets, optionally normalized to zero mean and unit
    variance within each patch (MAE's norm-pix).

    Args:
        images (torch.Tensor): (B, C, H, W).
        patch_size (int): Patch side p.
        normalize (bool): Normalize each patch.

    Returns:
        torch.Tensor: (B, K, p * p * C).
    """
    patches = patchify(images, patch_size)
    if normalize:
        mean = patches.mean(dim=-1, keepdim=True)
        var = patches.var(dim=-1, keepdim=True)
        patches = (patches - mean) / (var + 1.e-6)**.5
    return patches
