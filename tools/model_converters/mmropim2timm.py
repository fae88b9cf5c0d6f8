"""Convert a pre-training or fine-tuning checkpoint to a timm state dict.

The ViT of PR-MIM / MAE / MFF / SimMIM + PR-MIM and ROPIM's plain ViT become
timm's ``VisionTransformer``; ROPIM's BEiT-style ViT (and a fine-tuned
``BEiTViT``) becomes timm's ``Beit``. The output holds plain tensors only
(``torch.load(..., weights_only=True)``), or is a ``.safetensors`` file when
OUT ends so; it loads with ``strict=True`` into the model the tool prints,
e.g.::

    python tools/model_converters/mmropim2timm.py \\
        work_dirs/prmim/epoch_100.pth prmim_vit-base-p16_timm.safetensors
    # -> timm.create_model('vit_base_patch16_224', num_classes=0)
    #    .load_state_dict(safetensors.torch.load_file(OUT), strict=True)

A pre-training checkpoint gives the encoder with its final norm (timm's
``global_pool='token'``, ``num_classes=0``); a fine-tuning checkpoint of an
``ImageClassifier`` with mean pooling gives ``fc_norm`` and ``head`` as well
(timm's ``global_pool='avg'``). Pre-training-only parts (decoders, heads, the
MAE mask token, MFF's fusion layers) are left out and listed.
"""
import os.path as osp
import re
import sys
from typing import Dict, List, Tuple

import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmropim.utils import extract_backbone_weights, load_local_checkpoint
from tools.argument_types import (checkpoint_converter_parser,
                                  parse_converter_args)

# (pattern, replacement) on backbone keys, first match wins
RENAMES = [
    (r'^patch_embed\.projection\.', 'patch_embed.proj.'),
    (r'^layers\.(\d+)\.ln1\.', r'blocks.\1.norm1.'),
    (r'^layers\.(\d+)\.ln2\.', r'blocks.\1.norm2.'),
    (r'^layers\.(\d+)\.attn\.', r'blocks.\1.attn.'),
    (r'^layers\.(\d+)\.ffn\.layers\.0\.0\.', r'blocks.\1.mlp.fc1.'),
    (r'^layers\.(\d+)\.ffn\.layers\.1\.', r'blocks.\1.mlp.fc2.'),
    (r'^layers\.(\d+)\.gamma_([12])$', r'blocks.\1.gamma_\2'),
    (r'^ln1\.', 'norm.'),  # final norm (pre-training, token pooling)
    (r'^ln2\.', 'fc_norm.'),  # norm after mean pooling (fine-tuning)
    (r'^(cls_token|pos_embed)$', r'\1'),
    (r'^rel_pos_bias\.relative_position_bias_table$',
     'rel_pos_bias.relative_position_bias_table'),
]
# pre-training-only backbone parts that timm's models do not have
PRETRAINING_ONLY = (r'^mask_token$', r'^proj_layers\.', r'^proj_weights$')
# timm rebuilds these from the window size (non-persistent buffers)
REBUILT_BUFFERS = r'(^|\.)relative_position_index$'
TABLE = 'relative_position_bias_table'
# timm names for the widths of MMPretrain's named archs (heads per width)
NAMED_ARCHS = {
    192: ('tiny', 3),
    384: ('small', 6),
    768: ('base', 12),
    1024: ('large', 16),
}


