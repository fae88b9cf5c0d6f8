import math

import pytest
import torch
import torch.nn as nn
from mmpretrain.models import BEiTViT, VisionTransformer
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import mmropim  # noqa: F401
from mmropim.models import CountSketch, ROPIMHead, patchify
from helpers import raises_naming

MINI_ARCH = dict(
    embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)


def mini_ropim(backbone_type='ROPIMBEiTViT', img_size=32, patch_size=8,
               **model_kwargs):
    cfg = dict(
        type='ROPIM',
        data_preprocessor=dict(
            type='SketchDataPreprocessor',
            patch_size=patch_size,
            rho=0.25,
            mean=[127.5] * 3,
            std=[64.] * 3),
        backbone=dict(
            type=backbone_type,
            arch=MINI_ARCH,
            img_size=img_size,
            patch_size=patch_size),
        neck=dict(type='SimMIMLinearDecoder', in_channels=32,
                  encoder_stride=patch_size),
        head=dict(
            type='ROPIMHead',
            patch_size=patch_size,
            loss=dict(type='PixelReconstructionLoss', criterion='L1')),
        **model_kwargs)
    return MODELS.build(cfg)


def batch(num=2, size=32):
    images = torch.randint(0, 256, (num, 3, size, size), dtype=torch.uint8)
    return dict(inputs=images, data_samples=[DataSample() for _ in range(num)])


