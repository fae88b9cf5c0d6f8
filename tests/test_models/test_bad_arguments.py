"""Bad constructor arguments of our components are rejected when the
component is built (or when the value is first known), with a message that
names the argument, the bad value and what is allowed (the tests check those
names, not the wording). Tiny modules, no training: the whole file runs in
seconds."""
import numpy as np
import pytest
import torch
from mmengine.registry import HOOKS
from mmpretrain.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS, TRANSFORMS
from mmpretrain.structures import DataSample

import mmropim  # noqa: F401
from mmropim.models.necks.simple_feature_pyramid import SimpleFeaturePyramid
from mmropim.models.utils import split_tokens
from helpers import raises_naming

MINI = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
TRANSFER = ['TransferViT', 'TransferBEiTViT']


def build_vit(vit_type, **kwargs):
    cfg = dict(type=vit_type, arch=MINI, img_size=32, patch_size=8)  # 4 x 4
    if vit_type in TRANSFER:
        cfg['out_indices'] = (1, )
    cfg.update(kwargs)
    return MODELS.build(cfg)


OUT_INDICES_NAMES = ('out_indices', '[-2, 2)')  # the allowed range


@pytest.mark.parametrize('out_indices', [(2, ), (1, 1), (1, 0), (-3, ), ()],
                         ids=['depth', 'repeated', 'decreasing', 'below',
                              'empty'])
def test_transfer_vit_out_indices(out_indices):
    """(2,) on a 2-layer ViT gave no map at all, (1, 1) one map, (1, 0) the
    maps in layer order, silently."""
    with raises_naming(ValueError, *OUT_INDICES_NAMES, str(out_indices)):
        build_vit('TransferViT', out_indices=out_indices)


@pytest.mark.parametrize('vit_type', [
    'TransferBEiTViT', 'ROPIMViT', 'ROPIMBEiTViT', 'PRMIMSimMIMViT',
    'PRMIMSimMIMBEiTViT'])
def test_out_indices_beyond_depth_of_other_vits(vit_type):
    with raises_naming(ValueError, *OUT_INDICES_NAMES, '(2,)'):
        build_vit(vit_type, out_indices=(2, ))


@pytest.mark.parametrize('vit_type', TRANSFER)
@pytest.mark.parametrize('kwargs,error,names', [
    (dict(window_size=True), ValueError, ('window_size', 'True')),
    (dict(window_size=5), ValueError,
     ('window_size=5', '(4, 4)', 'img_size=(32, 32)')),
    (dict(global_indices=(1, )), ValueError,
     ('global_indices', '(1,)', 'window_size')),
    (dict(window_size=2, global_indices=1), TypeError,
     ('global_indices', 'sequence', '1')),
], ids=['window-bool', 'window-too-large', 'global-without-window',
        'global-int'])
def test_window_arguments(vit_type, kwargs, error, names):
    with raises_naming(error, *names):
        build_vit(vit_type, **kwargs)


def test_window_attention_needs_one_class_token_and_per_layer_tables():
    """Without a class token the BEiT-style windows failed in a reshape (its
    relative tables include the class token; a plain ViT runs ViTDet's
    blocks without one); a shared relative table (sized for the whole grid)
    reached the windowed layers and failed in the attention."""
    with raises_naming(ValueError, 'window_size=2', 'with_cls_token=True'):
        build_vit('TransferBEiTViT', window_size=2, with_cls_token=False)
    build_vit('TransferViT', window_size=2, with_cls_token=False)
    with raises_naming(ValueError, 'use_rel_pos=True', 'with_cls_token=False'):
        build_vit('TransferViT', window_size=2, use_rel_pos=True)
    with raises_naming(ValueError, 'window_size=2',
                       'use_shared_rel_pos_bias=True'):
        build_vit('TransferBEiTViT', window_size=2, use_rel_pos_bias=False,
                  use_shared_rel_pos_bias=True)


