"""Every backbone runs the one token path (ViTTokenPathMixin): for the
tokens it keeps, it computes what the MMPretrain class it extends computes,
and it keeps no state between calls."""
import ast
import inspect
import textwrap

import pytest
import torch
from mmengine.registry import init_default_scope
from mmpretrain.models import MFFViT
from mmpretrain.registry import MODELS

import mmropim  # noqa: F401
from mmropim.models.backbones import ViTTokenPathMixin
from mmropim.models.utils import split_tokens
from helpers import raises_naming

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


def test_shared_relative_bias_follows_the_kept_tokens():
    """SimMIM's ViT recipe (shared relative position bias) with dropped
    tokens: keeping every token in another order gives the same token
    outputs in that order (attention is permutation-equivariant only if
    the bias is cut to the same order), and a kept subset sees the bias of
    its own positions."""
    model = build(dict(type='PRMIMSimMIMBEiTViT', arch=ARCH, img_size=IMG,
                       patch_size=PATCH))
    with torch.no_grad():  # a bias that matters (the table starts at zero)
        model.rel_pos_bias.relative_position_bias_table.normal_(0, 1.0)
    model.eval()
    x, mask = images(), torch.zeros(2, 16)
    mask[:, ::3] = 1
    everything = model(x, mask=mask)
    order = torch.stack([torch.randperm(16), torch.randperm(16)])
    permuted = model(x, mask=mask, ids_decoded=order)
    expected = everything[:, 1:].gather(
        1, order.unsqueeze(-1).expand(-1, -1, 32))
    torch.testing.assert_close(permuted[:, 1:], expected, rtol=0, atol=1e-5)
    torch.testing.assert_close(permuted[:, 0], everything[:, 0], rtol=0,
                               atol=1e-5)
    # a subset: per image, rows and columns of the kept positions
    _, _, split = a_split()
    bias = model.layer_kwargs(split.ids_decoded)['rel_pos_bias']
    full = model.rel_pos_bias()
    rows = torch.cat([torch.zeros(2, 1, dtype=torch.long),
                      split.ids_decoded + 1], 1)
    assert bias.shape == (2, 2, rows.shape[1], rows.shape[1])
    for b in range(2):
        torch.testing.assert_close(bias[b], full[:, rows[b]][:, :, rows[b]])
    assert not torch.equal(bias[0], bias[1])  # different kept tokens


def test_simmim_beit_backbone_defaults_and_init():
    """SimMIM's ViT: no absolute position, a shared relative bias, layer
    scale 0.1, output projections of layer l divided by sqrt(2 l), one
    drop path per branch; per-layer tables are refused (they cannot follow
    dropped tokens)."""
    arch = dict(ARCH, num_layers=8)
    model = build(dict(type='PRMIMSimMIMBEiTViT', arch=arch, img_size=IMG,
                       patch_size=PATCH, drop_path_rate=0.1))
    assert model.pos_embed is None and model.rel_pos_bias is not None
    assert all(layer.gamma_1.eq(0.1).all() for layer in model.layers)
    assert model.layers[-1].ffn.dropout_layer is None \
        or isinstance(model.layers[-1].ffn.dropout_layer, torch.nn.Identity)
    # std 0.02 cut at +-1 std (std 0.0108), divided by sqrt(2 l)
    first = model.layers[0].attn.proj.weight
    last = model.layers[7].ffn.layers[1].weight
    assert first.abs().max() <= 0.02 / 2**0.5
    assert 0.0068 < first.std() < 0.0084  # 0.0108 / sqrt(2) = 0.0076
    assert 0.0024 < last.std() < 0.0030  # 0.0108 / sqrt(16) = 0.0027
    assert model.mask_token.std() > 0
    with raises_naming(ValueError, 'use_rel_pos_bias=True',
                       'use_shared_rel_pos_bias=True'):
        MODELS.build(dict(type='PRMIMSimMIMBEiTViT', arch=ARCH, img_size=IMG,
                          patch_size=PATCH, use_rel_pos_bias=True))
    with raises_naming(ValueError, 'img_size=(32, 32)', '(6, 6)'):
        model(torch.randn(1, 3, 48, 48), mask=torch.zeros(1, 36))


