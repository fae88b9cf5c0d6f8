"""PR-MIM mixed into MMPretrain's own MAE / MFF configs and ROPIM into its
BEiT config (``_base_ = 'mmpretrain::...'``), and the clear errors of
half-done mixes."""
import copy
import os.path as osp

import mmpretrain
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

from mmropim.models import check_pipeline_mask_config, split_tokens
from helpers import (PRMIM_TINY_CFG, REPO_ROOT, ROPIM_TINY_CFG, assert_names,
                     fp32_optim_wrapper_cfg, logged_scalars, raises_naming,
                     run_tool, weight_decay_violations)

STOCK_MIXES = [
    'configs/prmim/stock/'
    'prmim-stock-mae_vit-base-p16_8xb512-amp-coslr-300e_in1k.py',
    'configs/prmim/stock/'
    'prmim-stock-mff_vit-base-p16_8xb512-amp-coslr-800e_in1k.py',
]
ROPIM_STOCK_MIX = ('configs/ropim/stock/'
                   'ropim-stock-beit_beit-base-p16_8xb256-amp-coslr-300e_'
                   'in1k.py')
# the ViT-B narrowed to 2 layers of 96 channels (building and initializing a
# ViT-B is most of a run on the CPU); the stock keys stay
NARROW_ARCH = ('arch=dict(_delete_=True, embed_dims=96, num_layers=2, '
               'num_heads=3, feedforward_channels=384)')


def write_harness(tmp_path, base, data_root, **extra):
    """A config inheriting ``base`` that trains 2 iterations of batch 2 on
    the demo images, in fp32 (fp16 autocast is minutes per step on a CPU;
    tests/test_tools/test_full_size_configs.py runs these configs narrowed
    at their batch of 512 under fp16 autocast), without checkpoints; the
    ``extra`` entries (e.g. a narrower model) are added as they are."""
    lines = [
        f'_base_ = {base!r}',
        'optim_wrapper = dict(_delete_=True, type="OptimWrapper", '
        'optimizer=_base_.optim_wrapper.optimizer, '
        'paramwise_cfg=_base_.optim_wrapper.paramwise_cfg)',
        'train_dataloader = dict(batch_size=2, num_workers=0, '
        'persistent_workers=False, dataset=dict(data_root='
        f'{data_root!r}, indices=4))',
        'train_cfg = dict(max_epochs=1)',
        'default_hooks = dict(checkpoint=None, logger=dict(interval=1))',
    ] + [f'{key} = {value}' for key, value in extra.items()]
    path = tmp_path / 'harness.py'
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


@pytest.mark.parametrize('config', STOCK_MIXES)
def test_stock_mix_trains_through_train_py(config, demo_root, tmp_path):
    cfg = Config.fromfile(osp.join(REPO_ROOT, config))
    # the stock parts' arguments reached ours and the stock run settings
    # stayed
    assert cfg.model.type == 'PRMIM'
    assert cfg.model.backbone.arch == 'b'
    assert cfg.model.backbone.mask_ratio == 0.75
    assert cfg.model.neck.patch_size == 16
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    # the stock config resumes by itself: its checkpoints must load safely
    assert cfg.resume and cfg.default_hooks.checkpoint.type == \
        'SafeCheckpointHook'
    types = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert types[-2:] == ['FurthestSampling', 'PackInputs']
    out_indices = ', out_indices=[0, 1]' if 'mff' in config else ''
    harness = write_harness(
        tmp_path, osp.join(REPO_ROOT, config), demo_root,
        model=f'dict(backbone=dict({NARROW_ARCH}{out_indices}), '
        'neck=dict(embed_dim=96, decoder_embed_dim=64, decoder_depth=1, '
        'decoder_num_heads=2), head=dict(in_channels=64))')
    assert_trains_two_iterations(harness, tmp_path)


