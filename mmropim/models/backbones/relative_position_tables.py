"""Relative position tables of a BEiT-style checkpoint, resized as the
weights load into a backbone of another patch grid."""
import torch

from ...compat import RelativePositionTableLoadHook
from ...utils.scipy_compat import relative_table_resizer


class RelativeTableResizeMixin(RelativePositionTableLoadHook):
    """For subclasses of MMPretrain's ``BEiTViT``: relative position tables
    of another grid size are resized with :func:`relative_table_resizer`
    when weights load, and a shared table (BEiT pre-training,
    ``rel_pos_bias.*``) is first copied into every layer, as ``BEiTViT``
    does. ``BEiTViT``'s own load hook then finds nothing left to resize."""

    # What the host gives (MMPretrain's BEiTViT builds them)
    num_layers: int
    use_rel_pos_bias: bool

    def prepare_relative_position_bias_table(self, state_dict, prefix,
                                             *args, **kwargs):
        shared = prefix + 'rel_pos_bias.relative_position_bias_table'
        if self.use_rel_pos_bias and shared in state_dict:
            table = state_dict.pop(shared)
            state_dict.pop(prefix + 'rel_pos_bias.relative_position_index',
                           None)
            for i in range(self.num_layers):
                state_dict[f'{prefix}layers.{i}.attn.'
                           'relative_position_bias_table'] = table.clone()
        resize = relative_table_resizer()
        for key, current in self.state_dict().items():
            key = prefix + key
            if not key.endswith('relative_position_bias_table') or \
                    key not in state_dict:
                continue
            source = state_dict[key]
            if source.shape == current.shape or \
                    source.shape[1] != current.shape[1]:
                continue  # equal, or heads differ: load_state_dict reports
            # (2S - 1) ** 2 offsets + 3 class-token entries
            src_side = int((source.shape[0] - 3)**0.5)
            dst_side = int((current.shape[0] - 3)**0.5)
            state_dict[key] = torch.cat([
                resize(src_side, dst_side, source[:-3], source.shape[1]),
                source[-3:]
            ])
            state_dict.pop(key.replace('bias_table', 'index'), None)
        super().prepare_relative_position_bias_table(state_dict, prefix,
                                                     *args, **kwargs)