def test_transfer_beit_window_with_unknown_arch_or_layer_cfgs():
    """An unknown arch was a bare KeyError before BEiTViT could name it
    (BEiTViT's own error, which names it, comes first now); layer_cfgs were
    silently replaced."""
    with raises_naming(AssertionError, 'nope'):
        build_vit('TransferBEiTViT', arch='nope', window_size=2)
    with raises_naming(ValueError, 'layer_cfgs', 'window_size'):
        build_vit('TransferBEiTViT', window_size=2,
                  layer_cfgs=dict(drop_rate=0.1))


def test_prmim_vit_rejects_images_of_another_size():
    """MAE's masked forward failed in a tensor addition (64 vs 16)."""
    backbone = build_vit('PRMIMViT')
    mask = torch.zeros(1, 64)
    mask[:, :48] = 1
    split = split_tokens(mask, torch.zeros_like(mask))
    with raises_naming(ValueError, 'PRMIMViT', 'img_size=(32, 32)', '64x64'):
        backbone(torch.zeros(1, 3, 64, 64), token_split=split)


@pytest.mark.parametrize('kwargs,names', [
    (dict(scale_factors=()), ('scale_factors', '4, 2, 1', '0.5', '()')),
    (dict(scale_factors=2.0), ('scale_factors', '2.0')),
    (dict(in_channels=2), ('in_channels=2', '4.0')),
    (dict(out_channels=0), ('out_channels', '0')),
], ids=['empty', 'not-a-sequence', 'in-channels', 'out-channels'])
def test_simple_feature_pyramid(kwargs, names):
    with raises_naming(ValueError, *names):
        SimpleFeaturePyramid(**{'in_channels': 32, **kwargs})


@pytest.mark.parametrize('cfg,names', [
    (dict(type='PRMIMHead', patch_size=0), ('patch_size', '0')),
    (dict(type='PRMIMHead', patch_size=-4), ('patch_size', '-4')),
    (dict(type='PRMIMHead', in_chans=0), ('in_chans', '0')),
    (dict(type='PRMIMHead', in_channels=0), ('in_channels', '0')),
    (dict(type='ROPIMHead', patch_size=0), ('patch_size', '0')),
    (dict(type='ROPIMHead', patch_size=2.0), ('patch_size', '2.0')),
    (dict(type='PixelShuffleDecoder', in_channels=8, encoder_stride=-2),
     ('encoder_stride', '-2')),
    (dict(type='PixelShuffleDecoder', in_channels=0, encoder_stride=2),
     ('in_channels', '0')),
    (dict(type='PixelShuffleDecoder', in_channels=8, encoder_stride=2,
          in_chans=0), ('in_chans', '0')),
    (dict(type='PRMIMLinearDecoder', in_channels=0, patch_size=2),
     ('in_channels', '0')),
    (dict(type='SpatialAggregator', channels=0), ('channels', '0')),
    (dict(type='SpatialAggregator', channels=4, kernel_size=True),
     ('kernel_size', 'odd', 'True')),
], ids=['prmim-head-patch-zero', 'prmim-head-patch-negative',
        'prmim-head-in-chans', 'prmim-head-in-channels',
        'ropim-head-patch-zero', 'ropim-head-patch-float',
        'pixel-shuffle-stride', 'pixel-shuffle-in-channels',
        'pixel-shuffle-in-chans', 'linear-decoder-in-channels',
        'aggregator-channels', 'aggregator-kernel-bool'])
def test_heads_necks_and_aggregator_sizes(cfg, names):
    with raises_naming(ValueError, *names):
        MODELS.build(cfg)


DECODER = dict(
    type='PRMIMDecoder',
    num_patches=16,
    embed_dim=32,
    decoder_embed_dim=24,
    decoder_depth=1,
    decoder_num_heads=2)


@pytest.mark.parametrize('kwargs,names', [
    (dict(num_patches=60), ('num_patches', 'square', '60')),
    (dict(num_patches=0), ('num_patches', '0')),
    (dict(decoder_num_heads=5),
     ('decoder_embed_dim', 'multiple of 4', 'decoder_num_heads=5', '24')),
    (dict(decoder_embed_dim=6), ('decoder_embed_dim', 'multiple of 4', '6')),
    (dict(embed_dim=0), ('embed_dim', '0')),
    (dict(decoder_depth=-1), ('decoder_depth', '-1')),
    (dict(mlp_ratio=0), ('mlp_ratio', 'decoder_embed_dim', '0')),
], ids=['not-square', 'zero', 'heads', 'not-multiple-of-4', 'embed-dim',
        'depth', 'mlp-ratio'])
