"""Pictures of what the two methods do to an image, pure numpy + torch.

- ROPIM: the sketch projector Pi applied along the token axis to the
  per-patch pixel vectors of an image, and its complement (I - Pi): every
  patch keeps part of its energy ("continuous masking").
- PR-MIM: which tokens are visible, retained (decoded) or thrown (rebuilt
  by the aggregator), for furthest sampling and for random throwing.
"""
from typing import List, Optional, Sequence

import numpy as np
import torch

from ..models.utils import CountSketch, patchify

#: titles of :func:`sketch_panels`
SKETCH_PANEL_TITLES = ('x', 'Pi x (kept)', '(I-Pi) x (removed)')

# RGB tints of the token states
RETAINED = np.array([40, 110, 255], dtype=np.float64)
THROWN = np.array([255, 60, 40], dtype=np.float64)


def unpatchify(patches: torch.Tensor, grid_hw, patch_size: int,
               channels: int = 3) -> torch.Tensor:
    """Inverse of :func:`patchify`: (B, K, p*p*C) -> (B, C, H, W)."""
    b = patches.shape[0]
    h, w = grid_hw
    x = patches.reshape(b, h, w, patch_size, patch_size, channels)
    return x.permute(0, 5, 1, 3, 2, 4).reshape(b, channels, h * patch_size,
                                               w * patch_size)


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """(3, H, W) float image in [0, 1] (clipped) -> (H, W, 3) uint8."""
    array = image.clamp(0, 1).permute(1, 2, 0).cpu().numpy()
    return (255 * array + 0.5).astype(np.uint8)


def sketch_panels(image: np.ndarray,
                  patch_size: int,
                  rho: float,
                  seed: int = 0,
                  hash_layout: str = 'blocks') -> Sequence[np.ndarray]:
    """Original, Pi image and (I - Pi) image.

    The projection acts on pixels centred on the image mean; the complement
    is shown around mid-grey, as it is a signed residual.

    Args:
        image (np.ndarray): (H, W, 3) uint8, sides multiples of the patch.
        patch_size (int): Patch side p.
        rho (float): Sketch ratio K'/K.
        seed (int): Seed of the sketch.
        hash_layout (str): The preprocessor's, see ``CountSketch.draw``.

    Returns:
        list[np.ndarray]: Three (H, W, 3) uint8 panels.
    """
    pixels = torch.from_numpy(image).permute(2, 0, 1)[None].double() / 255
    mean = pixels.mean()
    grid = (pixels.shape[2] // patch_size, pixels.shape[3] // patch_size)
    patches = patchify(pixels - mean, patch_size)
    sketch = CountSketch.draw(
        1,
        patches.shape[1],
        rho,
        generator=torch.Generator().manual_seed(seed),
        hash_layout=hash_layout)
    projected = unpatchify(sketch.project(patches), grid, patch_size)
    removed = unpatchify(sketch.complement(patches), grid, patch_size)
    return [image, to_uint8(projected[0] + mean), to_uint8(removed[0] + 0.5)]


def token_state_panel(image: np.ndarray, mask: np.ndarray,
                      throw_mask: np.ndarray,
                      patch_size: int) -> np.ndarray:
    """The image with retained tokens tinted blue and thrown ones red.

    Args:
        image (np.ndarray): (H, W, 3) uint8.
        mask (np.ndarray): (h, w), 1 = masked.
        throw_mask (np.ndarray): (h, w), 1 = thrown.
        patch_size (int): Patch side p.

    Returns:
        np.ndarray: (H, W, 3) uint8.
    """
    def up(tokens):
        return np.kron(tokens.astype(bool),
                       np.ones((patch_size, patch_size), bool))

    retained = up(mask.astype(bool) & ~throw_mask.astype(bool))
    thrown = up(throw_mask)
    out = image.astype(np.float64)
    out[retained] = 0.35 * out[retained] + 0.65 * RETAINED
    out[thrown] = 0.35 * out[thrown] + 0.65 * THROWN
    # a thin grid so single tokens can be told apart
    out[::patch_size, :, :] *= 0.6
    out[:, ::patch_size, :] *= 0.6
    return out.astype(np.uint8)


def hstack(panels: Sequence[np.ndarray],
           gap: int = 4,
           titles: Optional[Sequence[str]] = None,
           scale: int = 1) -> np.ndarray:
    """Panels of equal height side by side with white gaps, each enlarged
    ``scale`` times (nearest neighbour) and, with ``titles``, under its
    title (dark text on white; a column is as wide as the wider of panel
    and title, the panel centred in it).

    Args:
        panels (Sequence[np.ndarray]): (H, W, 3) uint8 panels.
        gap (int): White pixels between columns. Defaults to 4.
        titles (Sequence[str], optional): One per panel. Defaults to None.
        scale (int): Enlargement, an integer >= 1. Defaults to 1.

    Returns:
        np.ndarray: The (H', W', 3) uint8 row.
    """
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise ValueError(f'scale must be an integer >= 1, got {scale!r}')
    if titles is not None and len(titles) != len(panels):
        raise ValueError(f'{len(panels)} panels but {len(titles)} titles: '
                         'give one title per panel')
    panels = [np.repeat(np.repeat(p, scale, axis=0), scale, axis=1)
              for p in panels]
    height = panels[0].shape[0]
    if titles is not None:
        panels = titled(panels, titles)
        height = panels[0].shape[0]
    spacer = np.full((height, gap, 3), 255, np.uint8)
    pieces = []
    for i, panel in enumerate(panels):
        if i:
            pieces.append(spacer)
        pieces.append(panel)
    return np.concatenate(pieces, axis=1)


def titled(panels: Sequence[np.ndarray],
           titles: Sequence[str]) -> List[np.ndarray]:
    """Each panel under its title, in columns of one height."""
    from PIL import Image, ImageDraw, ImageFont
    font = ImageFont.load_default()
    measure = ImageDraw.Draw(Image.new('RGB', (1, 1)))
    boxes = [measure.textbbox((0, 0), title, font=font) for title in titles]
    strip = max(box[3] for box in boxes) + 6
    columns = []
    for panel, title, box in zip(panels, titles, boxes):
        width = max(panel.shape[1], box[2] + 4)
        column = Image.new('RGB', (width, strip + panel.shape[0]),
                           (255, 255, 255))
        ImageDraw.Draw(column).text(((width - box[2]) // 2, 3), title,
                                    fill=(20, 20, 20), font=font)
        column.paste(Image.fromarray(panel),
                     ((width - panel.shape[1]) // 2, strip))
        columns.append(np.asarray(column))
    return columns
