from typing import Dict, List, Tuple

import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ..backbones.pipeline_mask_mixin import PipelineMaskMixin
from ..backbones.prmim_mff_vit import PRMIMMFFViT
from ..heads import PRMIMHead
from ..necks import PRMIMDecoder
from ..utils import TokenSplit, split_tokens
from .part_checked import PartCheckedSelfSupervisor


def collect_masks(data_samples: List[DataSample],
                  device: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
    """Stack the ``mask`` and ``throw_mask`` of a batch on ``device``.

    ``PackInputs`` makes ``mask`` a tensor but leaves algorithm keys such as
    ``throw_mask`` as numpy arrays, which ``DataSample.to`` does not move.

    Args:
        data_samples (list[DataSample]): Samples from ``FurthestSampling``.
        device (torch.device): Device of the model inputs.

    Returns:
        tuple[torch.Tensor, torch.Tensor]: (B, h, w) mask and throw mask.
    """
    if not data_samples or 'throw_mask' not in data_samples[0] \
            or 'mask' not in data_samples[0]:
        raise KeyError(
            'PR-MIM needs `mask` and `throw_mask` in every data sample: add '
            "dict(type='FurthestSampling', ...) to the pipeline and "
            "dict(type='PackInputs', algorithm_keys=['throw_mask']) after it")
    masks = [torch.as_tensor(s.mask) for s in data_samples]
    throws = [torch.as_tensor(s.throw_mask) for s in data_samples]
    return (torch.stack(masks).to(device), torch.stack(throws).to(device))


class PipelineMaskSelfSupervisor(PartCheckedSelfSupervisor):
    """Base of the algorithms whose ``mask`` and ``throw_mask`` come from
    ``FurthestSampling`` in the data pipeline: :meth:`loss` stacks them,
    splits the tokens and hands both to :meth:`loss_on_split`. Subclasses
    list their parts in ``required_parts``.
    """

    def loss(self, inputs: torch.Tensor, data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """Compute the loss of a batch.

        Args:
            inputs (torch.Tensor): (B, C, H, W) normalized images.
            data_samples (list[DataSample]): Samples with ``mask`` and
                ``throw_mask`` from ``FurthestSampling``.

        Returns:
            dict[str, torch.Tensor]: ``loss`` and any logged scalars.
        """
        mask, throw_mask = collect_masks(data_samples, inputs.device)
        self.check_mask_grid(inputs, mask)
        return self.loss_on_split(inputs, mask, throw_mask,
                                  split_tokens(mask, throw_mask))

    def check_mask_grid(self, inputs: torch.Tensor,
                        mask: torch.Tensor) -> None:
        """Refuse masks whose grid is not the encoder's patch grid of the
        images (``FurthestSampling``'s ``patch_size`` / ``input_size``
        unlike the backbone's), before any part reports a symptom."""
        stride = self.backbone.patch_embed.projection.stride
        grid = (inputs.shape[-2] // stride[0], inputs.shape[-1] // stride[1])
        if tuple(mask.shape[-2:]) != grid:
            raise ValueError(
                f'the masks from FurthestSampling are a '
                f'{tuple(mask.shape[-2:])} token grid, but the '
                f'{tuple(inputs.shape[-2:])} images in patches of '
                f'{stride[0]} make a {grid} grid: set FurthestSampling\'s '
                f'patch_size={stride[0]} and input_size={inputs.shape[-2]} '
                '(the backbone\'s patch size and the crop size)')

    def loss_on_split(self, inputs: torch.Tensor, mask: torch.Tensor,
                      throw_mask: torch.Tensor,
                      split: TokenSplit) -> Dict[str, torch.Tensor]:
        """The loss given the (B, h, w) mask and throw mask and their token
        split."""
        raise NotImplementedError


@MODELS.register_module()
class PRMIM(PipelineMaskSelfSupervisor):
    """MAE with PR-MIM's progressive partial reconstruction.

    `PR-MIM: Delving Deeper into Partial Reconstruction in Masked Image
    Modeling <https://arxiv.org/abs/2411.15746>`_. The encoder sees the
    visible tokens, the decoder only the visible and retained tokens, and the
    head rebuilds the thrown tokens with a depth-wise convolution before the
    loss over all masked tokens.

    Args:
        backbone (dict): ``PRMIMViT``, or ``PRMIMMFFViT`` for MFF + PR-MIM.
        neck (dict): ``PRMIMDecoder``.
        head (dict): ``PRMIMHead``.
        **kwargs: Other arguments of ``BaseSelfSupervisor``.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ('patch_size', 'in_chans'):
            value = getattr(self.neck, name)
            if value is not None and value != getattr(self.head, name):
                raise ValueError(
                    f'neck.{name}={value} but head.{name}='
                    f'{getattr(self.head, name)}: PR-MIM predicts pixels in '
                    f'PRMIMHead, set the same {name} on both (or drop the '
                    'neck\'s)')
        self.check_image_channels(self.head.in_chans, 'PRMIMHead',
                                  'set head.in_chans={}')
        out_indices = list(getattr(self.backbone, 'out_indices', []))
        last = getattr(self.backbone, 'num_layers', 0) - 1
        if not isinstance(self.backbone, PRMIMMFFViT) and \
                out_indices not in ([], [last]):
            raise ValueError(
                f'backbone.out_indices={out_indices} selects layers that '
                f'only MFF fuses, but the backbone is '
                f'{type(self.backbone).__name__}, which pre-trains on its '
                "last layer and would ignore them: use type='PRMIMMFFViT' "
                'for MFF + PR-MIM, or drop out_indices')

    required_parts = dict(
        backbone=(PipelineMaskMixin,
                  'PR-MIM takes the mask from FurthestSampling in the data '
                  'pipeline, so use PRMIMViT (PRMIMMFFViT for MFF) instead '
                  'of an encoder that draws its own mask'),
        neck=(PRMIMDecoder, 'use PRMIMDecoder, which decodes only the '
              'visible and retained tokens'),
        head=(PRMIMHead, 'use PRMIMHead, which rebuilds the thrown tokens '
              'and takes the loss over all masked tokens'))

    def loss_on_split(self, inputs: torch.Tensor, mask: torch.Tensor,
                      throw_mask: torch.Tensor,
                      split: TokenSplit) -> Dict[str, torch.Tensor]:
        """PR-MIM's loss over all masked tokens, and MFF's fusion weights."""
        num_patches = getattr(self.neck, 'num_patches', None)
        if num_patches is not None and num_patches != mask[0].numel():
            raise ValueError(
                f'neck.num_patches={num_patches} but the masks from '
                f'FurthestSampling hold {mask[0].numel()} tokens (a '
                f'{tuple(mask.shape[-2:])} grid): set num_patches to '
                f'{mask[0].numel()}, (input_size / patch_size) ** 2')
        encoded = self.backbone(inputs, token_split=split)
        decoded = self.neck(encoded[0], split.ids_decoded)
        losses = dict(loss=self.head.loss(decoded, split, inputs, mask))
        if isinstance(self.backbone, PRMIMMFFViT):  # its fusion weights
            losses.update(
                {f'weight_{i}': w
                 for i, w in enumerate(encoded[3])})
        return losses

    def reconstruct(self, inputs: torch.Tensor, mask: torch.Tensor,
                    throw_mask: torch.Tensor) -> torch.Tensor:
        """Predict every token's pixels from the visible tokens, as the
        loss does (the thrown tokens through the head's aggregator).

        Args:
            inputs (torch.Tensor): (B, C, H, W) normalized images.
            mask (torch.Tensor): (B, h, w), 1 = masked.
            throw_mask (torch.Tensor): (B, h, w), 1 = thrown.

        Returns:
            torch.Tensor: (B, h * w, p * p * C) predictions, per-patch
            normalized pixels when the head's ``norm_pix`` is set.
        """
        split = split_tokens(mask, throw_mask)
        latent = self.backbone(inputs, token_split=split)[0]
        decoded = self.neck(latent, split.ids_decoded)
        return self.head.reconstruct(decoded, split, tuple(mask.shape[-2:]))
