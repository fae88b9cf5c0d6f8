"""tools/model_converters/mmropim2timm.py: our checkpoints load with
strict=True into timm's ViT / BEiT and give the same features."""
import pytest
import torch
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

from tools.model_converters import mmropim2timm

timm = pytest.importorskip('timm')

MINI = dict(arch=dict(embed_dims=96, num_layers=4, num_heads=3,
                      feedforward_channels=384),
            img_size=64, patch_size=8)


def perturbed(module):
    """Random weights everywhere (no zero-initialised part hides a wrong
    mapping)."""
    torch.manual_seed(0)
    with torch.no_grad():
        for param in module.parameters():
            param.add_(torch.randn_like(param) * 0.05)
    module.eval()  # MMPretrain's backbones' train() returns None
    return module


def save_checkpoint(path, state, prefix='backbone.', extra=None):
    full = {prefix + k: v for k, v in state.items()}
    full.update(extra or {})
    torch.save(dict(state_dict=full, meta=dict()), path)


def convert(tmp_path, checkpoint, name='timm.pth'):
    out = str(tmp_path / name)
    mmropim2timm.main([str(checkpoint), out])
    if name.endswith('.safetensors'):
        from safetensors.torch import load_file
        return load_file(out)
    return torch.load(out, weights_only=True)


@pytest.mark.parametrize('backbone_type, suffix', [
    ('PRMIMViT', 'timm.pth'),
    ('PRMIMMFFViT', 'timm.safetensors'),
    ('ROPIMViT', 'timm.pth'),
])
def test_vit_pretraining_checkpoint_gives_timm_vit_features(
        backbone_type, suffix, tmp_path, capsys):
    init_default_scope('mmpretrain')
    cfg = dict(type=backbone_type, **MINI)
    if backbone_type == 'PRMIMMFFViT':
        cfg['out_indices'] = [1, 3]
    ours = perturbed(MODELS.build(cfg))
    ckpt = tmp_path / 'pretrain.pth'
    save_checkpoint(ckpt, ours.state_dict(),
                    extra={'neck.decoder_embed.weight': torch.zeros(2, 2)})
    state = convert(tmp_path, ckpt, suffix)
    printed = capsys.readouterr().out
    assert 'neck' not in ' '.join(state)
    theirs = timm.models.vision_transformer.VisionTransformer(
        img_size=64, patch_size=8, embed_dim=96, depth=4, num_heads=3,
        num_classes=0, global_pool='token').eval()
    theirs.load_state_dict(state, strict=True)
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = theirs.forward_features(images)
        if backbone_type == 'ROPIMViT':  # plain forward gives feature maps
            ours.out_type = 'raw'
        got = ours(images)[-1]  # the last layer, after the final norm
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)
    if backbone_type == 'PRMIMMFFViT':
        assert 'proj_weights' in printed  # MFF's fusion left out, listed


def test_beit_pretraining_checkpoint_gives_timm_beit_features(
        tmp_path, capsys):
    init_default_scope('mmpretrain')
    ours = perturbed(
        MODELS.build(dict(type='ROPIMBEiTViT', out_type='raw', **MINI)))
    ckpt = tmp_path / 'pretrain.pth'
    save_checkpoint(ckpt, ours.state_dict())
    state = convert(tmp_path, ckpt)
    constructor = capsys.readouterr().out.split('into: ')[-1].strip()
    assert constructor.startswith('timm.models.beit.Beit(')
    theirs = eval(constructor, {'timm': timm}).eval()  # the printed call
    theirs.load_state_dict(state, strict=True)
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(
            ours(images)[-1], theirs.forward_features(images), rtol=1e-4,
            atol=1e-4)


def test_finetuned_classifier_gives_timm_logits(tmp_path):
    init_default_scope('mmpretrain')
    ours = perturbed(MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='VisionTransformer', final_norm=False,
                      out_type='avg_featmap', **MINI),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=96,
                  loss=dict(type='CrossEntropyLoss')))))
    ckpt = tmp_path / 'finetuned.pth'
    torch.save(dict(state_dict=ours.state_dict()), ckpt)
    state = convert(tmp_path, ckpt)
    theirs = timm.models.vision_transformer.VisionTransformer(
        img_size=64, patch_size=8, embed_dim=96, depth=4, num_heads=3,
        num_classes=10, global_pool='avg').eval()
    theirs.load_state_dict(state, strict=True)
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(images, mode='tensor'),
                                   theirs(images), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('backbone, model_name', [
    (dict(type='PRMIMViT', arch='b'), 'vit_base_patch16_224'),
    (dict(type='PRMIMViT', arch='deit-small'), 'vit_small_patch16_224'),
    (dict(type='ROPIMBEiTViT', arch='base'), 'beit_base_patch16_224'),
    (dict(type='PRMIMViT', arch='b', img_size=192), 'vit_base_patch16_224'),
])
def test_full_size_checkpoint_loads_into_the_named_timm_model(
        backbone, model_name, tmp_path, capsys):
    init_default_scope('mmpretrain')
    ckpt = tmp_path / 'pretrain.pth'
    save_checkpoint(ckpt, MODELS.build(backbone).state_dict())
    state = convert(tmp_path, ckpt)
    constructor = capsys.readouterr().out.split('into: ')[-1].strip()
    assert constructor.startswith(f"timm.create_model('{model_name}'")
    eval(constructor, {'timm': timm}).load_state_dict(state, strict=True)


def test_checkpoint_without_vit_is_refused(tmp_path):
    ckpt = tmp_path / 'other.pth'
    save_checkpoint(ckpt, {'stem.conv.weight': torch.zeros(1)})
    with pytest.raises(KeyError, match="'stem.conv.weight' has no timm"):
        mmropim2timm.main([str(ckpt), str(tmp_path / 'out.pth')])


def test_layer_scale_vit_gives_timm_features(tmp_path, capsys):
    init_default_scope('mmpretrain')
    ours = perturbed(MODELS.build(dict(
        type='VisionTransformer', layer_scale_init_value=0.1,
        out_type='raw', final_norm=True, **MINI)))
    ckpt = tmp_path / 'ls.pth'
    save_checkpoint(ckpt, ours.state_dict())
    state = convert(tmp_path, ckpt)
    constructor = capsys.readouterr().out.split('into: ')[-1].strip()
    assert 'init_values=0.1' in constructor and 'mlp_ratio=4' in constructor
    theirs = eval(constructor.split('  #')[0].replace('NUM_HEADS', '3'),
                  {'timm': timm}).eval()
    theirs.load_state_dict(state, strict=True)
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(images)[-1],
                                   theirs.forward_features(images),
                                   rtol=1e-4, atol=1e-4)


def test_two_final_norms_are_refused_before_writing(tmp_path):
    init_default_scope('mmpretrain')
    backbone = MODELS.build(dict(type='VisionTransformer', final_norm=True,
                                 out_type='avg_featmap', **MINI))
    ckpt = tmp_path / 'both.pth'
    save_checkpoint(ckpt, backbone.state_dict())
    with pytest.raises(ValueError, match='final norm .* and a norm after'):
        mmropim2timm.main([str(ckpt), str(tmp_path / 'out.pth')])
    assert not (tmp_path / 'out.pth').exists()
