"""Bad constructor arguments of our components are rejected when the
component is built (or when the value is first known), with a message that
names the argument, the bad value and what is allowed. Tiny modules, no
training: the whole file runs in seconds."""
import numpy as np
import pytest
import torch
from mmengine.registry import HOOKS
from mmpretrain.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS, TRANSFORMS
from mmpretrain.structures import DataSample

import mmropim  # noqa: F401
from mmropim.models.necks.simple_feature_pyramid import SimpleFeaturePyramid
from mmropim.models.utils import split_tokens

MINI = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
TRANSFER = ['TransferViT', 'TransferBEiTViT']


def build_vit(vit_type, **kwargs):
    cfg = dict(type=vit_type, arch=MINI, img_size=32, patch_size=8)  # 4 x 4
    if vit_type in TRANSFER:
        cfg['out_indices'] = (1, )
    cfg.update(kwargs)
    return MODELS.build(cfg)


OUT_INDICES_MESSAGE = (r'out_indices must be increasing layer indices of a '
                       r'2-layer ViT, each in \[-2, 2\).*got ')


@pytest.mark.parametrize('out_indices', [(2, ), (1, 1), (1, 0), (-3, ), ()],
                         ids=['depth', 'repeated', 'decreasing', 'below',
                              'empty'])
def test_transfer_vit_out_indices(out_indices):
    """(2,) on a 2-layer ViT gave no map at all, (1, 1) one map, (1, 0) the
    maps in layer order, silently."""
    with pytest.raises(ValueError, match=OUT_INDICES_MESSAGE):
        build_vit('TransferViT', out_indices=out_indices)


@pytest.mark.parametrize('vit_type', [
    'TransferBEiTViT', 'ROPIMViT', 'ROPIMBEiTViT', 'PRMIMSimMIMViT',
    'PRMIMSimMIMBEiTViT'])
def test_out_indices_beyond_depth_of_other_vits(vit_type):
    with pytest.raises(ValueError, match=OUT_INDICES_MESSAGE + r'\(2,\)'):
        build_vit(vit_type, out_indices=(2, ))


@pytest.mark.parametrize('vit_type', TRANSFER)
@pytest.mark.parametrize('kwargs,error,message', [
    (dict(window_size=True), ValueError,
     r'window_size must be a positive integer, got True'),
    (dict(window_size=5), ValueError,
     r'window_size=5 is larger than the \(4, 4\) patch grid of '
     r'img_size=\(32, 32\): use at most 4'),
    (dict(global_indices=(1, )), ValueError,
     r'global_indices \(1,\) only apply with window attention: set '
     r'window_size'),
    (dict(window_size=2, global_indices=1), TypeError,
     r'global_indices must be a sequence of layer indices, got 1'),
], ids=['window-bool', 'window-too-large', 'global-without-window',
        'global-int'])
def test_window_arguments(vit_type, kwargs, error, message):
    with pytest.raises(error, match=message):
        build_vit(vit_type, **kwargs)


def test_window_attention_needs_one_class_token_and_per_layer_tables():
    """Without a class token the BEiT-style windows failed in a reshape (its
    relative tables include the class token; a plain ViT runs ViTDet's
    blocks without one); a shared relative table (sized for the whole grid)
    reached the windowed layers and failed in the attention."""
    with pytest.raises(ValueError, match='window_size=2 needs the class '
                       'token .* set with_cls_token=True'):
        build_vit('TransferBEiTViT', window_size=2, with_cls_token=False)
    build_vit('TransferViT', window_size=2, with_cls_token=False)
    with pytest.raises(ValueError, match=r'use_rel_pos=True .* needs '
                       r'with_cls_token=False'):
        build_vit('TransferViT', window_size=2, use_rel_pos=True)
    with pytest.raises(ValueError, match='window_size=2 cannot be combined '
                       'with use_shared_rel_pos_bias=True'):
        build_vit('TransferBEiTViT', window_size=2, use_rel_pos_bias=False,
                  use_shared_rel_pos_bias=True)


