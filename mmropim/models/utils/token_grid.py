"""Token bookkeeping for partial reconstruction, pure torch.

Tokens of an h x w grid are numbered in raster order. A masked-and-thrown
split puts every token in one of three groups: visible (encoded), retained
(masked, decoded with a mask token) and thrown (masked, never decoded).
"""
from typing import NamedTuple, Tuple

import torch


class TokenSplit(NamedTuple):
    """Token indices of a batch, each group in raster order.

    Attributes:
        ids_visible (torch.Tensor): (B, Nv) visible tokens.
        ids_retained (torch.Tensor): (B, Nr) masked tokens that are decoded.
        ids_thrown (torch.Tensor): (B, Nt) masked tokens never decoded.
    """
    ids_visible: torch.Tensor
    ids_retained: torch.Tensor
    ids_thrown: torch.Tensor

    @property
    def ids_decoded(self) -> torch.Tensor:
        """(B, Nv + Nr): the decoder's token order, visible then retained."""
        return torch.cat([self.ids_visible, self.ids_retained], dim=1)


def split_tokens(mask: torch.Tensor, throw_mask: torch.Tensor) -> TokenSplit:
    """Turn per-image masks into index tensors.

    Args:
        mask (torch.Tensor): (B, N) or (B, h, w), 1 = masked.
        throw_mask (torch.Tensor): Same shape, 1 = thrown (within mask).

    Returns:
        TokenSplit: Visible, retained and thrown indices.
    """
    mask = mask.flatten(1).bool()
    throw = throw_mask.flatten(1).bool()
    if mask.shape != throw.shape:
        raise ValueError(f'mask {tuple(mask.shape)} and throw_mask '
                         f'{tuple(throw.shape)} differ in shape')
    if (throw & ~mask).any():
        raise ValueError('throw_mask marks tokens that are not masked: only '
                         'masked tokens can be thrown')
    counts = torch.stack([(~mask).sum(1), (mask & ~throw).sum(1),
                          throw.sum(1)], dim=1)
    if (counts != counts[:1]).any():
        raise ValueError(
            'every image of a batch needs the same numbers of visible / '
            f'retained / thrown tokens, got {counts.tolist()}')
    num_visible, num_retained, _ = counts[0].tolist()
    # group 0 visible, 1 retained, 2 thrown; a stable sort keeps raster order
    group = mask.long() + throw.long()
    order = torch.sort(group, dim=1, stable=True).indices
    return TokenSplit(order[:, :num_visible],
                      order[:, num_visible:num_visible + num_retained],
                      order[:, num_visible + num_retained:])


def mask_and_restore_ids(
        split: TokenSplit) -> Tuple[torch.Tensor, torch.Tensor]:
    """The mask and restore indices MMPretrain's MAE encoders return.

    Args:
        split (TokenSplit): Visible / retained / thrown indices.

    Returns:
        tuple: The (B, N) float32 mask (1 = masked; float32 as ``MAEViT``'s,
        a head that sums it in fp16 overflows at real batch sizes) and the
        (B, N) ids that restore raster order from [visible, retained,
        thrown].
    """
    order = torch.cat(
        [split.ids_visible, split.ids_retained, split.ids_thrown], dim=1)
    ids_restore = torch.argsort(order, dim=1)
    mask = torch.ones(order.shape, device=order.device)
    mask[:, :split.ids_visible.shape[1]] = 0
    return mask.gather(1, ids_restore), ids_restore


def gather_tokens(x: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """Pick tokens by index.

    Args:
        x (torch.Tensor): (B, N, C) tokens.
        ids (torch.Tensor): (B, M) indices into N.

    Returns:
        torch.Tensor: (B, M, C).
    """
    return x.gather(1, ids.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


def scatter_to_grid(tokens: torch.Tensor, ids: torch.Tensor,
                    num_tokens: int) -> torch.Tensor:
    """Place tokens at their positions, zeros elsewhere.

    Args:
        tokens (torch.Tensor): (B, M, C) tokens.
        ids (torch.Tensor): (B, M) their positions in [0, num_tokens).
        num_tokens (int): Total number of positions N.

    Returns:
        torch.Tensor: (B, N, C).
    """
    out = tokens.new_zeros(tokens.shape[0], num_tokens, tokens.shape[-1])
    return out.scatter(
        1, ids.unsqueeze(-1).expand(-1, -1, tokens.shape[-1]), tokens)
