"""Every backbone runs the one token path (ViTTokenPathMixin): for the
tokens it keeps, it computes what the MMPretrain class it extends computes,
and it keeps no state between calls."""
import pytest
import torch
from mmengine.registry import init_default_scope
from mmpretrain.models import MFFViT
from mmpretrain.registry import MODELS

import mmropim  # noqa: F401
from mmropim.models.backbones import ViTTokenPathMixin
from mmropim.models.utils import split_tokens

ARCH = dict(embed_dims=32, num_layers=4, num_heads=2, feedforward_channels=64)
IMG, PATCH = 32, 8  # 4 x 4 = 16 tokens


def build(cfg):
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    model.eval()  # MMPretrain's train() returns None
    return model


def images(num=2):
    generator = torch.Generator().manual_seed(1)
    return torch.randn(num, 3, IMG, IMG, generator=generator)


def a_split(num=2, masked=12, thrown=4):
    gen = torch.Generator().manual_seed(2)
    mask = torch.zeros(num, 16)
    throw = torch.zeros(num, 16)
    for b in range(num):
        order = torch.randperm(16, generator=gen)
        mask[b, order[:masked]] = 1
        throw[b, order[:thrown]] = 1
    return mask, throw, split_tokens(mask, throw)


def patched_random_masking(split):
    """MMPretrain's masking replaced by the given split's visible tokens."""
    order = torch.cat([split.ids_visible, split.ids_retained,
                       split.ids_thrown], 1)

    def random_masking(x, mask_ratio):
        ids_restore = torch.argsort(order, dim=1)
        mask = torch.ones(order.shape)
        mask[:, :split.ids_visible.shape[1]] = 0
        visible = x.gather(1, split.ids_visible.unsqueeze(-1).expand(
            -1, -1, x.shape[-1]))
        return visible, mask.gather(1, ids_restore), ids_restore

    return random_masking


@pytest.mark.parametrize('ours,stock', [
    ('PRMIMViT', 'MAEViT'),
    ('PRMIMMFFViT', 'MFFViT'),
])
def test_pipeline_masked_forward_is_the_stock_masked_forward(ours, stock):
    kwargs = dict(arch=ARCH, img_size=IMG, patch_size=PATCH)
    if stock == 'MFFViT':
        kwargs['out_indices'] = [0, 1, 3]
    model = build(dict(type=ours, **kwargs))
    reference = build(dict(type=stock, **kwargs))
    reference.load_state_dict(model.state_dict())
    if isinstance(reference, MFFViT):  # make the fusion weights matter
        with torch.no_grad():
            weights = torch.tensor([0.3, -0.2, 0.5]).view(-1, 1, 1, 1)
            model.proj_weights.copy_(weights)
            reference.proj_weights.copy_(weights)
    _, _, split = a_split()
    reference.random_masking = patched_random_masking(split)
    x = images()
    ours_out = model(x, token_split=split)
    stock_out = reference(x, mask=True)
    assert len(ours_out) == len(stock_out)
    for a, b in zip(ours_out, stock_out):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)


def test_simmim_vit_without_mask_tokens_is_the_vit():
    model = build(dict(type='PRMIMSimMIMViT', arch=ARCH, img_size=IMG,
                       patch_size=PATCH))
    reference = build(dict(type='VisionTransformer', arch=ARCH, img_size=IMG,
                           patch_size=PATCH, out_type='raw', final_norm=True))
    reference.load_state_dict(model.state_dict(), strict=False)
    x = images()
    tokens = model(x, mask=torch.zeros(2, 16))
    torch.testing.assert_close(tokens, reference(x)[-1], rtol=0, atol=1e-6)


def test_kept_tokens_carry_their_own_positions():
    """Selecting tokens after the position embedding is selecting from the
    full sequence (the class token stays first)."""
    model = build(dict(type='PRMIMSimMIMViT', arch=ARCH, img_size=IMG,
                       patch_size=PATCH))
    _, _, split = a_split()
    patches, grid_hw = model.embed_patches(images())
    everything = model.add_class_token_and_position(patches, grid_hw)
    kept = model.add_class_token_and_position(
        patches, grid_hw, ids_kept=split.ids_decoded)
    expected = torch.cat([everything[:, :1], everything[:, 1:].gather(
        1, split.ids_decoded.unsqueeze(-1).expand(-1, -1, 32))], 1)
    torch.testing.assert_close(kept, expected, rtol=0, atol=0)


@pytest.mark.parametrize('backbone', ['TransferViT', 'TransferBEiTViT'])
def test_one_window_over_the_whole_grid_is_global_attention(backbone):
    common = dict(type=backbone, arch=ARCH, img_size=IMG, patch_size=PATCH,
                  out_indices=(1, 3))
    windowed = build(dict(common, window_size=4, global_indices=(2, )))
    plain = build(common)
    plain.load_state_dict(windowed.state_dict())
    x = images()
    for a, b in zip(windowed(x), plain(x)):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-5)


@pytest.mark.parametrize('cfg', [
    dict(type='ROPIMViT'),
    dict(type='ROPIMBEiTViT'),
    dict(type='TransferViT', out_indices=(3, ), window_size=2),
    dict(type='PRMIMViT'),
    dict(type='PRMIMMFFViT', out_indices=[1, 3]),
    dict(type='PRMIMSimMIMViT'),
], ids=lambda cfg: cfg['type'])
def test_the_token_path_keeps_no_state(cfg):
    model = build(dict(cfg, arch=ARCH, img_size=IMG, patch_size=PATCH))
    assert isinstance(model, ViTTokenPathMixin)
    before = set(vars(model))
    mask, _, split = a_split()
    x = images()
    if cfg['type'].startswith('ROPIM'):
        model(x, token_projection=lambda t: t.flip(1))
    elif cfg['type'].startswith('PRMIMSimMIM'):
        model(x, mask=mask, ids_decoded=split.ids_decoded)
    elif cfg['type'].startswith('PRMIM'):
        model(x, token_split=split)
    else:
        model(x)
    assert set(vars(model)) == before


@pytest.mark.parametrize('backbone', ['PRMIMViT', 'PRMIMMFFViT'])
def test_pipeline_masked_encoders_extract_features_without_a_split(backbone):
    """The plain forward (feature extraction, ``extract_feat``) runs the
    whole image; MFFViT's own forward(x, mask=None) would mask it."""
    kwargs = dict(out_indices=[1, 3]) if backbone == 'PRMIMMFFViT' else {}
    model = build(dict(type=backbone, arch=ARCH, img_size=IMG,
                       patch_size=PATCH, **kwargs))
    outs = model(images())
    assert isinstance(outs, tuple) and outs[0].shape[0] == 2
    assert outs[-1].numel() >= 2 * 16 * 32  # every patch token is there


def test_transfer_windows_pad_partial_patches_as_the_plain_forward():
    """Image sides that are not a multiple of the patch size are padded by
    MMCV's PatchEmbed, with or without windows."""
    common = dict(type='TransferViT', arch=ARCH, img_size=40,
                  patch_size=PATCH, out_indices=(3, ))
    windowed = build(dict(common, window_size=5, global_indices=(1, )))
    plain = build(common)
    plain.load_state_dict(windowed.state_dict())
    x = torch.randn(1, 3, 36, 36)  # a 5 x 5 grid after padding
    torch.testing.assert_close(windowed(x)[0], plain(x)[0], rtol=0,
                               atol=1e-5)
