"""Token masks for PR-MIM, pure numpy (runs in the data workers).

On an h x w token grid with N = h * w tokens:

- ``mask`` (1 = masked): exactly round(N * mask_ratio) tokens, uniformly at
  random, as MAE draws them;
- ``throw_mask`` (1 = thrown): exactly round(N * throw_ratio) of the masked
  tokens, which the decoder never sees. The other masked tokens are
  *retained*: the decoder reconstructs them with mask tokens.

``throw_ratio`` is a fraction of ALL N tokens (0 <= throw_ratio < mask_ratio),
the reading consistent with the PR-MIM paper's cost figures.
"""
import numbers
from typing import Tuple

import numpy as np


def check_ratios(num_tokens: int, mask_ratio: float,
                 throw_ratio: float) -> Tuple[int, int]:
    """Validate the ratios and return the numbers of masked / thrown tokens.

    Args:
        num_tokens (int): Number of tokens N.
        mask_ratio (float): Fraction of tokens masked, in (0, 1).
        throw_ratio (float): Fraction of all tokens thrown,
            0 <= throw_ratio < mask_ratio.

    Returns:
        tuple[int, int]: round(N * mask_ratio), round(N * throw_ratio).
    """
    for name, ratio in (('mask_ratio', mask_ratio),
                        ('throw_ratio', throw_ratio)):
        if isinstance(ratio, bool) or not isinstance(ratio, numbers.Real):
            raise TypeError(f'{name} must be a number, got {ratio!r}')
    if not 0.0 < mask_ratio < 1.0:
        raise ValueError(
            f'mask_ratio must lie in (0, 1), got {mask_ratio!r}')
    if not throw_ratio >= 0.0:  # NaN too
        raise ValueError(
            f'throw_ratio must be >= 0 (a fraction of all tokens), got '
            f'{throw_ratio!r}')
    if throw_ratio >= mask_ratio:
        raise ValueError(
            f'throw_ratio={throw_ratio!r} must be smaller than '
            f'mask_ratio={mask_ratio!r}: only masked tokens can be thrown and '
            f'at least one must be retained')
    num_masked = int(round(num_tokens * mask_ratio))
    num_thrown = int(round(num_tokens * throw_ratio))
    if not 0 < num_masked < num_tokens:
        raise ValueError(
            f'mask_ratio={mask_ratio!r} masks {num_masked} of {num_tokens} '
            f'tokens; at least one token must be masked and one visible')
    if num_thrown >= num_masked:
        raise ValueError(
            f'throw_ratio={throw_ratio!r} throws {num_thrown} of the '
            f'{num_masked} masked tokens of {num_tokens}; at least one must '
            f'be retained')
    return num_masked, num_thrown


def random_mask(grid_hw: Tuple[int, int], num_masked: int,
                rng: np.random.Generator) -> np.ndarray:
    """MAE's uniform random mask.

    Args:
        grid_hw (tuple[int, int]): Token grid (h, w).
        num_masked (int): Number of masked tokens.
        rng (np.random.Generator): Source of randomness.

    Returns:
        np.ndarray: uint8 mask of shape (h, w), 1 = masked.
    """
    num_tokens = grid_hw[0] * grid_hw[1]
    mask = np.zeros(num_tokens, dtype=np.uint8)
    mask[rng.permutation(num_tokens)[:num_masked]] = 1
    return mask.reshape(grid_hw)


def furthest_retained(coords: np.ndarray, num_retained: int,
                      rng: np.random.Generator) -> np.ndarray:
    """Greedy farthest-point choice of the retained tokens.

    The first token is uniformly random; each next one is the candidate
    farthest (Euclidean) from its nearest already retained token. Candidates
    are visited in a random order so that ties break at random and no fixed
    lattice appears.

    Args:
        coords (np.ndarray): (M, 2) grid coordinates of the masked tokens.
        num_retained (int): Number R of tokens to retain, 1 <= R <= M.
        rng (np.random.Generator): Source of randomness.

    Returns:
        np.ndarray: Indices into ``coords`` of the R retained tokens.
    """
    order = rng.permutation(len(coords))
    rows = coords[order, 0].astype(np.int32)
    cols = coords[order, 1].astype(np.int32)
    # Squared distances between all candidates: M is at most N (196 for
    # ViT/16 at 224 px), so the table is small and makes each step one
    # vectorized minimum and one argmax. Integer maths keeps ties exact.
    d_rows = rows[:, None] - rows[None, :]
    d_cols = cols[:, None] - cols[None, :]
    dist2 = d_rows * d_rows + d_cols * d_cols
    chosen = np.empty(num_retained, dtype=np.int64)
    chosen[0] = 0
    nearest = dist2[0].copy()
    for i in range(1, num_retained):
        chosen[i] = nearest.argmax()  # first maximum in the random order
        np.minimum(nearest, dist2[chosen[i]], out=nearest)
    return order[chosen]


def throw_from_mask(mask: np.ndarray, num_thrown: int,
                    rng: np.random.Generator,
                    mode: str = 'furthest') -> np.ndarray:
    """Split the masked tokens into retained and thrown ones.

    Args:
        mask (np.ndarray): (h, w) mask, 1 = masked.
        num_thrown (int): Number of masked tokens to throw.
        rng (np.random.Generator): Source of randomness.
        mode (str): ``'furthest'`` keeps spatially dispersed tokens (PR-MIM);
            ``'random'`` throws uniformly at random (plain partial
            reconstruction).

    Returns:
        np.ndarray: uint8 (h, w) throw mask, 1 = thrown, a subset of mask.
    """
    masked = np.flatnonzero(mask.reshape(-1))
    num_retained = len(masked) - num_thrown
    if mode == 'furthest':
        coords = np.stack(np.divmod(masked, mask.shape[1]), axis=1)
        retained = masked[furthest_retained(coords, num_retained, rng)]
    elif mode == 'random':
        retained = masked[rng.permutation(len(masked))[:num_retained]]
    else:
        raise ValueError(
            f"mode must be 'furthest' or 'random', got {mode!r}")
    throw = mask.reshape(-1).copy()
    throw[retained] = 0
    return throw.reshape(mask.shape)


def thrown_token_coverage(mask: np.ndarray, throw_mask: np.ndarray) -> float:
    """Mean distance from a thrown token to its nearest decoded token
    (visible or retained); smaller is better covered.

    Args:
        mask (np.ndarray): (h, w), 1 = masked.
        throw_mask (np.ndarray): (h, w), 1 = thrown.

    Returns:
        float: Mean Euclidean distance in token units (0 if none thrown).
    """
    thrown = np.argwhere(throw_mask.astype(bool))
    decoded = np.argwhere(~throw_mask.astype(bool))
    if len(thrown) == 0:
        return 0.0
    dist = np.sqrt(((thrown[:, None] - decoded[None]) ** 2).sum(-1))
    return float(dist.min(axis=1).mean())
