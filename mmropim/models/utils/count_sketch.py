"""Count-sketch projection of tokens, the maths behind ROPIM.

For one image with K tokens, a count sketch is a hash h: {0..K-1} -> {0..K'-1}
and signs s in {-1, +1}^K. It defines P in R^{K' x K} with P[h(i), i] = s(i).
Rows of P are orthogonal (P P^T = diag(n), n_j = tokens in bucket j), so the
pseudo-inverse is P^+ = P^T diag(1/n) and

    Pi     = P^+ P          (orthogonal projector of rank K')
    Pi_bar = I - Pi         (its complement)

Both are applied here in O(K * C) per image with a signed scatter-add into the
K' buckets followed by a gather, never through a dense K x K matrix.

This module is pure torch: no registry, no config.
"""
import math
from typing import Optional

import torch


def check_sketch_ratio(rho: float) -> None:
    """Raise a clear error unless 0 < rho < 1.

    Args:
        rho (float): Fraction of the token dimension kept by the sketch.
    """
    if not isinstance(rho, (int, float)) or not 0.0 < rho < 1.0:
        raise ValueError(f'rho (the sketch ratio K\'/K) must lie in the open '
                         f'interval (0, 1), got {rho!r}')


#: how ``CountSketch.draw`` lays the buckets over the token positions
HASH_LAYOUTS = ('blocks', 'shuffled')


def check_hash_layout(hash_layout: str) -> None:
    """Raise unless ``hash_layout`` is one of :data:`HASH_LAYOUTS`."""
    if hash_layout not in HASH_LAYOUTS:
        raise ValueError(f'hash_layout must be one of {HASH_LAYOUTS} '
                         f"('blocks' is the authors'), got {hash_layout!r}")


def sketch_size_from_ratio(num_tokens: int, rho: float) -> int:
    """Sketch size K' = round(rho * K), validated.

    Args:
        num_tokens (int): Number of tokens K.
        rho (float): Fraction of the token dimension kept, in (0, 1).

    Returns:
        int: K', with 1 <= K' < K.
    """
    if not isinstance(num_tokens, int) or num_tokens < 2:
        raise ValueError(
            f'num_tokens must be an integer >= 2, got {num_tokens!r}')
    check_sketch_ratio(rho)
    sketch_size = int(round(rho * num_tokens))
    if sketch_size < 1:
        raise ValueError(
            f'rho={rho!r} with {num_tokens} tokens gives a sketch size '
            f'K\'=round(rho*K)={sketch_size}; it must be at least 1. '
            f'Use rho >= {0.5 / num_tokens:.4g}.')
    if sketch_size >= num_tokens:
        raise ValueError(
            f'rho={rho!r} with {num_tokens} tokens gives a sketch size '
            f'K\'={sketch_size}; it must be smaller than K={num_tokens}, '
            f'otherwise nothing is removed. Use rho <= '
            f'{(num_tokens - 0.5) / num_tokens:.4g}.')
    return sketch_size


def _at_least_float32(x: torch.Tensor) -> torch.Tensor:
    return x.to(torch.promote_types(x.dtype, torch.float32))


