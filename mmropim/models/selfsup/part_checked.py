from typing import Dict, Optional, Tuple

import torch.nn as nn
from mmpretrain.models import BaseSelfSupervisor


class PartCheckedSelfSupervisor(BaseSelfSupervisor):
    """A self-supervisor that refuses, when it is built, parts that cannot
    work with it.

    A subclass lists in ``required_parts`` the class each part must be an
    instance of and what to use instead, so that a config which mixes in
    only some of an algorithm's parts (e.g. ``PRMIM`` with the stock
    ``MAEViT``, which draws its own mask) fails with a message naming the
    part, not deep inside the first step.
    """

    #: part name ('backbone', 'neck', 'head', 'data_preprocessor') ->
    #: (class it must be an instance of, what to use)
    required_parts: Dict[str, Tuple[type, str]] = {}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for part, (cls, advice) in self.required_parts.items():
            module = getattr(self, part, None)
            if not isinstance(module, cls):
                raise TypeError(
                    f'{type(self).__name__} got {type(module).__name__} as '
                    f'its {part}: {advice}')

    def check_image_channels(self, decoded: Optional[int], part: str,
                             advice: str) -> None:
        """Raise unless the part that reconstructs the image gives as many
        channels as the backbone takes.

        Args:
            decoded (int, optional): Channels the reconstruction has; None
                when the part does not say.
            part (str): The part and setting, e.g. ``'head.in_chans'``.
            advice (str): What to set, given the backbone's channels.
        """
        taken = backbone_image_channels(self.backbone)
        if None not in (decoded, taken) and decoded != taken:
            raise ValueError(
                f'the backbone takes {taken}-channel images but {part} '
                f'reconstructs {decoded}: {type(self).__name__} reconstructs '
                f'its input, {advice.format(taken)}')


def backbone_image_channels(backbone: nn.Module) -> Optional[int]:
    """The image channels a ViT's patch embedding takes (None when it has
    no ``patch_embed.projection``)."""
    projection = getattr(getattr(backbone, 'patch_embed', None), 'projection',
                         None)
    return getattr(projection, 'in_channels', None)