def test_prmim_decoder(kwargs, names):
    """A non-square or zero grid and a width that is no multiple of 4 failed
    in init_weights, a head count that does not divide the width in the
    first forward; zero tokens, a negative depth (no block) and a zero
    mlp_ratio (an FFN without hidden channel) not at all."""
    with raises_naming(ValueError, *names):
        MODELS.build({**DECODER, **kwargs})


def prmim_samples(num=2):
    """FurthestSampling masks of a 4 x 4 grid (32 px images, 8 px patches)."""
    transform = TRANSFORMS.build(
        dict(type='FurthestSampling', input_size=32, patch_size=8,
             mask_ratio=0.75, throw_ratio=0.25))
    np.random.seed(0)
    samples = []
    for _ in range(num):
        out = transform(dict(img=np.zeros((32, 32, 3), np.uint8)))
        sample = DataSample()
        sample.set_mask(out['mask'])
        sample.set_field(out['throw_mask'], 'throw_mask')
        samples.append(sample)
    return samples


def test_prmim_decoder_num_patches_must_match_the_masks():
    """num_patches=64 for a 4 x 4 grid trained silently with the position
    embedding of the first 16 tokens of an 8 x 8 grid."""
    model = MODELS.build(
        dict(
            type='PRMIM',
            backbone=dict(
                type='PRMIMViT', arch=MINI, img_size=32, patch_size=8),
            neck={**DECODER, 'num_patches': 64},
            head=dict(
                type='PRMIMHead',
                in_channels=24,
                patch_size=8,
                aggregator=dict(type='SpatialAggregator', kernel_size=3))))
    with raises_naming(ValueError, 'neck.num_patches=64', 'FurthestSampling',
                       '16'):
        model.loss(torch.zeros(2, 3, 32, 32), prmim_samples())


def test_prmim_decoder_embed_dim_must_match_the_encoder():
    """It failed in a matrix product (mat1 and mat2 shapes ...)."""
    decoder = MODELS.build({**DECODER, 'embed_dim': 24})
    with raises_naming(ValueError, 'embed_dim=24', '32-channel'):
        decoder(torch.zeros(2, 5, 32), torch.zeros(2, 8, dtype=torch.long))


@pytest.mark.parametrize('kwargs,names', [
    (dict(patch_size=16), ('patch_size=16', '32x32', '(2, 2)', '16 tokens')),
    (dict(in_channels=16), ('in_channels=16', '24-channel')),
], ids=['patch-size', 'in-channels'])
def test_prmim_head_must_match_the_masks_and_decoder(kwargs, names):
    """A head patch of 16 for an 8 px backbone failed in a scatter index, a
    head narrower than the decoder in a LayerNorm."""
    head = MODELS.build(
        dict(type='PRMIMHead', **{'in_channels': 24, 'patch_size': 8,
                                  'aggregator': None, **kwargs}))
    samples = prmim_samples()
    mask = torch.stack([torch.as_tensor(s.mask) for s in samples])
    throw = torch.stack([torch.as_tensor(s.throw_mask) for s in samples])
    split = split_tokens(mask, throw)
    decoded = torch.zeros(2, 1 + split.ids_decoded.shape[1], 24)
    with raises_naming(ValueError, *names):
        head.loss(decoded, split, torch.zeros(2, 3, 32, 32), mask)


@pytest.mark.parametrize('kwargs,error,names', [
    (dict(patch_size=0), ValueError, ('patch_size', '0')),
    (dict(patch_size=-16), ValueError, ('patch_size', '-16')),
    (dict(input_size=224.0), ValueError, ('input_size', '224.0')),
    (dict(input_size=(224, 224)), ValueError, ('input_size', '(224, 224)')),
    (dict(mask_ratio='0.75'), TypeError, ('mask_ratio', "'0.75'")),
    (dict(throw_ratio=None), TypeError, ('throw_ratio', 'None')),
    (dict(throw_ratio=float('nan')), ValueError,
     ('throw_ratio', '>= 0', 'nan')),
], ids=['patch-zero', 'patch-negative', 'input-float', 'input-tuple',
        'mask-str', 'throw-none', 'throw-nan'])