@pytest.mark.parametrize('config, stock_config', [
    (STOCK_MIXES[0], 'mae/mae_vit-base-p16_8xb512-amp-coslr-300e_in1k.py'),
    (STOCK_MIXES[1], 'mff/mff_vit-base-p16_8xb512-amp-coslr-800e_in1k.py'),
])
def test_stock_mix_keeps_the_stock_optimizer(config, stock_config):
    """The mixes keep MMPretrain's optimizer settings as they are, and its
    own decay keys ('ln', 'bias', the tokens) exempt every 1-D parameter,
    PRMIMHead's norm (``ln1``, as MAE's decoder norm) too."""
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(osp.join(REPO_ROOT, config))
    stock = Config.fromfile(
        osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'configs',
                 stock_config))
    assert without_scope(cfg.optim_wrapper) == stock.optim_wrapper
    cfg.model.backbone.arch = dict(
        embed_dims=96, num_layers=2, num_heads=3, feedforward_channels=384)
    if 'mff' in config:
        cfg.model.backbone.out_indices = [0, 1]
    cfg.model.neck.update(embed_dim=96, decoder_embed_dim=64,
                          decoder_depth=1, decoder_num_heads=2)
    cfg.model.head.in_channels = 64
    model = MODELS.build(cfg.model)
    optimizer = build_optim_wrapper(
        model, fp32_optim_wrapper_cfg(cfg.optim_wrapper)).optimizer
    assert weight_decay_violations(model, optimizer) == []
    decay = {
        id(param): group['weight_decay']
        for group in optimizer.param_groups for param in group['params']
    }
    norm = model.head.decoder_norm
    assert isinstance(norm, torch.nn.LayerNorm)
    assert decay[id(norm.weight)] == 0.0
    assert decay[id(model.head.decoder_pred.weight)] == 0.05


def assert_trains_two_iterations(harness, tmp_path):
    work_dir = tmp_path / 'work'
    run_tool('tools/train.py', harness, '--work-dir', str(work_dir))
    losses = [row['loss'] for row in logged_scalars(str(work_dir))[-1]
              if 'loss' in row]
    assert len(losses) == 2
    assert all(torch.isfinite(torch.tensor(losses))) and min(losses) > 0


def without_scope(value):
    """A config value without the ``_scope_`` keys MMEngine adds to the
    dicts of a package base."""
    if isinstance(value, dict):
        return {
            k: without_scope(v)
            for k, v in value.items() if k != '_scope_'
        }
    if isinstance(value, (list, tuple)):
        return type(value)(without_scope(v) for v in value)
    return value


def test_ropim_stock_beit_mix_trains_through_train_py(demo_root, tmp_path):
    config = osp.join(REPO_ROOT, ROPIM_STOCK_MIX)
    cfg = Config.fromfile(config)
    stock = Config.fromfile(
        osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'configs', 'beit',
                 'beit_beit-base-p16_8xb256-amp-coslr-300e_in1k.py'))
    # the stock backbone's arguments and run settings carried over
    backbone = cfg.model.backbone
    assert backbone.type == 'ROPIMBEiTViT'
    for key in ('arch', 'patch_size', 'drop_path_rate',
                'layer_scale_init_value', 'out_type', 'init_cfg'):
        assert backbone[key] == stock.model.backbone[key], key
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg'):
        assert without_scope(cfg[key]) == stock[key], key
    assert cfg.model.target_generator is None and cfg.data_preprocessor is None
    assert cfg.model.data_preprocessor.mean == stock.data_preprocessor.mean
    types = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert 'BEiTMaskGenerator' not in types
    harness = write_harness(
        tmp_path, config, demo_root,
        model=f'dict(backbone=dict({NARROW_ARCH}), '
        'neck=dict(in_channels=96))')
    assert_trains_two_iterations(harness, tmp_path)


def test_train_py_refuses_furthest_sampling_for_plain_mae(demo_root,
                                                          tmp_path):
    stock = 'mmpretrain::mae/mae_vit-base-p16_8xb512-amp-coslr-300e_in1k.py'
    harness = write_harness(
        tmp_path,
        stock,
        demo_root,
        custom_imports="dict(imports=['mmropim'])",
        train_pipeline="[*_base_.train_pipeline[:-1], dict(type="
        "'FurthestSampling'), dict(type='PackInputs', algorithm_keys="
        "['throw_mask'])]")
    with open(harness, 'a') as f:
        f.write('train_dataloader = dict(dataset=dict(pipeline='
                'train_pipeline))\n')
    with pytest.raises(AssertionError) as error:
        run_tool('tools/train.py', harness, '--work-dir',
                 str(tmp_path / 'work'))
    assert_names(str(error.value), 'ValueError', 'FurthestSampling', "'MAE'",
                 'PRMIM')


