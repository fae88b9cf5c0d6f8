"""tools/model_converters/mmropim2timm.py: our checkpoints load with
strict=True into timm's ViT / BEiT and give the same features; the output
is written as ``tools/convert_checkpoint.py`` writes its own (never over
the source, an existing file only with ``--overwrite``, a link at the
output replaced rather than written through, atomically)."""
import os

import pytest
import torch
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

from mmropim.models.utils.timm_keys import convert_backbone
from tools.model_converters.mmropim2timm import main as mmropim2timm
from helpers import assert_names, link_output, raises_naming

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
    mmropim2timm([str(checkpoint), out])
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


@pytest.mark.slow  # full-size models
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
    with raises_naming(KeyError, 'stem.conv.weight', 'timm'):
        mmropim2timm([str(ckpt), str(tmp_path / 'out.pth')])


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
    with raises_naming(ValueError, 'ln1', 'ln2', 'final_norm'):
        mmropim2timm([str(ckpt), str(tmp_path / 'out.pth')])
    assert not (tmp_path / 'out.pth').exists()


def test_backbone_keys_map_to_timm_names_and_unknown_ones_are_named():
    """mmropim.models.utils.timm_keys, which the tool calls."""
    weight = torch.zeros(1)
    converted, left_out = convert_backbone({
        'layers.3.ffn.layers.0.0.weight': weight,
        'layers.3.attn.gamma1.weight': weight,
        'ln1.bias': weight,
        'mask_token': weight,
        'layers.0.attn.relative_position_index': weight,
    })
    assert sorted(converted) == [
        'blocks.3.ls1.gamma', 'blocks.3.mlp.fc1.weight', 'norm.bias'
    ]
    assert sorted(left_out) == [
        'layers.0.attn.relative_position_index', 'mask_token'
    ]
    with pytest.raises(KeyError, match="'layers.0.conv.weight'"):
        convert_backbone({'layers.0.conv.weight': weight})


@pytest.fixture
def vit_checkpoint(tmp_path):
    init_default_scope('mmpretrain')
    ckpt = tmp_path / 'pretrain.pth'
    save_checkpoint(ckpt, MODELS.build(dict(type='PRMIMViT',
                                            **MINI)).state_dict())
    return ckpt


def load_output(path):
    if str(path).endswith('.safetensors'):
        from safetensors.torch import load_file
        return load_file(str(path))
    return torch.load(str(path), weights_only=True)


def refused_naming(argv, capsys, *names):
    """The tool stops with an argparse error naming ``names``."""
    with pytest.raises(SystemExit) as stop:
        mmropim2timm([str(arg) for arg in argv])
    assert stop.value.code == 2
    assert_names(capsys.readouterr().err, *names)


@pytest.mark.parametrize('name', ['timm.pth', 'timm.safetensors'])
def test_an_existing_output_is_replaced_only_with_overwrite(
        vit_checkpoint, tmp_path, name, capsys):
    """It used to be overwritten silently, whatever its format."""
    out = tmp_path / name
    out.write_bytes(b'weights of another run')
    refused_naming([vit_checkpoint, out], capsys, 'dst', repr(str(out)),
                   '--overwrite')
    assert out.read_bytes() == b'weights of another run'
    mmropim2timm([str(vit_checkpoint), str(out), '--overwrite'])
    assert 'blocks.0.attn.qkv.weight' in load_output(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ['pretrain.pth', name])  # no temporary file left


@pytest.mark.parametrize('link', ['hard', 'symbolic', 'dangling'])
def test_a_linked_output_is_replaced_never_written_through(
        vit_checkpoint, tmp_path, link, capsys):
    """A link at the output names another file: without --overwrite it is
    an existing output, with it the link becomes a new file and the file
    it named keeps its content (it used to be rewritten)."""
    other, out = link_output(tmp_path, 'timm.pth', link)
    refused_naming([vit_checkpoint, out], capsys, repr(str(out)),
                   '--overwrite')
    assert other.read_bytes() == b'weights of another run'
    assert out.is_symlink() == (link != 'hard')
    mmropim2timm([str(vit_checkpoint), str(out), '--overwrite'])
    assert other.read_bytes() == b'weights of another run'
    assert not out.is_symlink() and not os.path.samefile(out, other)
    assert 'blocks.0.attn.qkv.weight' in load_output(out)


@pytest.mark.parametrize('link', ['path', 'hard', 'symbolic'])
def test_the_source_is_never_the_output(vit_checkpoint, tmp_path, link,
                                        capsys):
    """Not even with --overwrite, by path or through a link."""
    before = vit_checkpoint.read_bytes()
    out = tmp_path / 'timm.pth'
    if link == 'path':
        out = tmp_path / 'sub' / '..' / vit_checkpoint.name
        (tmp_path / 'sub').mkdir()
    elif link == 'hard':
        os.link(vit_checkpoint, out)
    else:
        out.symlink_to(vit_checkpoint)
    refused_naming([vit_checkpoint, out, '--overwrite'], capsys,
                   repr(str(out)), 'source')
    assert vit_checkpoint.read_bytes() == before


def test_an_interrupted_conversion_leaves_the_old_output(
        vit_checkpoint, tmp_path, monkeypatch):
    """The new file is written aside and renamed into place; stopped before
    the rename, the old output is whole and no temporary file is left."""
    out = tmp_path / 'timm.safetensors'
    out.write_bytes(b'weights of another run')

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, 'replace', interrupted)
    with pytest.raises(KeyboardInterrupt):
        mmropim2timm([str(vit_checkpoint), str(out), '--overwrite'])
    assert out.read_bytes() == b'weights of another run'
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'pretrain.pth', 'timm.safetensors']