@pytest.mark.parametrize('use_abs_pos_emb', [False, True])
@pytest.mark.parametrize('backbone',
                         ['ROPIMBEiTViT', 'PRMIMSimMIMBEiTViT'])
def test_beit_init_never_overwrites_loaded_or_initialized_weights(
        tmp_path, backbone, use_abs_pos_emb):
    """BEiT's init runs after ``init_cfg`` unless that loads a checkpoint,
    also when the Pretrained entry sits in a list (MMEngine applies it
    last), and only once: a second ``init_weights()`` changes nothing, the
    absolute position embedding included (MMPretrain's ``BEiTViT`` redraws
    it unless ``init_cfg`` is a Pretrained dict)."""
    common = dict(type=backbone, arch=ARCH, img_size=IMG, patch_size=PATCH,
                  use_abs_pos_emb=use_abs_pos_emb)
    source = build(common)
    path = str(tmp_path / 'pretrained.pth')
    torch.save(dict(state_dict={f'backbone.{k}': v
                                for k, v in source.state_dict().items()}),
               path)
    torch.manual_seed(5)
    loaded = MODELS.build(dict(common, init_cfg=[
        dict(type='Constant', layer='LayerNorm', val=1., bias=0.),
        dict(type='Pretrained', checkpoint=path, prefix='backbone.')
    ]))
    assert loaded.loads_checkpoint
    loaded.init_weights()
    for name, value in source.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[name], value,
                                   msg=name)
    assert (source.pos_embed is not None) == use_abs_pos_emb
    fresh = build(common)
    before = {k: v.clone() for k, v in fresh.state_dict().items()}
    fresh.init_weights()  # a second call, as a wrapper or runner may make
    for name, value in before.items():
        torch.testing.assert_close(fresh.state_dict()[name], value,
                                   msg=name)


def test_simmim_beit_backbone_refuses_no_position_information():
    with raises_naming(ValueError, 'use_shared_rel_pos_bias=False',
                       'use_abs_pos_emb=False', 'use_abs_pos_emb=True'):
        MODELS.build(dict(type='PRMIMSimMIMBEiTViT', arch=ARCH, img_size=IMG,
                          patch_size=PATCH, use_shared_rel_pos_bias=False))
    model = build(dict(type='PRMIMSimMIMBEiTViT', arch=ARCH, img_size=IMG,
                       patch_size=PATCH, use_shared_rel_pos_bias=False,
                       use_abs_pos_emb=True))
    assert model.pos_embed is not None and model.rel_pos_bias is None


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
    dict(type='PRMIMSimMIMBEiTViT'),
], ids=lambda cfg: cfg['type'])
def test_the_token_path_keeps_no_state(cfg):
    model = build(dict(cfg, arch=ARCH, img_size=IMG, patch_size=PATCH))
    assert isinstance(model, ViTTokenPathMixin)
    before = attribute_values(model)
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
    assert attribute_values(model) == before


def attribute_values(model):
    """Every attribute of the backbone and its submodules, as text, and
    every parameter and buffer, as values: what a forward could leave
    behind."""
    values = {}
    for prefix, module in model.named_modules():
        for name, value in vars(module).items():
            if name not in ('_parameters', '_buffers', '_modules'):
                values[f'{prefix}.{name}'] = repr(value)
    for name, tensor in model.state_dict().items():
        values[name] = tensor.tolist()
    return values


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


# the extra arguments of a tiny build of each backbone of the package
HOST_KWARGS = dict(PRMIMMFFViT=dict(out_indices=[1, 3]),
                   TransferViT=dict(out_indices=(1, 3)),
                   TransferBEiTViT=dict(out_indices=(1, 3)))


def backbone_mixins():
    """The mixin classes of mmropim.models.backbones."""
    import mmropim.models.backbones as package
    return sorted({cls for cls in vars(package).values()
                   if inspect.isclass(cls) and cls.__name__.endswith('Mixin')
                   and cls.__module__.startswith(package.__name__)} | {
                       base for cls in vars(package).values()
                       if inspect.isclass(cls) for base in cls.__mro__
                       if base.__name__.endswith('Mixin')
                       and base.__module__.startswith(package.__name__)},
                  key=lambda cls: cls.__name__)