def tiny_prmim_cfg():
    return copy.deepcopy(Config.fromfile(PRMIM_TINY_CFG))


def test_pipeline_check_on_configs():
    cfg = tiny_prmim_cfg()
    check_pipeline_mask_config(cfg)  # the shipped config is whole
    nested = copy.deepcopy(cfg)  # FurthestSampling inside RandomApply
    pipeline = nested.train_dataloader.dataset.pipeline
    index = [t['type'] for t in pipeline].index('FurthestSampling')
    pipeline[index] = dict(type='RandomApply', transforms=[pipeline[index]],
                           prob=1.0)
    check_pipeline_mask_config(nested)
    mae = copy.deepcopy(cfg)
    mae.model.type = 'MAE'
    with raises_naming(ValueError, 'FurthestSampling', "'MAE'", 'PRMIM'):
        check_pipeline_mask_config(mae)
    wrapped = copy.deepcopy(mae)  # inside a dataset wrapper too
    wrapped.train_dataloader.dataset = dict(
        type='RepeatDataset', times=2, dataset=mae.train_dataloader.dataset)
    with raises_naming(ValueError, 'FurthestSampling', "'MAE'"):
        check_pipeline_mask_config(wrapped)
    no_sampling = copy.deepcopy(cfg)
    no_sampling.train_dataloader.dataset.pipeline = [
        t for t in cfg.train_dataloader.dataset.pipeline
        if t['type'] != 'FurthestSampling'
    ]
    # what to add: the transform and the key it packs
    with raises_naming(ValueError, "'PRMIM'", 'FurthestSampling',
                       'throw_mask'):
        check_pipeline_mask_config(no_sampling)


@pytest.mark.parametrize('part, stock, advice', [
    ('backbone', dict(type='MAEViT'), 'PRMIMViT'),
    ('neck', dict(type='MAEPretrainDecoder'), 'PRMIMDecoder'),
    ('head', dict(type='MAEPretrainHead'), 'PRMIMHead'),
])
def test_half_done_mix_names_the_missing_part(part, stock, advice):
    init_default_scope('mmpretrain')
    model_cfg = tiny_prmim_cfg().model
    keep = {
        'backbone': ('arch', 'img_size', 'patch_size'),
        'neck': ('embed_dim', 'decoder_embed_dim', 'decoder_depth',
                 'decoder_num_heads', 'num_patches'),
        'head': ('patch_size', 'norm_pix', 'loss'),
    }[part]
    model_cfg[part] = dict(
        stock, **{k: model_cfg[part][k]
                  for k in keep if k in model_cfg[part]})
    with raises_naming(TypeError, part, stock['type'], advice):
        MODELS.build(model_cfg)


def test_neck_and_head_pixel_arguments_must_agree():
    init_default_scope('mmpretrain')
    model_cfg = tiny_prmim_cfg().model
    model_cfg.neck.patch_size = model_cfg.head.patch_size
    model_cfg.neck.in_chans = 3
    MODELS.build(copy.deepcopy(model_cfg))  # the stock keys, agreeing
    patch_size = model_cfg.head.patch_size
    model_cfg.neck.patch_size = patch_size * 2
    with raises_naming(ValueError, f'neck.patch_size={patch_size * 2}',
                       f'head.patch_size={patch_size}'):
        MODELS.build(model_cfg)


def test_backbone_mask_ratio_checks_the_pipeline_mask():
    init_default_scope('mmpretrain')
    backbone_cfg = tiny_prmim_cfg().model.backbone
    images = torch.randn(2, 3, 64, 64)
    mask = torch.zeros(2, 64, dtype=torch.bool)
    mask[:, :48] = True  # 0.75 of the 8 x 8 tokens
    split = split_tokens(mask, torch.zeros_like(mask))
    same = MODELS.build(dict(backbone_cfg, mask_ratio=0.75))
    assert same(images, token_split=split)[0].shape[1] == 1 + 16
    other = MODELS.build(dict(backbone_cfg, mask_ratio=0.6))
    with raises_naming(ValueError, 'mask_ratio=0.6', '48 of 64',
                       'FurthestSampling'):
        other(images, token_split=split)
    unset = MODELS.build(backbone_cfg)  # no mask_ratio: nothing to check
    unset(images, token_split=split)


