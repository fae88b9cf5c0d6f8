import numpy as np
import pytest
import torch
from mmpretrain.registry import MODELS, TRANSFORMS
from mmpretrain.structures import DataSample

import mmropim  # noqa: F401
from mmropim.models.utils import split_tokens
from helpers import raises_naming

ARCH = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
IMG, PATCH = 32, 8  # 4 x 4 = 16 tokens
NUM_TOKENS = (IMG // PATCH)**2


def prmim_cfg(aggregator=dict(type='SpatialAggregator', kernel_size=3)):
    return dict(
        type='PRMIM',
        data_preprocessor=dict(
            type='SelfSupDataPreprocessor', mean=[127.5] * 3, std=[64.] * 3),
        backbone=dict(
            type='PRMIMViT', arch=ARCH, img_size=IMG, patch_size=PATCH),
        neck=dict(
            type='PRMIMDecoder',
            num_patches=NUM_TOKENS,
            embed_dim=32,
            decoder_embed_dim=24,
            decoder_depth=2,
            decoder_num_heads=2),
        head=dict(
            type='PRMIMHead',
            in_channels=24,
            patch_size=PATCH,
            aggregator=aggregator))


def build(cfg):
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def batch(throw_ratio, num=2, mode='furthest', seed=0, patch_size=PATCH):
    transform = TRANSFORMS.build(
        dict(
            type='FurthestSampling',
            input_size=IMG,
            patch_size=patch_size,
            mask_ratio=0.75,
            throw_ratio=throw_ratio,
            mode=mode))
    np.random.seed(seed)
    samples = []
    for _ in range(num):
        out = transform(dict(img=np.zeros((IMG, IMG, 3), np.uint8)))
        sample = DataSample()
        sample.set_mask(out['mask'])  # what PackInputs does
        sample.set_field(out['throw_mask'], 'throw_mask')  # stays numpy
        samples.append(sample)
    torch.manual_seed(seed)
    images = torch.randn(num, 3, IMG, IMG)
    return images, samples


@pytest.mark.parametrize('throw_ratio', [0.0, 0.25, 0.5])
def test_decoder_sequence_has_n_times_one_minus_gamma_plus_one_tokens(
        throw_ratio):
    model = build(prmim_cfg(**({} if throw_ratio else dict(aggregator=None))))
    lengths = []
    model.neck.decoder_blocks[0].register_forward_hook(
        lambda module, args, out: lengths.append(args[0].shape[1]))
    images, samples = batch(throw_ratio)
    model.loss(images, samples)
    assert lengths == [NUM_TOKENS * (1 - throw_ratio) + 1]


def test_throw_ratio_zero_reproduces_mae_loss():
    model = build(prmim_cfg())
    mae = MODELS.build(
        dict(
            type='MAE',
            backbone=dict(
                type='MAEViT', arch=ARCH, img_size=IMG, patch_size=PATCH),
            neck=dict(
                type='MAEPretrainDecoder',
                num_patches=NUM_TOKENS,
                patch_size=PATCH,
                embed_dim=32,
                decoder_embed_dim=24,
                decoder_depth=2,
                decoder_num_heads=2),
            head=dict(
                type='MAEPretrainHead',
                norm_pix=True,
                patch_size=PATCH,
                loss=dict(type='PixelReconstructionLoss', criterion='L2'))))
    # same weights: the decoder's final norm and prediction live in our
    # head, under the decoder's names (ln1, decoder_pred)
    mae.backbone.load_state_dict(model.backbone.state_dict())
    neck_state = model.neck.state_dict()
    neck_state.update({
        k: v
        for k, v in model.head.state_dict().items()
        if not k.startswith('aggregator.')
    })
    mae.neck.load_state_dict(neck_state)
    model.eval(), mae.eval()

    images, samples = batch(0.0)
    mask = torch.stack([s.mask for s in samples]).flatten(1)

    def same_mask(x, mask_ratio):
        ids_shuffle = torch.sort(mask.long(), dim=1, stable=True).indices
        ids_restore = torch.argsort(ids_shuffle, dim=1)
        keep = ids_shuffle[:, :int(NUM_TOKENS * (1 - mask_ratio))]
        x_masked = x.gather(1, keep.unsqueeze(-1).expand(-1, -1, x.shape[-1]))
        return x_masked, mask.float(), ids_restore

    mae.backbone.random_masking = same_mask
    expected = mae.loss(images, samples)['loss']
    actual = model.loss(images, samples)['loss']
    assert expected.item() > 0.1
    assert abs(actual.item() - expected.item()) < 1e-6


def test_aggregator_learns_from_thrown_token_losses():
    model = build(prmim_cfg())
    images, samples = batch(0.5)
    model.loss(images, samples)['loss'].backward()
    grad = model.head.aggregator.conv.weight.grad
    assert grad is not None and grad.abs().sum() > 0
    assert model.backbone.patch_embed.projection.weight.grad.abs().sum() > 0


def test_thrown_tokens_come_from_the_aggregator():
    model = build(prmim_cfg())
    images, samples = batch(0.5)
    mask = torch.stack([s.mask for s in samples])
    throw = torch.stack([torch.as_tensor(s.throw_mask) for s in samples])
    split = split_tokens(mask, throw)
    latent = model.backbone(images, token_split=split)[0]
    decoded = model.neck(latent, split.ids_decoded)
    pred = model.head.reconstruct(decoded, split, (4, 4))
    with torch.no_grad():
        model.head.aggregator.conv.weight.zero_()
        model.head.aggregator.conv.bias.fill_(3.0)
    pred_zeroed = model.head.reconstruct(decoded, split, (4, 4))
    thrown = split.ids_thrown.unsqueeze(-1).expand(-1, -1, pred.shape[-1])
    # thrown predictions changed with the aggregator ...
    assert not torch.allclose(pred.gather(1, thrown),
                              pred_zeroed.gather(1, thrown))
    # ... decoded ones did not: they bypass it
    decoded_ids = split.ids_decoded.unsqueeze(-1).expand(
        -1, -1, pred.shape[-1])
    torch.testing.assert_close(
        pred.gather(1, decoded_ids), pred_zeroed.gather(1, decoded_ids))


def test_without_aggregator_thrown_tokens_are_unsupervised():
    model = build(prmim_cfg(aggregator=None))
    assert model.head.aggregator is None
    images, samples = batch(0.5)
    loss = model.loss(images, samples)['loss']
    # change the target only at thrown tokens: the loss must not move
    throw = torch.as_tensor(samples[0].throw_mask).bool()
    pixel_mask = throw.repeat_interleave(PATCH, 0).repeat_interleave(PATCH, 1)
    changed = images.clone()
    noise = torch.randn_like(changed[0, :, pixel_mask])
    changed[0, :, pixel_mask] += 5 * noise
    torch.testing.assert_close(model.loss(changed, samples)['loss'], loss)
    with_aggregator = build(prmim_cfg())
    with_aggregator.load_state_dict(model.state_dict(), strict=False)
    assert with_aggregator.loss(changed, samples)['loss'] != \
        with_aggregator.loss(images, samples)['loss']


def test_missing_masks_give_a_clear_error():
    model = build(prmim_cfg())
    with pytest.raises(KeyError, match='FurthestSampling'):
        model.loss(torch.randn(1, 3, IMG, IMG), [DataSample()])


def test_kernel_size_must_be_odd():
    with raises_naming(ValueError, 'kernel_size', 'odd', '4'):
        MODELS.build(dict(type='SpatialAggregator', channels=8, kernel_size=4))


def test_masks_with_unequal_counts_are_rejected():
    mask = torch.tensor([[1, 1, 0, 0], [1, 0, 0, 0]])
    # the visible / retained / thrown counts of each image
    with raises_naming(ValueError, 'visible', 'retained', 'thrown',
                       '[[2, 2, 0], [3, 1, 0]]'):
        split_tokens(mask, torch.zeros_like(mask))
    with raises_naming(ValueError, 'throw_mask'):
        split_tokens(mask[:1], torch.tensor([[0, 0, 1, 0]]))


def simmim_cfg(aggregator=dict(type='SpatialAggregator', kernel_size=3),
               backbone='PRMIMSimMIMViT'):
    return dict(
        type='PRMIMSimMIM',
        data_preprocessor=dict(
            type='SelfSupDataPreprocessor', mean=[127.5] * 3, std=[64.] * 3),
        backbone=dict(
            type=backbone, arch=ARCH, img_size=IMG, patch_size=PATCH),
        neck=dict(
            type='PRMIMLinearDecoder',
            in_channels=32,
            patch_size=PATCH,
            aggregator=aggregator),
        head=dict(
            type='SimMIMHead',
            patch_size=PATCH,
            loss=dict(type='PixelReconstructionLoss', criterion='L1',
                      channel=3)))


@pytest.mark.parametrize('backbone', ['PRMIMSimMIMViT', 'PRMIMSimMIMBEiTViT'])
@pytest.mark.parametrize('throw_ratio', [0.0, 0.5])
def test_simmim_encoder_sees_n_times_one_minus_gamma_plus_one_tokens(
        throw_ratio, backbone):
    model = build(simmim_cfg(
        backbone=backbone, **({} if throw_ratio else dict(aggregator=None))))
    lengths = []
    model.backbone.layers[0].register_forward_hook(
        lambda module, args, out: lengths.append(args[0].shape[1]))
    images, samples = batch(throw_ratio)
    loss = model.loss(images, samples)['loss']
    assert lengths == [NUM_TOKENS * (1 - throw_ratio) + 1]
    loss.backward()
    assert model.backbone.mask_token.grad.abs().sum() > 0
    if throw_ratio > 0:
        assert model.neck.aggregator.conv.weight.grad.abs().sum() > 0
    if backbone == 'PRMIMSimMIMBEiTViT':  # SimMIM's ViT recipe
        table = model.backbone.rel_pos_bias.relative_position_bias_table
        assert table.grad.abs().sum() > 0
        assert model.backbone.layers[0].gamma_1.grad.abs().sum() > 0


@pytest.mark.parametrize('cfg', [prmim_cfg, simmim_cfg])
def test_aggregator_without_thrown_tokens_is_a_clear_error(cfg):
    """It would get no gradient, and DDP (find_unused_parameters=False)
    raises at the second iteration."""
    model = build(cfg())
    images, samples = batch(0.0)
    with raises_naming(ValueError, 'throw_ratio=0', 'aggregator=None'):
        model.loss(images, samples)
    model.eval()  # evaluation and pictures of such a model still work
    with torch.no_grad():
        assert torch.isfinite(model.loss(images, samples)['loss'])


class GridOutput(torch.nn.Module):
    """Our SimMIM ViT as MMPretrain's SimMIM reads a backbone: a tuple whose
    first entry is the (B, C, H, W) map of the patch tokens."""

    def __init__(self, vit):
        super().__init__()
        self.vit = vit

    def forward(self, x, mask):
        tokens = self.vit(x, mask)[:, 1:]  # the class token is not decoded
        side = int(tokens.shape[1]**0.5)
        return (tokens.transpose(1, 2).reshape(x.shape[0], -1, side, side), )


def test_simmim_with_throw_ratio_zero_is_plain_simmim():
    """Against MMPretrain's own SimMIM algorithm, linear decoder and head:
    only the encoder is shared (MMPretrain has no SimMIM ViT)."""
    model = build(simmim_cfg())
    reference = MODELS.build(
        dict(
            type='SimMIM',
            backbone=dict(
                type='PRMIMSimMIMViT', arch=ARCH, img_size=IMG,
                patch_size=PATCH),
            neck=dict(
                type='SimMIMLinearDecoder', in_channels=32,
                encoder_stride=PATCH),
            head=dict(
                type='SimMIMHead',
                patch_size=PATCH,
                loss=dict(type='PixelReconstructionLoss', criterion='L1',
                          channel=3))))
    reference.backbone = GridOutput(model.backbone)
    reference.neck.load_state_dict(model.neck.pixel_decoder.state_dict())
    model.eval(), reference.eval()
    images, samples = batch(0.0)
    expected = reference.loss(images, samples)['loss']
    assert expected.item() > 0.1
    torch.testing.assert_close(model.loss(images, samples)['loss'], expected)


def test_simmim_without_aggregator_leaves_thrown_tokens_unsupervised():
    model = build(simmim_cfg(aggregator=None))
    images, samples = batch(0.5)
    loss = model.loss(images, samples)['loss']
    throw = torch.as_tensor(samples[1].throw_mask).bool()
    pixel_mask = throw.repeat_interleave(PATCH, 0).repeat_interleave(PATCH, 1)
    changed = images.clone()
    changed[1, :, pixel_mask] -= 4.0
    torch.testing.assert_close(model.loss(changed, samples)['loss'], loss)


def test_mff_encoder_mixes_with_pr_mim():
    cfg = prmim_cfg()
    cfg['backbone'] = dict(
        type='PRMIMMFFViT',
        arch=ARCH,
        img_size=IMG,
        patch_size=PATCH,
        out_indices=[0, 1])
    model = build(cfg)
    images, samples = batch(0.5)
    losses = model.loss(images, samples)
    assert set(losses) == {'loss', 'weight_0', 'weight_1'}
    torch.testing.assert_close(losses['weight_0'] + losses['weight_1'],
                               torch.tensor(1.0))
    losses['loss'].backward()
    assert model.backbone.proj_weights.grad.abs().sum() > 0
    assert model.head.aggregator.conv.weight.grad.abs().sum() > 0


def test_mff_out_indices_on_the_plain_encoder_are_refused():
    """MMPretrain's MFF config with backbone type PRMIMViT (the natural
    slip for PRMIMMFFViT) trained MAE + PR-MIM without fusion layers and
    ignored out_indices, silently."""
    cfg = prmim_cfg()
    cfg['backbone'].update(out_indices=[0, 1])
    with raises_naming(ValueError, 'out_indices=[0, 1]', 'PRMIMViT',
                       'PRMIMMFFViT'):
        build(cfg)
    cfg['backbone'].update(out_indices=[1])  # the last layer: MAE's output
    build(cfg)


def test_a_mask_of_another_grid_names_the_transform_first():
    """FurthestSampling(patch_size=16) before a p8 encoder (the README's
    line pasted into another config): the errors named neck.num_patches,
    then mask_ratio, then the head's patch_size, never the transform."""
    model = build(prmim_cfg())
    images, samples = batch(0.5, patch_size=2 * PATCH)
    with raises_naming(ValueError, 'FurthestSampling', '(2, 2)', '(4, 4)',
                       f'patch_size={PATCH}', f'input_size={IMG}') as error:
        model.loss(images, samples)
    assert 'num_patches' not in str(error.value)


def test_encoder_outputs_match_the_data_pipeline_mask():
    model = build(prmim_cfg())
    images, samples = batch(0.5)
    mask = torch.stack([s.mask for s in samples]).flatten(1)
    throw = torch.stack([torch.as_tensor(s.throw_mask) for s in samples])
    split = split_tokens(mask, throw)
    latent, out_mask, ids_restore = model.backbone(images, token_split=split)
    assert latent.shape == (2, 1 + 4, 32)
    torch.testing.assert_close(out_mask, mask.float())
    order = torch.cat([split.ids_visible, split.ids_retained,
                       split.ids_thrown], 1)
    assert torch.equal(order.gather(1, ids_restore),
                       torch.arange(NUM_TOKENS).expand(2, -1))
    with pytest.raises(RuntimeError, match='token_split'):
        model.backbone.random_masking(torch.zeros(2, NUM_TOKENS, 32))


def test_simmim_vit_starts_from_simmim_initialization():
    model = build(simmim_cfg())
    model.init_weights()
    qkv = model.backbone.layers[0].attn.qkv
    assert 0.015 < qkv.weight.std().item() < 0.025  # trunc normal, std 0.02
    assert qkv.bias.abs().max().item() == 0
    assert model.backbone.mask_token.std().item() > 0