def given_names(mixin):
    """What a mixin may read of ``self``: what it and its mixin bases
    define (methods, class variables, attributes they assign) or declare
    as the host's (annotations), and what every ``nn.Module`` has."""
    names = set(dir(torch.nn.Module))
    for base in mixin.__mro__:
        if base.__name__.endswith('Mixin'):
            names |= set(vars(base)) | set(vars(base).get(
                '__annotations__', {}))
            for node in ast.walk(ast.parse(textwrap.dedent(
                    inspect.getsource(base)))):
                if isinstance(node, ast.Attribute) and isinstance(
                        node.ctx, ast.Store) and isinstance(
                            node.value, ast.Name) and node.value.id == 'self':
                    names.add(node.attr)
    return names


def read_names(mixin):
    """The attributes of ``self`` a mixin's own code reads:
    ``self.name``, ``getattr(self, 'name', ...)``, ``hasattr(self,
    'name')``."""
    names = set()
    for node in ast.walk(ast.parse(textwrap.dedent(
            inspect.getsource(mixin)))):
        if isinstance(node, ast.Attribute) and isinstance(
                node.value, ast.Name) and node.value.id == 'self':
            names.add(node.attr)
        elif isinstance(node, ast.Call) and isinstance(
                node.func, ast.Name) and node.func.id in (
                    'getattr', 'hasattr') and isinstance(
                        node.args[0], ast.Name) and node.args[0].id == 'self':
            names.add(node.args[1].value)
    return names


@pytest.mark.parametrize('mixin', backbone_mixins(),
                         ids=lambda cls: cls.__name__)
def test_mixins_read_only_what_they_define_or_declare(mixin):
    """A mixin's contract with its host is written in the mixin: every
    attribute of ``self`` it reads is its own or declared as the
    host's."""
    assert sorted(read_names(mixin) - given_names(mixin)) == []


def package_backbones():
    import mmropim.models.backbones as package
    return sorted(name for name, cls in vars(package).items()
                  if inspect.isclass(cls) and issubclass(
                      cls, torch.nn.Module) and MODELS.get(name) is cls)


@pytest.mark.parametrize('name', package_backbones())
def test_every_backbone_has_what_its_mixins_declare(name):
    """Each host gives every attribute its mixins declare (those read with
    getattr / hasattr are the optional ones, listed by the mixin)."""
    model = build(dict(type=name, arch=ARCH, img_size=IMG, patch_size=PATCH,
                       **HOST_KWARGS.get(name, {})))
    declared = {}
    for base in type(model).__mro__:
        if base.__name__.endswith('Mixin'):
            optional = vars(base).get('optional_host_attributes', ())
            for attribute in vars(base).get('__annotations__', {}):
                if attribute not in optional:
                    declared[attribute] = base.__name__
    assert declared, f'{name} declares nothing of its host'
    missing = {attribute: mixin for attribute, mixin in declared.items()
               if not hasattr(model, attribute)}
    assert missing == {}


@pytest.mark.parametrize('name', package_backbones())
def test_every_backbone_forward_reads_in_its_own_file(name):
    """A backbone's forward is written in the backbone's own file (over the
    token-path steps), or is its MMPretrain parent's unchanged: never a
    mixin's from another file."""
    cls = MODELS.get(name)
    forward = inspect.unwrap(cls.forward)
    assert forward.__module__ in (cls.__module__, ) or not \
        forward.__module__.startswith('mmropim'), (
            f'{name}.forward comes from {forward.__qualname__} in '
            f'{forward.__module__}')
    # nor reached through super(): no base of ours in another file has one
    elsewhere = [
        f'{base.__qualname__} ({base.__module__})' for base in cls.__mro__[1:]
        if base.__module__.startswith('mmropim')
        and base.__module__ != cls.__module__ and 'forward' in vars(base)
    ]
    assert elsewhere == [], f'{name}.forward may run {elsewhere}'