@pytest.mark.parametrize('backbone_type', ['ROPIMViT', 'ROPIMBEiTViT'])
def test_ropim_loss_backpropagates_to_patch_embedding(backbone_type):
    model = mini_ropim(backbone_type)
    data = model.data_preprocessor(batch(), training=True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss'} and losses['loss'].ndim == 0
    assert losses['loss'].item() > 0
    losses['loss'].backward()
    grad = model.backbone.patch_embed.projection.weight.grad
    assert grad is not None and grad.abs().sum() > 0
    assert model.neck.decoder[0].weight.grad.abs().sum() > 0


def test_preprocessor_draws_one_seeded_sketch_per_image():
    model = mini_ropim()
    data = model.data_preprocessor(batch(3), training=True)
    torch.manual_seed(0)
    first = model.data_preprocessor.draw_sketch(data['inputs'])
    torch.manual_seed(0)
    second = model.data_preprocessor.draw_sketch(data['inputs'])
    assert first.hashes.shape == (3, 16) and first.sketch_size == 4
    assert torch.equal(first.hashes, second.hashes)
    assert torch.equal(first.signs, second.signs)
    assert not torch.equal(first.hashes[0], first.hashes[1])
    # normalization happened
    assert data['inputs'].dtype == torch.float32
    assert data['inputs'].abs().max() <= 127.5 / 64 + 1e-6


def test_loss_uses_the_sketch_the_preprocessor_draws(monkeypatch):
    """ROPIM's loss projects with the preprocessor's sketch of this batch
    (drawn once, in the loss) and measures the loss in its complement."""
    model = mini_ropim()
    data = model.data_preprocessor(batch(2), training=True)
    drawn = []
    draw_sketch = model.data_preprocessor.draw_sketch
    monkeypatch.setattr(model.data_preprocessor, 'draw_sketch',
                        lambda inputs: drawn.append(draw_sketch(inputs))
                        or drawn[-1])
    torch.manual_seed(3)
    loss = model(**data, mode='loss')['loss']
    assert len(drawn) == 1
    sketch = drawn[0]
    expected = model.head.loss(model.reconstruct(data['inputs'], sketch),
                               data['inputs'], sketch.complement)
    assert torch.allclose(loss, expected)


def test_a_pipeline_mask_is_refused_at_the_first_loss():
    """A mask drawn in the pipeline (BEiTMaskGenerator, SimMIMMaskGenerator,
    FurthestSampling) that ROPIM would ignore: refused by the model itself,
    so MMPretrain's own tools/train.py (which skips our config checks) also
    stops."""
    model = mini_ropim()
    data = model.data_preprocessor(batch(), training=True)
    for sample in data['data_samples']:
        sample.set_mask(torch.zeros(4, 4, dtype=torch.bool))
    with raises_naming(ValueError, 'mask', 'ROPIM', 'remove'):
        model(**data, mode='loss')


@pytest.mark.parametrize('backbone_type,parent',
                         [('ROPIMViT', VisionTransformer),
                          ('ROPIMBEiTViT', BEiTViT)])
def test_backbone_with_identity_projection_is_the_parent_vit(
        backbone_type, parent):
    backbone = MODELS.build(
        dict(type=backbone_type, arch=MINI_ARCH, img_size=32, patch_size=8))
    backbone.eval()
    x = torch.randn(2, 3, 32, 32)
    projected = backbone(x, token_projection=lambda tokens: tokens)
    plain = backbone(x)
    assert projected[0].shape == (2, 32, 4, 4)
    torch.testing.assert_close(projected[0], plain[0])
    # and the weights are exactly the parent's: same keys, same shapes
    kwargs = dict(arch=MINI_ARCH, img_size=32, patch_size=8,
                  out_type='featmap')
    if parent is BEiTViT:
        kwargs.update(
            use_rel_pos_bias=False, use_shared_rel_pos_bias=True,
            final_norm=True)
    reference = parent(**kwargs)
    assert {k: v.shape for k, v in backbone.state_dict().items()} == \
        {k: v.shape for k, v in reference.state_dict().items()}


def test_backbone_applies_the_projection_to_patch_embeddings():
    backbone = MODELS.build(
        dict(type='ROPIMViT', arch=MINI_ARCH, img_size=32, patch_size=8))
    seen = {}

    def spy(tokens):
        seen['shape'] = tokens.shape
        return torch.zeros_like(tokens)

    backbone.eval()
    x = torch.randn(2, 3, 32, 32)
    out_zeroed = backbone(x, token_projection=spy)[0]
    out_other = backbone(torch.randn(2, 3, 32, 32), token_projection=spy)[0]
    assert seen['shape'] == (2, 16, 32)
    # with all patch embeddings zeroed the image content no longer matters
    torch.testing.assert_close(out_zeroed, out_other)


def test_head_loss_is_zero_when_reconstruction_is_perfect_in_complement():
    head = ROPIMHead(patch_size=4)
    target = torch.randn(2, 3, 16, 16)
    sketch = CountSketch.draw(2, 16, 0.25)
    # change the prediction only inside the sketch subspace: invisible
    noise = torch.randn(2, 16, 4 * 4 * 3)
    inside = sketch.project(noise)
    pred = target + unpatchify(inside, 4, 16)
    loss = head.loss(pred, target, sketch.complement)
    assert loss.item() < 1e-6
    # a change in the complement subspace is penalized
    outside = sketch.complement(noise)
    pred = target + unpatchify(outside, 4, 16)
    torch.testing.assert_close(
        head.loss(pred, target, sketch.complement), outside.abs().mean())


def test_head_l2_and_per_patch_normalized_target():
    head = MODELS.build(
        dict(
            type='ROPIMHead',
            patch_size=4,
            loss=dict(type='PixelReconstructionLoss', criterion='L2'),
            norm_pix=True))
    target = torch.randn(2, 3, 8, 8) * 5 + 3
    patches = head.construct_target(target)
    torch.testing.assert_close(patches.mean(-1), torch.zeros(2, 4),
                               atol=1e-5, rtol=0)
    sketch = CountSketch.draw(2, 4, 0.5)
    pred = torch.zeros_like(target)
    expected = sketch.complement(patches).pow(2).mean()
    torch.testing.assert_close(head.loss(pred, target, sketch.complement),
                               expected)


def test_swapped_subspaces_ablation_trains():
    model = mini_ropim(swap_subspaces=True)
    data = model.data_preprocessor(batch(), training=True)
    model(**data, mode='loss')['loss'].backward()
    assert model.backbone.patch_embed.projection.weight.grad.abs().sum() > 0


def test_loss_under_bfloat16_autocast_is_finite():
    model = mini_ropim()
    data = model.data_preprocessor(batch(), training=True)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss = model(**data, mode='loss')['loss']
    assert torch.isfinite(loss)
    loss.backward()
    grad = model.backbone.patch_embed.projection.weight.grad
    assert torch.isfinite(grad).all()


def test_image_not_divisible_by_patch_size_is_rejected():
    model = mini_ropim()
    with raises_naming(ValueError, '(30, 32)', 'patch size 8'):
        model.data_preprocessor(batch(size=32) | dict(
            inputs=torch.zeros(2, 3, 30, 32, dtype=torch.uint8)))
    with raises_naming(ValueError, '(36, 36)', 'patch size 8'):
        model.backbone(torch.zeros(1, 3, 36, 36))


def test_bad_rho_in_config_is_rejected_at_build_time():
    with raises_naming(ValueError, 'rho', '(0, 1)', '1.2'):
        MODELS.build(dict(type='SketchDataPreprocessor', rho=1.2))


def test_relative_position_backbone_rejects_another_grid():
    backbone = MODELS.build(
        dict(type='ROPIMBEiTViT', arch=MINI_ARCH, img_size=32, patch_size=8))
    with raises_naming(ValueError, 'img_size=(32, 32)', '(4, 4)', '(6, 6)'):
        backbone(torch.zeros(1, 3, 48, 48), token_projection=lambda t: t)


def unpatchify(patches, patch_size, image_size):
    """Inverse of ``patchify`` for square images, used to check it."""
    b = patches.shape[0]
    g = image_size // patch_size
    x = patches.reshape(b, g, g, patch_size, patch_size, 3)
    return x.permute(0, 5, 1, 3, 2, 4).reshape(b, 3, image_size, image_size)


def test_patchify_round_trip_and_token_order():
    images = torch.randn(2, 3, 16, 16)
    patches = patchify(images, 4)
    assert patches.shape == (2, 16, 48)
    torch.testing.assert_close(unpatchify(patches, 4, 16), images)
    # token 1 is the second patch of the first row
    torch.testing.assert_close(patches[:, 1].reshape(2, 4, 4, 3),
                               images[:, :, 0:4, 4:8].permute(0, 2, 3, 1))


@pytest.mark.parametrize('once', [True, False])
def test_beit_ffn_branch_is_dropped_once(once):
    """With ``drop_path_once`` (the default, BEiT's and the authors') the
    FFN itself is deterministic in training and only the layer drops the
    branch; MMPretrain's layer (``drop_path_once=False``) drops inside the
    FFN too."""
    backbone = MODELS.build(
        dict(type='ROPIMBEiTViT', arch=MINI_ARCH, img_size=32, patch_size=8,
             drop_path_rate=0.5, drop_path_once=once))
    ffn = backbone.layers[-1].ffn.train()
    tokens = torch.randn(64, 4, 32)
    torch.manual_seed(0)
    trained = ffn(tokens)
    expected = ffn.eval()(tokens)
    assert torch.allclose(trained, expected) == once


def test_beit_backbone_is_initialized_as_the_authors():
    backbone = MODELS.build(
        dict(type='ROPIMBEiTViT', arch=dict(MINI_ARCH, num_layers=3),
             img_size=32, patch_size=8,
             init_cfg=[dict(type='Constant', layer='LayerNorm', val=1.,
                            bias=0.)]))
    backbone.init_weights()
    linears = [m for m in backbone.modules() if isinstance(m, nn.Linear)]
    for module in linears + [backbone.patch_embed.projection]:
        assert module.weight.abs().max() <= 0.02  # cut at +-1 std
        assert module.bias is None or not module.bias.any()
    # std of N(0, 0.02^2) cut at +-1 std: 0.02 * 0.54
    for weight in (backbone.patch_embed.projection.weight,
                   backbone.layers[0].attn.qkv.weight):
        assert 0.009 < weight.std() < 0.0125
    assert 0 < backbone.cls_token.abs().max() <= 0.02
    for depth, layer in enumerate(backbone.layers, start=1):
        for rescaled in (layer.attn.proj.weight, layer.ffn.layers[1].weight):
            assert rescaled.abs().max() <= 0.02 / math.sqrt(2 * depth)
    assert layer.ffn.layers[0][0].weight.abs().max() > 0.02 / math.sqrt(6)
    plain = MODELS.build(
        dict(type='ROPIMBEiTViT', arch=MINI_ARCH, img_size=32, patch_size=8,
             authors_init=False))
    plain.init_weights()  # MMPretrain's: Xavier FFN, zero class token
    assert plain.layers[0].ffn.layers[1].weight.abs().max() > 0.02
    assert not plain.cls_token.any()
