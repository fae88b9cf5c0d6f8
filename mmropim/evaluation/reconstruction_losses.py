"""Held-out losses of ROPIM and SimMIM-style masking against what predicting
without learning scores.

- ROPIM: the complement loss L1((I - Pi)(x_hat - x)) of the reconstruction
  x_hat, against predicting the projected input Pi x (or anything inside the
  sketch subspace), whose complement loss is L1((I - Pi) x); also the loss
  inside the subspace, L1(Pi (x_hat - x)), which training never sees. With
  ``swap_subspaces`` the two projections trade places
  (:meth:`ROPIM.projections`).
- SimMIM: the L1 loss on the masked pixels, against predicting each image's
  mean visible colour there.

A ratio below 1 is what pre-training learned beyond the input it was given.
"""
from typing import Dict, Optional, Tuple

import torch

from mmropim.models.utils import CountSketch, patchify, split_tokens


def random_masks(batch: int, grid_hw: Tuple[int, int], ratio: float,
                 generator: torch.Generator) -> torch.Tensor:
    """(B, h, w) masks with exactly round(ratio * h * w) ones at uniformly
    random positions (FurthestSampling with ``throw_ratio=0``)."""
    num_tokens = grid_hw[0] * grid_hw[1]
    ranks = torch.rand(batch, num_tokens, generator=generator).argsort(1)
    mask = (ranks < round(ratio * num_tokens)).float()
    return mask.view(batch, *grid_hw)


def _draw_sketch(model, images: torch.Tensor,
                 generator: torch.Generator) -> CountSketch:
    patch = model.head.patch_size
    num_tokens = (images.shape[-2] // patch) * (images.shape[-1] // patch)
    preprocessor = model.data_preprocessor
    return CountSketch.draw(images.shape[0], num_tokens, preprocessor.rho,
                            generator=generator,
                            hash_layout=preprocessor.hash_layout)


def _draw_masks(model, images: torch.Tensor, mask_ratio: float,
                generator: torch.Generator):
    patch = model.head.patch_size
    grid_hw = (images.shape[-2] // patch, images.shape[-1] // patch)
    mask = random_masks(images.shape[0], grid_hw, mask_ratio, generator)
    return mask, torch.zeros_like(mask)


@torch.no_grad()
def ropim_losses(model, images: torch.Tensor,
                 generator: torch.Generator) -> Dict[str, float]:
    """ROPIM's held-out losses of one batch.

    Args:
        model (ROPIM): The pre-training model.
        images (torch.Tensor): Normalized images (B, 3, H, W).
        generator (torch.Generator): Source of the sketches.

    Returns:
        dict[str, float]: ``loss`` (the training loss), ``baseline`` (the
        same loss of a prediction inside the input's subspace) and
        ``input_subspace_loss`` (the error in the subspace the encoder
        was given, not trained on), ``removed_energy`` (the fraction of
        the images' squared norm the corruption takes away, in the
        normalized pixel space).
    """
    sketch = _draw_sketch(model, images, generator)
    reconstruction = model.reconstruct(images, sketch)
    input_projection, loss_projection = model.projections(sketch)
    patches = patchify(images, model.head.patch_size)
    return dict(
        loss=model.head.loss(reconstruction, images, loss_projection).item(),
        baseline=model.head.loss(
            torch.zeros_like(images), images, loss_projection).item(),
        input_subspace_loss=model.head.loss(reconstruction, images,
                                            input_projection).item(),
        removed_energy=(loss_projection(patches).square().sum() /
                        patches.square().sum()).item())


@torch.no_grad()
def simmim_losses(model, images: torch.Tensor, generator: torch.Generator,
                  mask_ratio: float) -> Dict[str, float]:
    """SimMIM's held-out losses of one batch.

    Args:
        model (PRMIMSimMIM): The pre-training model (throw ratio 0).
        images (torch.Tensor): Normalized images (B, 3, H, W).
        generator (torch.Generator): Source of the masks.
        mask_ratio (float): Fraction of the tokens masked.

    Returns:
        dict[str, float]: ``loss`` (the masked L1 loss), ``baseline``
        (the same loss of each image's mean visible colour) and
        ``removed_energy`` (the fraction of the images' squared norm on the
        masked pixels).
    """
    patch = model.head.patch_size
    mask, throw_mask = _draw_masks(model, images, mask_ratio, generator)
    loss = model.loss_on_split(images, mask, throw_mask,
                               split_tokens(mask, throw_mask))['loss']
    visible = 1. - mask.repeat_interleave(patch, 1).repeat_interleave(
        patch, 2).unsqueeze(1)
    mean_colour = (images * visible).sum((2, 3), keepdim=True) / \
        visible.sum((2, 3), keepdim=True)
    baseline = model.head.loss(mean_colour.expand_as(images), images, mask)
    masked = 1. - visible
    return dict(loss=loss.item(), baseline=baseline.item(),
                removed_energy=((images * masked).square().sum() /
                                images.square().sum()).item())


def held_out_losses(model,
                    images: torch.Tensor,
                    seed: int,
                    mask_ratio: Optional[float] = None,
                    batch_size: int = 250) -> Dict[str, float]:
    """The mean over ``images`` of each value of :func:`ropim_losses`
    (``mask_ratio`` None) or :func:`simmim_losses`, batch by batch, with the
    sketches / masks drawn from ``seed`` (the same for every checkpoint
    evaluated), and ``ratio``: loss / baseline. Puts ``model`` in eval
    mode."""
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    totals = {}
    for batch in images.split(batch_size):
        if mask_ratio is None:
            values = ropim_losses(model, batch, generator)
        else:
            values = simmim_losses(model, batch, generator, mask_ratio)
        for key, value in values.items():
            totals[key] = totals.get(key, 0.0) + value * len(batch)
    result = {key: total / len(images) for key, total in totals.items()}
    result['ratio'] = result['loss'] / result['baseline']
    return result


def corrupted_loss(model,
                   images: torch.Tensor,
                   generator: torch.Generator,
                   mask_ratio: Optional[float] = None) -> torch.Tensor:
    """The training loss of one batch under a fresh corruption drawn from
    ``generator``, as :func:`ropim_losses` (``mask_ratio`` None) or
    :func:`simmim_losses` draw it; with gradients when they are enabled."""
    if mask_ratio is None:
        sketch = _draw_sketch(model, images, generator)
        _, loss_projection = model.projections(sketch)
        return model.head.loss(
            model.reconstruct(images, sketch), images, loss_projection)
    mask, throw_mask = _draw_masks(model, images, mask_ratio, generator)
    return model.loss_on_split(images, mask, throw_mask,
                               split_tokens(mask, throw_mask))['loss']
