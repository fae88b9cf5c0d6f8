"""Our ViT / BEiT checkpoints as timm state dicts.

The ViT of PR-MIM / MAE / MFF / SimMIM + PR-MIM and ROPIM's plain ViT map to
timm's ``VisionTransformer``; ROPIM's BEiT-style ViT (and a fine-tuned
``BEiTViT``) to timm's ``Beit``. :func:`convert_checkpoint` renames the keys
and lists what timm has no place for; :func:`timm_constructor` names the timm
call whose model takes the result with ``strict=True``
(``tools/model_converters/mmropim2timm.py`` writes and prints both).
"""
import re
from typing import Dict, List, Tuple

import torch

from mmropim.utils.backbone_checkpoint import extract_backbone_weights

# (pattern, replacement) on backbone keys, first match wins
RENAMES = [
    (r'^patch_embed\.projection\.', 'patch_embed.proj.'),
    (r'^layers\.(\d+)\.ln1\.', r'blocks.\1.norm1.'),
    (r'^layers\.(\d+)\.ln2\.', r'blocks.\1.norm2.'),
    # MMPretrain ViT's layer scale (layer_scale_init_value > 0)
    (r'^layers\.(\d+)\.attn\.gamma1\.weight$', r'blocks.\1.ls1.gamma'),
    (r'^layers\.(\d+)\.ffn\.gamma2\.weight$', r'blocks.\1.ls2.gamma'),
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
# timm's named ViT / BEiT sizes
NAMED_ARCHS = {  # width: (name, heads, depth)
    192: ('tiny', 3, 12),
    384: ('small', 6, 12),
    768: ('base', 12, 12),
    1024: ('large', 16, 24),
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
    for key in state:
        if key.startswith('backbone.'):
            continue
        head = re.fullmatch(r'head\.fc\.(weight|bias)', key)
        if head:  # LinearClsHead of a fine-tuned ImageClassifier
            converted[f'head.{head.group(1)}'] = state[key].clone()
        elif 'backbone.patch_embed.projection.weight' in state:
            left_out.append(key)  # necks, other heads, preprocessor buffers
    if 'patch_embed.proj.weight' not in converted:
        raise KeyError('no patch embedding (backbone.patch_embed.projection) '
                       'in the checkpoint: is it a ViT checkpoint?')
    if 'norm.weight' in converted and 'fc_norm.weight' in converted:
        raise ValueError(
            'the backbone has a final norm (ln1) and a norm after mean '
            'pooling (ln2); timm\'s models have one of them (final_norm='
            'False with out_type=\'avg_featmap\', as MMPretrain\'s '
            'fine-tuning configs set it)')
    beit = any(k.endswith(('q_bias', 'gamma_1')) or TABLE in k
               for k in converted)
    return converted, left_out, 'beit' if beit else 'vit'


def timm_constructor(state: Dict[str, torch.Tensor], family: str) -> str:
    """The timm call whose model takes ``state`` with ``strict=True``: a
    named model (``vit_base_patch16_224``, ``beit_large_patch16_224`` ...)
    where the widths, depth and heads are that model's, else timm's generic
    class with every size given."""
    weight = state['patch_embed.proj.weight']
    width, in_chans, patch = weight.shape[0], weight.shape[1], weight.shape[2]
    depth = len({k.split('.')[1] for k in state if k.startswith('blocks.')})
    mlp_ratio = state['blocks.0.mlp.fc1.weight'].shape[0] / width
    table = next((k for k in state if k.endswith(TABLE)), None)
    if 'pos_embed' in state:
        tokens = state['pos_embed'].shape[1] - ('cls_token' in state)
        grid = round(tokens**.5)
    elif table is not None:
        grid = round(((state[table].shape[0] - 3)**.5 + 1) / 2)
    else:
        raise ValueError('no position embedding and no relative position '
                         'table: cannot tell the image size')
    heads = state[table].shape[1] if table is not None else None
    num_classes = state['head.weight'].shape[0] if 'head.weight' in state \
        else 0
    pooling = 'avg' if 'fc_norm.weight' in state else 'token'
    kwargs = [f'num_classes={num_classes}', f'global_pool={pooling!r}']
    if grid * patch != 224:
        kwargs.append(f'img_size={grid * patch}')
    named = NAMED_ARCHS.get(width)
    standard = (named is not None and patch == 16 and in_chans == 3
                and mlp_ratio == 4 and depth == named[2]
                and heads in (None, named[1]) and 'cls_token' in state)
    if family == 'beit':
        shared = table is not None and table.startswith('rel_pos_bias.')
        kwargs += [f'use_abs_pos_emb={"pos_embed" in state}',
                   f'use_rel_pos_bias={table is not None and not shared}',
                   f'use_shared_rel_pos_bias={shared}']
        kwargs.append('init_values='
                      f'{0.1 if "blocks.0.gamma_1" in state else None}')
        if standard and named[0] in ('base', 'large'):
            return (f"timm.create_model('beit_{named[0]}_patch16_224', "
                    f"{', '.join(kwargs)})")
        return (f'timm.models.beit.Beit(patch_size={patch}, in_chans='
                f'{in_chans}, embed_dim={width}, depth={depth}, num_heads='
                f'{heads}, mlp_ratio={mlp_ratio:g}, {", ".join(kwargs)})')
    if 'blocks.0.ls1.gamma' in state:
        kwargs.append('init_values=0.1')  # any value: the scales load
    if standard and 'blocks.0.attn.qkv.bias' in state:
        return (f"timm.create_model('vit_{named[0]}_patch16_224', "
                f"{', '.join(kwargs)})")
    return (f'timm.models.vision_transformer.VisionTransformer(patch_size='
            f'{patch}, in_chans={in_chans}, embed_dim={width}, depth={depth}, '
            f'num_heads=NUM_HEADS, mlp_ratio={mlp_ratio:g}, qkv_bias='
            f'{"blocks.0.attn.qkv.bias" in state}, class_token='
            f'{"cls_token" in state}, {", ".join(kwargs)})  # NUM_HEADS: '
            "your arch's attention heads")