def tiny_ropim_model_cfg():
    return copy.deepcopy(Config.fromfile(ROPIM_TINY_CFG).model)


@pytest.mark.parametrize('part, stock, advice', [
    ('backbone', dict(type='BEiTPretrainViT'), 'ROPIMBEiTViT'),
    ('head', dict(type='BEiTV1Head', embed_dims=32, num_embed=16,
                  loss=dict(type='CrossEntropyLoss')), 'ROPIMHead'),
    ('data_preprocessor', dict(type='TwoNormDataPreprocessor', mean=[0] * 3,
                               std=[1] * 3, second_mean=[0] * 3,
                               second_std=[1] * 3), 'SketchDataPreprocessor'),
])
def test_half_done_ropim_mix_names_the_missing_part(part, stock, advice):
    init_default_scope('mmpretrain')
    model_cfg = tiny_ropim_model_cfg()
    if part == 'backbone':
        stock = dict(stock, **{k: model_cfg.backbone[k]
                               for k in ('arch', 'img_size', 'patch_size')})
    model_cfg[part] = stock
    with raises_naming(TypeError, part, stock['type'], advice):
        MODELS.build(model_cfg)


def test_ropim_refuses_a_target_generator():
    init_default_scope('mmpretrain')
    model_cfg = tiny_ropim_model_cfg()
    model_cfg.target_generator = dict(type='DALL-E')  # never built
    with raises_naming(ValueError, "'DALL-E'", 'model.target_generator=None'):
        MODELS.build(model_cfg)


def test_pipeline_check_refuses_masks_for_ropim():
    cfg = copy.deepcopy(Config.fromfile(ROPIM_TINY_CFG))
    check_pipeline_mask_config(cfg)  # the shipped config is whole
    pipeline = cfg.train_dataloader.dataset.pipeline
    pipeline.insert(-1, dict(type='BEiTMaskGenerator', input_size=8))
    with raises_naming(ValueError, 'BEiTMaskGenerator', "'ROPIM'"):
        check_pipeline_mask_config(cfg)
    pipeline[-2] = dict(type='FurthestSampling')
    with raises_naming(ValueError, 'FurthestSampling', "'ROPIM'") as error:
        check_pipeline_mask_config(cfg)
    assert 'BEiTMaskGenerator' not in str(error.value)  # only what is there


def test_ropim_backbone_takes_beitv2_stock_outputs():
    """MMPretrain's BEiT v2 config asks its backbone for two outputs,
    un-normalized, as 'raw' tokens: ROPIM reconstructs from the last."""
    init_default_scope('mmpretrain')
    model_cfg = tiny_ropim_model_cfg()
    model_cfg.backbone.update(
        type='ROPIMBEiTViT', out_indices=[-2, -1], final_norm=False,
        out_type='raw')
    model = MODELS.build(model_cfg)
    size = model_cfg.backbone.img_size
    images = torch.randint(0, 256, (2, 3, size, size), dtype=torch.uint8)
    data = model.data_preprocessor(
        dict(inputs=images, data_samples=None), training=True)
    loss = model(**data, mode='loss')['loss']
    assert torch.isfinite(loss) and loss > 0
    loss.backward()
    assert model.backbone.layers[-1].ffn.layers[1].weight.grad.abs().sum() > 0


def test_the_readme_mix_is_the_shipped_config():
    """The README shows the MAE mix as "all of" the shipped stock-mix
    config: the code of its snippet is that file's (comments and layout
    aside)."""
    import ast
    import re
    with open(osp.join(REPO_ROOT, 'README.md'), encoding='utf-8') as f:
        blocks = re.findall(r'```python\n(.*?)```', f.read(), re.S)
    snippet = next(b for b in blocks if b.startswith(
        "_base_ = 'mmpretrain::mae/"))
    shipped = osp.join(REPO_ROOT, 'configs', 'prmim', 'stock',
                       'prmim-stock-mae_vit-base-p16_8xb512-amp-coslr-300e_'
                       'in1k.py')
    with open(shipped, encoding='utf-8') as f:
        assert ast.dump(ast.parse(snippet)) == ast.dump(ast.parse(f.read()))
