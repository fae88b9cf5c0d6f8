from typing import Optional, Sequence, Union

import torch
from mmpretrain.models import SelfSupDataPreprocessor
from mmpretrain.registry import MODELS

from ..backbones.vit_tokens import check_image_size
from ..utils import CountSketch, check_hash_layout, check_sketch_ratio


@MODELS.register_module()
class SketchDataPreprocessor(SelfSupDataPreprocessor):
    """Normalizes the batch, and draws ROPIM's count sketches for it.

    ``forward`` normalizes as ``SelfSupDataPreprocessor`` does and checks
    that the images tile into patches; ``ROPIM.loss`` then calls
    :meth:`draw_sketch` on the normalized batch, so the sketch goes to the
    model as one :class:`CountSketch`. The sketches are drawn on the
    batch's device from torch's global RNG, which MMEngine seeds
    (``randomness=dict(seed=...)``), so runs are reproducible.

    Args:
        patch_size (int): Patch size of the backbone; K = (H/p) * (W/p).
        rho (float): Sketch ratio K'/K in (0, 1). Defaults to 1/7, the
            authors' 28 of 196 tokens.
        hash_layout (str): 'blocks' (default, the authors': each raster
            block of K' tokens gives every bucket one token) or 'shuffled'
            (bucket entries shuffled over all positions), see
            :meth:`CountSketch.draw`.
        mean, std, to_rgb, ...: As in ``SelfSupDataPreprocessor``.
    """

    def __init__(self,
                 patch_size: int = 16,
                 rho: float = 1 / 7,
                 hash_layout: str = 'blocks',
                 mean: Optional[Sequence[Union[float, int]]] = None,
                 std: Optional[Sequence[Union[float, int]]] = None,
                 to_rgb: bool = False,
                 **kwargs) -> None:
        super().__init__(mean=mean, std=std, to_rgb=to_rgb, **kwargs)
        if not isinstance(patch_size, int) or patch_size < 1:
            raise ValueError(
                f'patch_size must be a positive integer, got {patch_size!r}')
        check_sketch_ratio(rho)
        check_hash_layout(hash_layout)
        self.hash_layout = hash_layout
        self.patch_size = patch_size
        self.rho = rho

    def forward(self, data: dict, training: bool = False) -> dict:
        """Normalize the images and check that they tile into patches.

        Args:
            data (dict): A batch from the dataloader.
            training (bool): Whether in training mode.

        Returns:
            dict: ``inputs`` (B, 3, H, W) and ``data_samples``.
        """
        data = super().forward(data, training)
        inputs = data['inputs']
        if not isinstance(inputs, torch.Tensor):
            raise TypeError(
                'SketchDataPreprocessor expects one view per image (a (B, C, '
                f'H, W) batch), got a list of {len(inputs)} views: drop the '
                "pipeline's second view (e.g. second_size of "
                'RandomResizedCropAndInterpolationWithTwoPic, or MultiView)')
        check_image_size(inputs.shape[-2:], self.patch_size)
        return data

    def draw_sketch(self, inputs: torch.Tensor) -> CountSketch:
        """One fresh count sketch per image of a batch.

        Args:
            inputs (torch.Tensor): The batch (B, C, H, W) this preprocessor
                returned.

        Returns:
            CountSketch: B sketches of the (H/p) * (W/p) tokens into
            round(rho * K) buckets.
        """
        check_image_size(inputs.shape[-2:], self.patch_size)
        num_tokens = (inputs.shape[-2] // self.patch_size) * (
            inputs.shape[-1] // self.patch_size)
        return CountSketch.draw(
            inputs.shape[0],
            num_tokens,
            self.rho,
            device=inputs.device,
            hash_layout=self.hash_layout)
