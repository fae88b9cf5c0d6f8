from typing import Callable, Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmpretrain.models.necks import SimMIMLinearDecoder
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...utils import config_type_name
from ..backbones.ropim_beit_vit import ROPIMBEiTViT
from ..backbones.ropim_vit import ROPIMViT
from ..data_preprocessors import SketchDataPreprocessor
from ..heads import ROPIMHead
from ..necks.ropim_neck import reconstructed_channels
from ..utils import CountSketch
from .part_checked import PartCheckedSelfSupervisor


@MODELS.register_module()
class ROPIM(PartCheckedSelfSupervisor):
    """Random Orthogonal Projection Image Modeling.

    `Pre-training with Random Orthogonal Projection Image Modeling
    <https://arxiv.org/abs/2310.18737>`_ (ICLR 2024). The patch embeddings of
    each image are projected along the token axis onto a random count-sketch
    subspace (Pi); a linear decoder reconstructs the image, and the loss is
    measured only in the complement subspace (I - Pi), i.e. on what the
    projection removed.

    Args:
        backbone (dict): A ViT whose ``forward(x, token_projection)`` applies
            the projection to the patch embeddings, e.g. ``ROPIMViT`` or
            ``ROPIMBEiTViT``.
        neck (dict): The linear decoder, e.g. ``SimMIMLinearDecoder``.
        head (dict): The complement-space loss, ``ROPIMHead``.
        swap_subspaces (bool): The authors' ablation: feed (I - Pi) Phi to the
            encoder and measure the loss with Pi. Defaults to False.
        data_preprocessor (dict): Must draw the sketches, i.e.
            ``SketchDataPreprocessor`` (its ``rho`` and ``hash_layout``);
            ``loss`` asks it for one sketch per image of the batch.
        **kwargs: Other arguments of ``BaseSelfSupervisor``; a
            ``target_generator`` (e.g. the DALL-E tokenizer a stock BEiT
            config carries) is refused: ROPIM's targets are the pixels.
    """

    required_parts = dict(
        backbone=((ROPIMViT, ROPIMBEiTViT),
                  'ROPIM projects the patch embeddings inside the encoder, '
                  'so use ROPIMBEiTViT (BEiT-style) or ROPIMViT, whose '
                  'forward takes the token projection'),
        head=(ROPIMHead, 'use ROPIMHead, which takes the loss in the '
              'complement subspace of the sketch'),
        data_preprocessor=(
            SketchDataPreprocessor,
            "use dict(type='SketchDataPreprocessor', ...), which draws the "
            'count sketches (when model.data_preprocessor is unset, '
            "MMEngine gives the model the config's top-level "
            'data_preprocessor: set that one to None or to the sketch '
            'preprocessor)'))

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 swap_subspaces: bool = False,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 **kwargs) -> None:
        target_generator = kwargs.get('target_generator')
        if target_generator is not None:
            name = config_type_name(target_generator) or type(
                target_generator).__name__
            raise ValueError(
                'ROPIM reconstructs pixels and uses no target generator, '
                f'got target_generator of type {name!r}: set '
                'model.target_generator=None (a stock BEiT config carries '
                'its tokenizer there)')
        data_preprocessor = data_preprocessor or dict(
            type='SketchDataPreprocessor')
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            data_preprocessor=data_preprocessor,
            **kwargs)
        self.swap_subspaces = swap_subspaces
        if isinstance(self.neck, SimMIMLinearDecoder):
            self.check_image_channels(
                reconstructed_channels(self.neck), type(self.neck).__name__,
                "use neck=dict(type='PixelShuffleDecoder', in_channels=..., "
                'encoder_stride=..., in_chans={})')

    def extract_feat(self, inputs: torch.Tensor):
        """Features of unprojected images (for evaluation and analysis).

        Args:
            inputs (torch.Tensor): Images of shape (B, 3, H, W).

        Returns:
            tuple[torch.Tensor]: The backbone's outputs.
        """
        return self.backbone(inputs)

    def projections(self, sketch: CountSketch) -> Tuple[Callable, Callable]:
        """The projections of the encoder's input and of the loss.

        The one place that decides which subspace of the sketch the encoder
        sees (``swap_subspaces``); training, evaluation and the pictures all
        ask here.

        Args:
            sketch (CountSketch): One sketch per image.

        Returns:
            tuple[Callable, Callable]: ``(input_projection,
            loss_projection)``, each mapping (B, K, C) patch tensors to
            (B, K, C): ``(sketch.project, sketch.complement)``, or the two
            swapped when ``swap_subspaces`` is True.
        """
        if self.swap_subspaces:
            return sketch.complement, sketch.project
        return sketch.project, sketch.complement

    def reconstruct(self, inputs: torch.Tensor,
                    sketch: CountSketch) -> torch.Tensor:
        """Encode the projected patch embeddings and decode pixels.

        Args:
            inputs (torch.Tensor): Images of shape (B, 3, H, W).
            sketch (CountSketch): One sketch per image.

        Returns:
            torch.Tensor: Reconstruction of shape (B, 3, H, W).
        """
        input_projection, _ = self.projections(sketch)
        latent = self.backbone(inputs, token_projection=input_projection)
        return self.neck(latent[-1])

    def loss(self, inputs: torch.Tensor, data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """Compute the ROPIM loss of a batch.

        Args:
            inputs (torch.Tensor): Normalized images of shape (B, 3, H, W).
            data_samples (list[DataSample]): Checked to carry no mask (the
                sketches are drawn here, by the data preprocessor's
                ``draw_sketch``).

        Returns:
            dict[str, torch.Tensor]: ``{'loss': scalar}``.
        """
        if data_samples and 'mask' in data_samples[0]:
            raise ValueError(
                'the data samples carry a mask (the training pipeline draws '
                'one: BEiTMaskGenerator, SimMIMMaskGenerator or '
                'FurthestSampling), which ROPIM would ignore: it projects the '
                'tokens with the count sketches of SketchDataPreprocessor; '
                'remove the mask transform from the pipeline')
        sketch = self.data_preprocessor.draw_sketch(inputs)
        reconstruction = self.reconstruct(inputs, sketch)
        _, loss_projection = self.projections(sketch)
        loss = self.head.loss(reconstruction, inputs, loss_projection)
        return dict(loss=loss)