class CountSketch:
    """A batch of count sketches, one independent sketch per image.

    Args:
        hashes (torch.Tensor): Bucket of every token, long tensor of shape
            (B, K) with values in [0, sketch_size).
        signs (torch.Tensor): Sign of every token, shape (B, K), values +-1.
        sketch_size (int): Number of buckets K'.
    """

    def __init__(self, hashes: torch.Tensor, signs: torch.Tensor,
                 sketch_size: int) -> None:
        if hashes.dim() != 2 or hashes.shape != signs.shape:
            raise ValueError(
                'hashes and signs must both have shape (B, K), got '
                f'{tuple(hashes.shape)} and {tuple(signs.shape)}')
        if not 1 <= sketch_size < hashes.shape[1]:
            raise ValueError(f'sketch_size must satisfy 1 <= K\' < K='
                             f'{hashes.shape[1]}, got {sketch_size}')
        self.hashes = hashes.long()
        self.signs = signs
        self.sketch_size = int(sketch_size)
        counts = torch.zeros(
            hashes.shape[0], self.sketch_size, device=hashes.device)
        counts.scatter_add_(1, self.hashes, torch.ones_like(counts[:, :1])
                            .expand_as(self.hashes))
        # An empty bucket is a zero row of P: the pseudo-inverse ignores it,
        # which dividing by 1 instead of 0 reproduces exactly.
        self.bucket_sizes = counts
        self._divisors = counts.clamp(min=1.0)
        # Buckets of all images numbered jointly, so that P and P^+ are one
        # index_add / index_select over the flattened batch.
        offsets = torch.arange(
            hashes.shape[0], device=hashes.device).unsqueeze(1)
        self._flat_index = (self.hashes + offsets * self.sketch_size).flatten()

    @property
    def batch_size(self) -> int:
        return self.hashes.shape[0]

    @property
    def num_tokens(self) -> int:
        return self.hashes.shape[1]

    @classmethod
    def draw(cls,
             batch_size: int,
             num_tokens: int,
             rho: float,
             generator: Optional[torch.Generator] = None,
             device: Optional[torch.device] = None,
             hash_layout: str = 'blocks') -> 'CountSketch':
        """Draw an independent balanced sketch for each image.

        The hash is balanced (every bucket holds floor(K/K') or ceil(K/K')
        tokens): random permutations of the K' buckets are concatenated and
        cut to K entries. With ``hash_layout='blocks'`` (the authors') token
        i takes entry i, so every consecutive raster block of K' tokens
        gives each bucket one token and a bucket's tokens are spread over
        the image; ``'shuffled'`` also shuffles the entries over the token
        positions, so neighbouring tokens may share a bucket. Exactly K // 2
        signs are -1, at random positions.

        Args:
            batch_size (int): Number of images B.
            num_tokens (int): Number of tokens K per image.
            rho (float): Sketch ratio, K' = round(rho * K), see
                :func:`sketch_size_from_ratio`.
            generator (torch.Generator, optional): Source of randomness;
                the global torch RNG when None.
            device (torch.device, optional): Device of the sketch.
            hash_layout (str): 'blocks' (default, the authors') or
                'shuffled'.

        Returns:
            CountSketch: B sketches of K tokens into K' buckets.
        """
        check_hash_layout(hash_layout)
        sketch_size = sketch_size_from_ratio(num_tokens, rho)
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        if generator is not None:
            device = generator.device

        def random_permutations(*shape):
            noise = torch.rand(*shape, generator=generator, device=device)
            return noise.argsort(dim=-1)

        repeats = math.ceil(num_tokens / sketch_size)
        buckets = random_permutations(batch_size, repeats, sketch_size)
        hashes = buckets.flatten(1)[:, :num_tokens]
        if hash_layout == 'shuffled':
            hashes = hashes.gather(
                1, random_permutations(batch_size, num_tokens))
        signs = torch.where(
            random_permutations(batch_size, num_tokens) < num_tokens // 2,
            -1.0, 1.0)
        return cls(hashes, signs, sketch_size)

    def sketch(self, x: torch.Tensor) -> torch.Tensor:
        """Apply P along the token axis.

        Args:
            x (torch.Tensor): Tokens of shape (B, K, C).

        Returns:
            torch.Tensor: Sketched tokens P x of shape (B, K', C).
        """
        self._check_tokens(x)
        batch, tokens, channels = x.shape
        signed = x * self.signs.to(x.dtype).unsqueeze(-1)
        out = x.new_zeros(batch * self.sketch_size, channels)
        out.index_add_(0, self._flat_index, signed.reshape(-1, channels))
        return out.view(batch, self.sketch_size, channels)

    def unsketch(self, y: torch.Tensor) -> torch.Tensor:
        """Apply the pseudo-inverse P^+ = P^T diag(1/n).

        Args:
            y (torch.Tensor): Sketched tokens of shape (B, K', C).

        Returns:
            torch.Tensor: Tokens P^+ y of shape (B, K, C).
        """
        batch, _, channels = y.shape
        scaled = y / self._divisors.to(y.dtype).unsqueeze(-1)
        tokens = scaled.reshape(-1, channels).index_select(0, self._flat_index)
        return tokens.view(batch, self.num_tokens, channels) * \
            self.signs.to(y.dtype).unsqueeze(-1)

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """Pi x: the part of the tokens kept by the sketch.

        Computed in at least float32 (bucket sums lose precision in half
        precision) and returned in the input dtype.

        Args:
            x (torch.Tensor): Tokens of shape (B, K, C).

        Returns:
            torch.Tensor: Pi x, shape (B, K, C).
        """
        xf = _at_least_float32(x)
        return self.unsketch(self.sketch(xf)).to(x.dtype)

    def complement(self, x: torch.Tensor) -> torch.Tensor:
        """(I - Pi) x: the part of the tokens removed by the sketch.

        Args:
            x (torch.Tensor): Tokens of shape (B, K, C).

        Returns:
            torch.Tensor: (I - Pi) x, shape (B, K, C).
        """
        xf = _at_least_float32(x)
        return (xf - self.unsketch(self.sketch(xf))).to(x.dtype)

    def sketch_matrix(self) -> torch.Tensor:
        """Dense P of shape (B, K', K), for tests and pictures."""
        mat = torch.zeros(
            self.batch_size,
            self.sketch_size,
            self.num_tokens,
            device=self.hashes.device)
        return mat.scatter(1, self.hashes.unsqueeze(1),
                           self.signs.float().unsqueeze(1))

    def matrix(self) -> torch.Tensor:
        """Dense projector Pi = P^+ P of shape (B, K, K), for tests and
        pictures; the hot path uses :meth:`project` instead."""
        p = self.sketch_matrix()
        p_pinv = p.transpose(1, 2) / self._divisors.unsqueeze(1)
        return p_pinv @ p

    def _check_tokens(self, x: torch.Tensor) -> None:
        if x.dim() != 3 or x.shape[:2] != self.hashes.shape:
            raise ValueError(
                f'expected tokens of shape (B, K, C) = ({self.batch_size}, '
                f'{self.num_tokens}, C), got {tuple(x.shape)}')