def test_transfer_beit_window_with_unknown_arch_or_layer_cfgs():
    """An unknown arch was a bare KeyError before BEiTViT could name it;
    layer_cfgs were silently replaced."""
    with pytest.raises(AssertionError, match='Arch nope is not in default'):
        build_vit('TransferBEiTViT', arch='nope', window_size=2)
    with pytest.raises(ValueError, match='layer_cfgs cannot be combined with '
                       'window_size'):
        build_vit('TransferBEiTViT', window_size=2,
                  layer_cfgs=dict(drop_rate=0.1))


def test_prmim_vit_rejects_images_of_another_size():
    """MAE's masked forward failed in a tensor addition (64 vs 16)."""
    backbone = build_vit('PRMIMViT')
    mask = torch.zeros(1, 64)
    mask[:, :48] = 1
    split = split_tokens(mask, torch.zeros_like(mask))
    with pytest.raises(ValueError, match=r'PRMIMViT was built for img_size='
                       r'\(32, 32\) \(a \(4, 4\) patch grid\) but got 64x64'):
        backbone(torch.zeros(1, 3, 64, 64), token_split=split)


@pytest.mark.parametrize('kwargs,message', [
    (dict(scale_factors=()), r'scale_factors must be a non-empty sequence of '
     r'4, 2, 1 and 0.5, got \(\)'),
    (dict(scale_factors=2.0), r'scale_factors must be a non-empty sequence'
     r'.*got 2.0'),
    (dict(in_channels=2), r'in_channels=2 is too small for scale factor 4.0'),
    (dict(out_channels=0), r'out_channels must be a positive integer, got 0'),
], ids=['empty', 'not-a-sequence', 'in-channels', 'out-channels'])
def test_simple_feature_pyramid(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SimpleFeaturePyramid(**{'in_channels': 32, **kwargs})


@pytest.mark.parametrize('cfg,message', [
    (dict(type='PRMIMHead', patch_size=0), 'patch_size must be a positive '
     'integer, got 0'),
    (dict(type='PRMIMHead', patch_size=-4), 'patch_size .*got -4'),
    (dict(type='PRMIMHead', in_chans=0), 'in_chans must be a positive '
     'integer, got 0'),
    (dict(type='PRMIMHead', in_channels=0), 'in_channels must be a positive '
     'integer, got 0'),
    (dict(type='ROPIMHead', patch_size=0), 'patch_size must be a positive '
     'integer, got 0'),
    (dict(type='ROPIMHead', patch_size=2.0), 'patch_size .*got 2.0'),
    (dict(type='ROPIMNeck', in_channels=8, patch_size=-2), 'patch_size must '
     'be a positive integer, got -2'),
    (dict(type='ROPIMNeck', in_channels=0, patch_size=2), 'in_channels must '
     'be a positive integer, got 0'),
    (dict(type='ROPIMNeck', in_channels=8, patch_size=2, out_channels=0),
     'out_channels must be a positive integer, got 0'),
    (dict(type='PRMIMLinearDecoder', in_channels=0, patch_size=2),
     'in_channels must be a positive integer, got 0'),
    (dict(type='SpatialAggregator', channels=0), 'channels must be a '
     'positive integer, got 0'),
    (dict(type='SpatialAggregator', channels=4, kernel_size=True),
     'kernel_size must be a positive odd integer.*got True'),
], ids=['prmim-head-patch-zero', 'prmim-head-patch-negative',
        'prmim-head-in-chans', 'prmim-head-in-channels',
        'ropim-head-patch-zero', 'ropim-head-patch-float',
        'ropim-neck-patch', 'ropim-neck-in-channels',
        'ropim-neck-out-channels', 'linear-decoder-in-channels',
        'aggregator-channels', 'aggregator-kernel-bool'])
def test_heads_necks_and_aggregator_sizes(cfg, message):
    with pytest.raises(ValueError, match=message):
        MODELS.build(cfg)


DECODER = dict(
    type='PRMIMDecoder',
    num_patches=16,
    embed_dim=32,
    decoder_embed_dim=24,
    decoder_depth=1,
    decoder_num_heads=2)


@pytest.mark.parametrize('kwargs,message', [
    (dict(num_patches=60), r'num_patches must be the token count h \* h of a '
     r'square grid.*got 60'),
    (dict(num_patches=0), r'num_patches must be a positive integer, got 0'),
    (dict(decoder_num_heads=5), r'decoder_embed_dim must be a multiple of 4 '
     r'.*and of decoder_num_heads=5, got 24'),
    (dict(decoder_embed_dim=6), r'decoder_embed_dim must be a multiple of 4 '
     r'.*got 6'),
    (dict(embed_dim=0), r'embed_dim must be a positive integer, got 0'),
    (dict(decoder_depth=-1), r'decoder_depth must be a non-negative integer, '
     r'got -1'),
    (dict(mlp_ratio=0), r'mlp_ratio must be a number that gives an FFN of at '
     r'least one channel.*got 0'),
], ids=['not-square', 'zero', 'heads', 'not-multiple-of-4', 'embed-dim',
        'depth', 'mlp-ratio'])
def test_prmim_decoder(kwargs, message):
    """A non-square or zero grid and a width that is no multiple of 4 failed
    in init_weights, a head count that does not divide the width in the
    first forward; zero tokens, a negative depth (no block) and a zero
    mlp_ratio (an FFN without hidden channel) not at all."""
    with pytest.raises(ValueError, match=message):
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
    with pytest.raises(ValueError, match=r'neck.num_patches=64 but the masks '
                       r'from FurthestSampling hold 16 tokens.*set '
                       r'num_patches to 16'):
        model.loss(torch.zeros(2, 3, 32, 32), prmim_samples())


def test_prmim_decoder_embed_dim_must_match_the_encoder():
    """It failed in a matrix product (mat1 and mat2 shapes ...)."""
    decoder = MODELS.build({**DECODER, 'embed_dim': 24})
    with pytest.raises(ValueError, match=r'embed_dim=24 but the encoder gives '
                       r"32-channel tokens: set the neck's embed_dim"):
        decoder(torch.zeros(2, 5, 32), torch.zeros(2, 8, dtype=torch.long))


@pytest.mark.parametrize('kwargs,message', [
    (dict(patch_size=16), r'patch_size=16 cuts the 32x32 images into a '
     r"\(2, 2\) grid but the mask has 16 tokens: set the head's patch_size"),
    (dict(in_channels=16), r'in_channels=16 but the decoder gives 24-channel '
     r"tokens: set the head's in_channels"),
], ids=['patch-size', 'in-channels'])
def test_prmim_head_must_match_the_masks_and_decoder(kwargs, message):
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
    with pytest.raises(ValueError, match=message):
        head.loss(decoded, split, torch.zeros(2, 3, 32, 32), mask)


@pytest.mark.parametrize('kwargs,error,message', [
    (dict(patch_size=0), ValueError,
     'patch_size must be a positive integer, got 0'),
    (dict(patch_size=-16), ValueError,
     'patch_size must be a positive integer, got -16'),
    (dict(input_size=224.0), ValueError,
     'input_size must be a positive integer, got 224.0'),
    (dict(input_size=(224, 224)), ValueError,
     r'input_size must be a positive integer, got \(224, 224\)'),
    (dict(mask_ratio='0.75'), TypeError, "mask_ratio must be a number, got "
     "'0.75'"),
    (dict(throw_ratio=None), TypeError,
     'throw_ratio must be a number, got None'),
    (dict(throw_ratio=float('nan')), ValueError,
     r'throw_ratio must be >= 0 \(a fraction of all tokens\), got nan'),
], ids=['patch-zero', 'patch-negative', 'input-float', 'input-tuple',
        'mask-str', 'throw-none', 'throw-nan'])
def test_furthest_sampling(kwargs, error, message):
    with pytest.raises(error, match=message):
        TRANSFORMS.build(dict(type='FurthestSampling', **kwargs))


@pytest.mark.parametrize('cfg,error,message', [
    (dict(type='FiniteLossHook', interval=2.5), TypeError,
     'interval must be an integer, got 2.5'),
    (dict(type='FiniteLossHook', interval=None), TypeError,
     'interval must be an integer, got None'),
    (dict(type='FiniteLossHook', max_zero_loss_iters=2.5), TypeError,
     r'max_zero_loss_iters must be None \(no check\) or an integer, got 2.5'),
    (dict(type='SafeCheckpointHook', plain='no'), TypeError,
     "plain must be True or False, got 'no'"),
    (dict(type='SafeCheckpointHook', save_random_states=None), TypeError,
     'save_random_states must be True or False, got None'),
], ids=['interval-float', 'interval-none', 'zero-iters-float', 'plain-str',
        'random-states-none'])
def test_hooks(cfg, error, message):
    with pytest.raises(error, match=message):
        HOOKS.build(cfg)


@pytest.mark.parametrize('paramwise_cfg,message', [
    (dict(layer_decay_rate=-0.5), r'layer_decay_rate must be a number in '
     r'\(0, 1\] \(1: no decay\), got -0.5'),
    (dict(layer_decay_rate=0), r'layer_decay_rate .*got 0'),
    (dict(layer_decay_rate=1.5), r'layer_decay_rate .*got 1.5'),
    (dict(layer_decay_rate='0.7'), r"layer_decay_rate .*got '0.7'"),
    (dict(custom_keys={'head': dict(lr_mult=10.)}),
     r"custom_keys\['head'\] sets lr_mult, which layer-wise lr decay "
     r'ignores'),
], ids=['negative', 'zero', 'above-one', 'string', 'lr-mult'])
def test_layer_decay_constructor(paramwise_cfg, message):
    """Negative rates gave negative learning rates, rates above 1 raised
    the early layers' rates, lr_mult was dropped: all silently."""
    with pytest.raises(ValueError, match=message):
        OPTIM_WRAPPER_CONSTRUCTORS.build(
            dict(
                type='BackboneLayerDecayOptimWrapperConstructor',
                optim_wrapper_cfg=dict(
                    type='OptimWrapper',
                    optimizer=dict(type='AdamW', lr=1e-3,
                                   weight_decay=0.05)),
                paramwise_cfg=paramwise_cfg))


@pytest.mark.parametrize('build,message', [
    (lambda: build_vit('TransferViT', window_size=0),
     'window_size must be a positive integer, got 0'),
    (lambda: build_vit('TransferBEiTViT', window_size=0),
     'window_size must be a positive integer, got 0'),
    (lambda: build_vit('TransferViT', window_size=2, global_indices=(2, )),
     r'global_indices \[2\] are not layers of a 2-layer ViT'),
    (lambda: build_vit('TransferBEiTViT', window_size=2,
                       global_indices=(2, )),
     r'global_indices \[2\] are not layers of a 2-layer ViT'),
    (lambda: SimpleFeaturePyramid(32, scale_factors=(3.0, )),
     r'scale factors must be among 4, 2, 1 and 0.5, got 3.0'),
    (lambda: MODELS.build(dict(type='SketchDataPreprocessor', patch_size=0)),
     'patch_size must be a positive integer, got 0'),
    (lambda: MODELS.build(dict(type='SketchDataPreprocessor',
                               patch_size=8.0)),
     'patch_size must be a positive integer, got 8.0'),
    (lambda: HOOKS.build(dict(type='FiniteLossHook', interval=0)),
     'interval must be >= 1, got 0'),
], ids=['vit-window-zero', 'beit-window-zero', 'vit-global-beyond-depth',
        'beit-global-beyond-depth', 'pyramid-unknown-scale',
        'sketch-patch-zero', 'sketch-patch-float', 'loss-hook-interval-zero'])
def test_checks_that_had_no_test(build, message):
    """Checks older than this file, which no test covered (they pass without
    this file's changes to mmropim)."""
    with pytest.raises(ValueError, match=message):
        build()