def test_furthest_sampling(kwargs, error, names):
    with raises_naming(error, *names):
        TRANSFORMS.build(dict(type='FurthestSampling', **kwargs))


@pytest.mark.parametrize('cfg,error,names', [
    (dict(type='FiniteLossHook', interval=2.5), TypeError,
     ('interval', '2.5')),
    (dict(type='FiniteLossHook', interval=None), TypeError,
     ('interval', 'None')),
    (dict(type='FiniteLossHook', max_zero_loss_iters=2.5), TypeError,
     ('max_zero_loss_iters', 'None', '2.5')),
    (dict(type='SafeCheckpointHook', plain='no'), TypeError,
     ('plain', 'True', 'False', "'no'")),
    (dict(type='SafeCheckpointHook', save_random_states=None), TypeError,
     ('save_random_states', 'True', 'False', 'None')),
], ids=['interval-float', 'interval-none', 'zero-iters-float', 'plain-str',
        'random-states-none'])
def test_hooks(cfg, error, names):
    with raises_naming(error, *names):
        HOOKS.build(cfg)


@pytest.mark.parametrize('paramwise_cfg,names', [
    (dict(layer_decay_rate=-0.5), ('layer_decay_rate', '(0, 1]', '-0.5')),
    (dict(layer_decay_rate=0), ('layer_decay_rate', '(0, 1]', '0')),
    (dict(layer_decay_rate=1.5), ('layer_decay_rate', '(0, 1]', '1.5')),
    (dict(layer_decay_rate='0.7'), ('layer_decay_rate', '(0, 1]', "'0.7'")),
    (dict(custom_keys={'head': dict(lr_mult=10.)}),
     ("custom_keys['head']", 'lr_mult')),
], ids=['negative', 'zero', 'above-one', 'string', 'lr-mult'])
def test_layer_decay_constructor(paramwise_cfg, names):
    """Negative rates gave negative learning rates, rates above 1 raised
    the early layers' rates, lr_mult was dropped: all silently."""
    with raises_naming(ValueError, *names):
        OPTIM_WRAPPER_CONSTRUCTORS.build(
            dict(
                type='BackboneLayerDecayOptimWrapperConstructor',
                optim_wrapper_cfg=dict(
                    type='OptimWrapper',
                    optimizer=dict(type='AdamW', lr=1e-3,
                                   weight_decay=0.05)),
                paramwise_cfg=paramwise_cfg))


@pytest.mark.parametrize('build,names', [
    (lambda: build_vit('TransferViT', window_size=0), ('window_size', '0')),
    (lambda: build_vit('TransferBEiTViT', window_size=0),
     ('window_size', '0')),
    (lambda: build_vit('TransferViT', window_size=2, global_indices=(2, )),
     ('global_indices', '[2]', '2-layer')),
    (lambda: build_vit('TransferBEiTViT', window_size=2,
                       global_indices=(2, )),
     ('global_indices', '[2]', '2-layer')),
    (lambda: SimpleFeaturePyramid(32, scale_factors=(3.0, )),
     ('4, 2, 1', '0.5', '3.0')),
    (lambda: MODELS.build(dict(type='SketchDataPreprocessor', patch_size=0)),
     ('patch_size', '0')),
    (lambda: MODELS.build(dict(type='SketchDataPreprocessor',
                               patch_size=8.0)), ('patch_size', '8.0')),
    (lambda: HOOKS.build(dict(type='FiniteLossHook', interval=0)),
     ('interval', '>= 1', '0')),
], ids=['vit-window-zero', 'beit-window-zero', 'vit-global-beyond-depth',
        'beit-global-beyond-depth', 'pyramid-unknown-scale',
        'sketch-patch-zero', 'sketch-patch-float', 'loss-hook-interval-zero'])
def test_checks_that_had_no_test(build, names):
    """Checks older than this file, which no test covered (they pass without
    this file's changes to mmropim)."""
    with raises_naming(ValueError, *names):
        build()
