import math
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

from ...utils import check_positive_int
from ..token_sampling import check_ratios, random_mask, throw_from_mask


@TRANSFORMS.register_module()
class FurthestSampling(BaseTransform):
    """Draw MAE's random mask and choose which masked tokens to throw.

    PR-MIM's decoder sees the visible tokens and only the *retained* masked
    tokens; the *thrown* ones are rebuilt from their neighbours by the
    spatial aggregator. Furthest sampling retains masked tokens that are
    spatially as dispersed as possible, so every thrown token has decoded
    neighbours. Runs in the data workers (numpy), seeded by the worker's
    numpy RNG, which MMEngine seeds per worker.

    Added keys:

    - ``mask`` (np.ndarray): (h, w) uint8, 1 = masked, exactly
      round(N * mask_ratio) ones (with ``mask_patch_size``: the tokens of
      ceil(B * mask_ratio) of the B blocks). ``PackInputs`` turns it into
      a tensor.
    - ``throw_mask`` (np.ndarray): (h, w) uint8, 1 = thrown, a subset of
      ``mask`` with exactly round(N * throw_ratio) ones. List it in
      ``PackInputs(algorithm_keys=['throw_mask'])``.

    Args:
        input_size (int): Image side in pixels. Defaults to 224.
        patch_size (int): Patch side in pixels. Defaults to 16.
        mask_ratio (float): Fraction of tokens masked. Defaults to 0.75.
        throw_ratio (float): Fraction of ALL tokens thrown,
            0 <= throw_ratio < mask_ratio. Defaults to 0.5.
        mode (str): ``'furthest'`` (PR-MIM) or ``'random'`` (plain partial
            reconstruction, the ablation baseline). Defaults to 'furthest'.
        mask_patch_size (int, optional): Side in pixels of the square
            blocks that are masked together, a multiple of ``patch_size``
            that divides ``input_size``: SimMIM's ``mask_patch_size`` (32
            in its ViT recipe), whose mask generator masks ceil(B *
            mask_ratio) of the B blocks. Retained and thrown tokens are
            still chosen token by token. None (the default) masks single
            tokens, as MAE.
    """

    def __init__(self,
                 input_size: int = 224,
                 patch_size: int = 16,
                 mask_ratio: float = 0.75,
                 throw_ratio: float = 0.5,
                 mode: str = 'furthest',
                 mask_patch_size: Optional[int] = None) -> None:
        check_positive_int(input_size, 'input_size')
        check_positive_int(patch_size, 'patch_size')
        if input_size % patch_size:
            raise ValueError(
                f'input_size {input_size} is not divisible by patch_size '
                f'{patch_size}; use a multiple of {patch_size}')
        if mode not in ('furthest', 'random'):
            raise ValueError(
                f"mode must be 'furthest' or 'random', got {mode!r}")
        self.grid_hw = (input_size // patch_size, ) * 2
        num_tokens = self.grid_hw[0] * self.grid_hw[1]
        self.num_masked, self.num_thrown = check_ratios(
            num_tokens, mask_ratio, throw_ratio)
        self.block = 1  # tokens per block side
        if mask_patch_size is not None:
            check_positive_int(mask_patch_size, 'mask_patch_size')
            if mask_patch_size % patch_size or input_size % mask_patch_size:
                raise ValueError(
                    f'mask_patch_size {mask_patch_size} must be a multiple '
                    f'of patch_size {patch_size} that divides input_size '
                    f'{input_size}, e.g. {2 * patch_size} (SimMIM: 32 for '
                    f'patch 16 at 224 px)')
            self.block = mask_patch_size // patch_size
            num_blocks = (input_size // mask_patch_size)**2
            self.num_masked_blocks = math.ceil(num_blocks * mask_ratio)
            # at least round(N * mask_ratio): check_ratios' bound holds
            self.num_masked = self.num_masked_blocks * self.block**2
        self.mask_patch_size = mask_patch_size
        self.input_size = input_size
        self.patch_size = patch_size
        self.mask_ratio = mask_ratio
        self.throw_ratio = throw_ratio
        self.mode = mode

    def transform(self, results: dict) -> dict:
        """Add ``mask`` and ``throw_mask`` to the results.

        Args:
            results (dict): Results of the previous transforms.

        Returns:
            dict: The results with the two masks.
        """
        img = results.get('img')
        if img is not None and tuple(img.shape[:2]) != (self.input_size, ) * 2:
            raise ValueError(
                f'FurthestSampling was set up for {self.input_size}x'
                f'{self.input_size} images but got {img.shape[0]}x'
                f'{img.shape[1]}; put it after the crop/resize transform and '
                f'match input_size to it')
        rng = np.random.default_rng(np.random.randint(0, 2**31))
        if self.mask_patch_size is None:
            mask = random_mask(self.grid_hw, self.num_masked, rng)
        else:
            blocks_hw = tuple(side // self.block for side in self.grid_hw)
            mask = random_mask(blocks_hw, self.num_masked_blocks, rng)
            mask = mask.repeat(self.block, 0).repeat(self.block, 1)
        results['mask'] = mask
        results['throw_mask'] = throw_from_mask(mask, self.num_thrown, rng,
                                                self.mode)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(input_size={self.input_size}, '
                f'patch_size={self.patch_size}, mask_ratio={self.mask_ratio}, '
                f'throw_ratio={self.throw_ratio}, mode={self.mode!r}, '
                f'mask_patch_size={self.mask_patch_size})')
