from typing import Optional, Sequence, Union

import torch
from mmpretrain.models import SelfSupDataPreprocessor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ..backbones.vit_tokens import check_image_size
from ..utils import CountSketch, check_hash_layout, check_sketch_ratio


@MODELS.register_module()
class SketchDataPreprocessor(SelfSupDataPreprocessor):
    """Normalizes the batch and draws one count sketch per image for ROPIM.

    The sketches are drawn on the batch's device from torch's global RNG,
    which MMEngine seeds (``randomness=dict(seed=...)``), so runs are
    reproducible. Each data sample receives

    - ``sketch_hash`` (K,) long: bucket of every token,
    - ``sketch_sign`` (K,) float: sign of every token,
    - metainfo ``sketch_size``: the number of buckets K',

    and ``ROPIM`` rebuilds the batch's :class:`CountSketch` from them.

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
        """Normalize the images and attach a fresh sketch to each sample.

        Args:
            data (dict): A batch from the dataloader.
            training (bool): Whether in training mode.

        Returns:
            dict: ``inputs`` (B, 3, H, W) and ``data_samples`` carrying the
            sketches.
        """
        data = super().forward(data, training)
        inputs, data_samples = data['inputs'], data['data_samples']
        if not isinstance(inputs, torch.Tensor):
            raise TypeError(
                'SketchDataPreprocessor expects one view per image (a (B, C, '
                f'H, W) batch), got a list of {len(inputs)} views: drop the '
                "pipeline's second view (e.g. second_size of "
                'RandomResizedCropAndInterpolationWithTwoPic, or MultiView)')
        check_image_size(inputs.shape[-2:], self.patch_size)
        num_tokens = (inputs.shape[-2] // self.patch_size) * (
            inputs.shape[-1] // self.patch_size)
        if data_samples is None:
            data_samples = [DataSample() for _ in range(inputs.shape[0])]
        sketch = CountSketch.draw(
            inputs.shape[0],
            num_tokens,
            self.rho,
            device=inputs.device,
            hash_layout=self.hash_layout)
        for sample, hashes, signs in zip(data_samples, sketch.hashes,
                                         sketch.signs):
            sample.set_field(hashes, 'sketch_hash')
            sample.set_field(signs, 'sketch_sign')
            sample.set_metainfo(dict(sketch_size=sketch.sketch_size))
        return dict(inputs=inputs, data_samples=data_samples)