def convert_backbone(state: Dict[str, torch.Tensor]
                     ) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Rename backbone keys to timm's.

    Args:
        state (dict[str, torch.Tensor]): Backbone weights without prefix.

    Returns:
        tuple: The timm state dict and the keys left out (pre-training-only
        parts and buffers timm rebuilds).

    Raises:
        KeyError: A key with no timm counterpart, named.
    """
    converted, left_out = {}, []
    for key, value in state.items():
        if re.search(REBUILT_BUFFERS, key) or any(
                re.search(p, key) for p in PRETRAINING_ONLY):
            left_out.append(key)
            continue
        for pattern, replacement in RENAMES:
            if re.search(pattern, key):
                converted[re.sub(pattern, replacement, key)] = \
                    value.detach().clone().contiguous()
                break
        else:
            raise KeyError(
                f'backbone weight {key!r} has no timm counterpart (known: '
                'the ViT / BEiT weights of MMPretrain); convert a ViT or '
                'BEiT-style checkpoint')
    return converted, left_out


def convert_checkpoint(checkpoint: dict) -> Tuple[dict, List[str], str]:
    """Convert a loaded checkpoint.

    Args:
        checkpoint (dict): A pre-training, fine-tuning or backbone-only
            checkpoint.

    Returns:
        tuple: The timm state dict, the keys left out, and ``'beit'`` or
        ``'vit'`` (the timm family it loads into).
    """
    state = checkpoint.get('state_dict', checkpoint)
    converted, left_out = convert_backbone(
        extract_backbone_weights(checkpoint))
    for name in ('weight', 'bias'):  # LinearClsHead of a fine-tuned model
        if f'head.fc.{name}' in state:
            converted[f'head.{name}'] = state[f'head.fc.{name}'].clone()
    if 'patch_embed.proj.weight' not in converted:
        raise KeyError('no patch embedding (backbone.patch_embed.projection) '
                       'in the checkpoint: is it a ViT checkpoint?')
    beit = any(k.endswith(('q_bias', 'gamma_1')) or 'relative_position' in k
               for k in converted)
    return converted, left_out, 'beit' if beit else 'vit'


def timm_constructor(state: Dict[str, torch.Tensor], family: str) -> str:
    """The timm call whose model takes ``state`` with ``strict=True``."""
    weight = state['patch_embed.proj.weight']
    width, in_chans, patch = weight.shape[0], weight.shape[1], weight.shape[2]
    depth = len({k.split('.')[1] for k in state if k.startswith('blocks.')})
    pooling = 'avg' if 'fc_norm.weight' in state else 'token'
    num_classes = state['head.weight'].shape[0] if 'head.weight' in state \
        else 0
    if 'pos_embed' in state:
        grid = round((state['pos_embed'].shape[1] - 1)**.5)
    else:
        key = next(k for k in state if k.endswith(TABLE))
        grid = round(((state[key].shape[0] - 3)**.5 + 1) / 2)
    img_size = grid * patch
    args = f'num_classes={num_classes}, global_pool={pooling!r}'
    named = NAMED_ARCHS.get(width)
    depths = {'tiny': 12, 'small': 12, 'base': 12, 'large': 24}
    if family == 'beit':
        rel = next(k for k in state if k.endswith(TABLE))
        heads = state[rel].shape[1]
        shared = rel.startswith('rel_pos_bias.')
        extra = (f'use_abs_pos_emb={"pos_embed" in state}, '
                 f'use_rel_pos_bias={not shared}, '
                 f'use_shared_rel_pos_bias={shared}, init_values='
                 f'{"0.1" if "blocks.0.gamma_1" in state else "None"}')
        if named and named[0] in ('base', 'large') and depth == depths[
                named[0]] and patch == 16 and in_chans == 3:
            return (f"timm.create_model('beit_{named[0]}_patch16_"
                    f"{img_size}', {args}, {extra})")
        return (f'timm.models.beit.Beit(img_size={img_size}, patch_size='
                f'{patch}, in_chans={in_chans}, embed_dim={width}, depth='
                f'{depth}, num_heads={heads}, {args}, {extra})')
    if named and depth == depths[named[0]] and patch == 16 \
            and in_chans == 3:
        return (f"timm.create_model('vit_{named[0]}_patch16_{img_size}', "
                f'{args})')
    return (f'timm.models.vision_transformer.VisionTransformer(img_size='
            f'{img_size}, patch_size={patch}, in_chans={in_chans}, '
            f'embed_dim={width}, depth={depth}, num_heads=NUM_HEADS, '
            f'{args})  # NUM_HEADS: your arch\'s')


def save_state(state: Dict[str, torch.Tensor], path: str) -> None:
    """``torch.save`` of plain tensors, or safetensors by the extension."""
    if path.endswith('.safetensors'):
        from safetensors.torch import save_file
        save_file(state, path)
    else:
        torch.save(state, path)


def parse_args(argv=None):
    return parse_converter_args(
        checkpoint_converter_parser(
            __doc__, 'pre-training or fine-tuning checkpoint (or a backbone '
            'file of tools/convert_checkpoint.py)',
            'output (.safetensors for safetensors)'), argv)


def main(argv=None):
    args = parse_args(argv)
    checkpoint = load_local_checkpoint(
        args.src, map_location='cpu', trust=args.trust_checkpoint or None)
    state, left_out, family = convert_checkpoint(checkpoint)
    save_state(state, args.dst)
    print(f'wrote {len(state)} tensors to {args.dst}')
    if left_out:
        print(f'left out {len(left_out)} (pre-training only or rebuilt by '
              f'timm): {", ".join(sorted(left_out))}')
    print(f'load with strict=True into: {timm_constructor(state, family)}')


if __name__ == '__main__':
    main()
