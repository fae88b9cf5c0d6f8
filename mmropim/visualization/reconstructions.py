"""What a ROPIM or PR-MIM model reconstructs, as image panels.

Shared by ``tools/analysis/visualize.py`` (one image, a checkpoint) and
:class:`MIMVisualizationHook` (the current batch during training).
"""
from typing import List

import numpy as np
import torch

from ..models.selfsup import PRMIM, ROPIM
from ..models.utils import CountSketch, patchify
from .panels import token_state_panel, unpatchify

#: titles of the panels of :func:`ropim_panels` and :func:`prmim_panels`
ROPIM_PANEL_TITLES = ('Pi x (input)', 'Pi x + (I-Pi) x_hat', 'x')
#: the titles of :func:`ropim_panels` for a model with ``swap_subspaces``
ROPIM_SWAPPED_PANEL_TITLES = ('(I-Pi) x (input)', '(I-Pi) x + Pi x_hat', 'x')
PRMIM_PANEL_TITLES = ('visible', 'retained / thrown', 'reconstruction', 'x')


def denormalize(inputs: torch.Tensor, preprocessor) -> List[np.ndarray]:
    """Undo the data preprocessor's normalization.

    Args:
        inputs (torch.Tensor): (B, 3, H, W) normalized images.
        preprocessor: A data preprocessor with ``mean`` / ``std`` (C, 1, 1).

    Returns:
        list[np.ndarray]: B (H, W, 3) uint8 images.
    """
    pixels = inputs.float() * preprocessor.std.float() + \
        preprocessor.mean.float()
    pixels = pixels.clamp(0, 255).round().byte().permute(0, 2, 3, 1)
    return list(pixels.cpu().numpy())


def ropim_panel_titles(model: ROPIM) -> tuple:
    """The titles of the panels :func:`ropim_panels` draws for ``model``:
    which subspace is its input depends on its ``swap_subspaces``."""
    return ROPIM_SWAPPED_PANEL_TITLES if model.swap_subspaces else \
        ROPIM_PANEL_TITLES


@torch.no_grad()
def ropim_panels(model: ROPIM, inputs: torch.Tensor,
                 sketch: CountSketch) -> List[List[np.ndarray]]:
    """Per image: Pi x (what the encoder saw), Pi x + (I - Pi) x_hat (the
    model's fill of the removed part, the only part its loss constrains),
    and the original; with ``swap_subspaces`` Pi and I - Pi trade places
    (:meth:`ROPIM.projections`, titles: :func:`ropim_panel_titles`)."""
    patch = model.head.patch_size
    grid = (inputs.shape[-2] // patch, inputs.shape[-1] // patch)
    reconstruction = model.reconstruct(inputs, sketch).float()
    target = patchify(inputs.float(), patch)
    input_projection, loss_projection = model.projections(sketch)
    seen = input_projection(target)
    filled = seen + loss_projection(patchify(reconstruction, patch))
    pre = model.data_preprocessor
    return [list(p) for p in zip(
        denormalize(unpatchify(seen, grid, patch), pre),
        denormalize(unpatchify(filled, grid, patch), pre),
        denormalize(inputs, pre))]


@torch.no_grad()
def prmim_panels(model: PRMIM, inputs: torch.Tensor, mask: torch.Tensor,
                 throw_mask: torch.Tensor) -> List[List[np.ndarray]]:
    """Per image: the visible tokens, the token states (blue retained, red
    thrown), the reconstruction of the masked tokens pasted into the
    visible ones, and the original.

    Args:
        model (PRMIM): The model.
        inputs (torch.Tensor): (B, 3, H, W) normalized images.
        mask (torch.Tensor): (B, h, w), 1 = masked.
        throw_mask (torch.Tensor): (B, h, w), 1 = thrown.
    """
    patch = model.head.patch_size
    grid = tuple(mask.shape[-2:])
    pred = model.reconstruct(inputs, mask, throw_mask).float()
    target = patchify(inputs.float(), patch)
    if model.head.norm_pix:  # back from per-patch normalized pixels
        pred = pred * (target.var(-1, keepdim=True) + 1e-6)**.5 + \
            target.mean(-1, keepdim=True)
    masked = mask.flatten(1).bool()[..., None]
    pre = model.data_preprocessor
    originals = denormalize(inputs, pre)
    visible = denormalize(
        unpatchify(torch.where(masked, torch.zeros_like(target), target),
                   grid, patch), pre)
    rebuilt = denormalize(
        unpatchify(torch.where(masked, pred, target), grid, patch), pre)
    states = [
        token_state_panel(image, m.cpu().numpy(), t.cpu().numpy(), patch)
        for image, m, t in zip(originals, mask, throw_mask)
    ]
    return [list(p) for p in zip(visible, states, rebuilt, originals)]
