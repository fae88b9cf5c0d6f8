"""LayerGroupLrOptimWrapperConstructor: the learning rates of Layer Grafted
Pre-training's contrastive stage (its ``param_groups_lrd_moco`` with
``--lr_layer_wise``), checked on the LGP-ROPIM ViT-B/16 config."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

import mmropim  # noqa: F401
from mmropim.engine.layer_group_lr_constructor import block_group
from helpers import REPO_ROOT, fp32_optim_wrapper_cfg, raises_naming

LGP_VITB_CFG = osp.join(
    REPO_ROOT, 'configs', 'ropim', 'lgp',
    'lgp-ropim_beit-base-p16_16xb256-amp-coslr-300e_in1k.py')
LGP_DEMO_CFG = osp.join(REPO_ROOT, 'configs', 'ropim', 'lgp',
                        'lgp-ropim_beit-mini-p8_1xb32-coslr-10e_demo-64px.py')

# LGP's ViT-B grafting command: --lr 1 at batch 4096 (scaled by batch / 256
# in main_pretrain.py), --lr_layer_wise "1.5e-5,1.5e-5,1.5e-4",
# --weight-decay .1 (cmds/shell_scripts/pretrain.sh)
LGP_BASE_LR = 1 * 4096 / 256
LOWER_LR = LGP_BASE_LR * 1.5e-5
UPPER_LR = LGP_BASE_LR * 1.5e-4
WEIGHT_DECAY = 0.1


def build(path, **backbone):
    cfg = Config.fromfile(path)
    cfg.model.backbone.update(backbone)
    init_default_scope('mmpretrain')
    model = MODELS.build(cfg.model)
    wrapper = build_optim_wrapper(model,
                                  fp32_optim_wrapper_cfg(cfg.optim_wrapper))
    return cfg, model, wrapper


def settings_by_name(model, optimizer):
    """{parameter name: its group} for the parameters in the optimizer."""
    groups = {
        id(param): group
        for group in optimizer.param_groups for param in group['params']
    }
    return {
        name: groups[id(param)]
        for name, param in model.named_parameters() if id(param) in groups
    }


def expected_lr(name):
    """The LGP recipe for 12 blocks in 3 groups: the embeddings and
    blocks 0-7 at the lower lr; blocks 8-11 and everything after them
    (final norm, shared relative position table, projector, predictor) at
    the upper one."""
    if name.startswith('backbone.layers.'):
        block = int(name.split('.')[2])
        return LOWER_LR if block < 8 else UPPER_LR
    if name.startswith(('backbone.patch_embed', 'backbone.cls_token')):
        return LOWER_LR
    return UPPER_LR


@pytest.fixture(scope='module')
def vitb():
    return build(LGP_VITB_CFG)


def test_vitb_config_sets_the_lgp_learning_rates(vitb):
    cfg, model, wrapper = vitb
    assert cfg.optim_wrapper.optimizer.lr == LGP_BASE_LR
    assert cfg.auto_scale_lr.base_batch_size == 4096
    settings = settings_by_name(model, wrapper.optimizer)
    trained = [n for n, p in model.named_parameters() if p.requires_grad]
    assert sorted(settings) == sorted(trained)
    wrong = [(name, group['lr']) for name, group in settings.items()
             if group['lr'] != pytest.approx(expected_lr(name))]
    assert wrong == []
    assert {round(g['lr'] / LOWER_LR) for g in settings.values()} == {1, 10}
    # each group of 4 blocks is there, and the heads are in the last
    for block, lr in ((0, LOWER_LR), (7, LOWER_LR), (8, UPPER_LR)):
        name = f'backbone.layers.{block}.attn.qkv.weight'
        assert settings[name]['lr'] == pytest.approx(lr)
    for name in ('neck.fc0.weight', 'head.predictor.fc0.weight',
                 'backbone.ln1.weight',
                 'backbone.rel_pos_bias.relative_position_bias_table'):
        assert settings[name]['lr'] == pytest.approx(UPPER_LR)
        assert settings[name]['lr_group'] == 2


def test_vitb_config_decays_all_but_1d_parameters(vitb):
    _, model, wrapper = vitb
    settings = settings_by_name(model, wrapper.optimizer)
    params = dict(model.named_parameters())
    wrong = [
        name for name, group in settings.items() if group['weight_decay'] !=
        (0.0 if params[name].ndim == 1 else WEIGHT_DECAY)
    ]
    assert wrong == []
    # as LGP's call (no_weight_decay_list=[]): the class token is decayed
    assert settings['backbone.cls_token']['weight_decay'] == WEIGHT_DECAY
    assert settings['backbone.layers.0.gamma_1']['weight_decay'] == 0.0


def test_frozen_parts_stay_out_of_the_optimizer(vitb):
    _, model, wrapper = vitb
    settings = settings_by_name(model, wrapper.optimizer)
    frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
    assert any(n.startswith('momentum_encoder.') for n in frozen)
    assert 'backbone.patch_embed.projection.weight' in frozen  # stop-grad
    assert not set(frozen) & set(settings)


def test_a_trained_patch_embedding_joins_the_first_group():
    _, model, wrapper = build(LGP_DEMO_CFG, stop_grad_conv1=False)
    settings = settings_by_name(model, wrapper.optimizer)
    lower = 10.0 * 1.5e-5
    for name in ('backbone.patch_embed.projection.weight',
                 'backbone.patch_embed.projection.bias',
                 'backbone.cls_token',
                 'backbone.layers.1.ffn.layers.1.weight'):
        assert settings[name]['lr'] == pytest.approx(lower), name
        assert settings[name]['lr_group'] == 0
    assert settings['backbone.layers.2.attn.qkv.weight']['lr_group'] == 1


def test_a_block_count_the_groups_do_not_divide_is_refused():
    cfg = Config.fromfile(LGP_DEMO_CFG)  # 4 blocks
    cfg.optim_wrapper.paramwise_cfg.layer_group_lr_scales = [1e-5, 1e-5, 1e-4]
    init_default_scope('mmpretrain')
    model = MODELS.build(cfg.model)
    with raises_naming(ValueError, '3 values', '4 blocks'):
        build_optim_wrapper(model, cfg.optim_wrapper)


@pytest.mark.parametrize('paramwise_cfg, error, names', [
    (dict(), KeyError, ['layer_group_lr_scales']),
    (dict(layer_group_lr_scales=[]), ValueError, ['layer_group_lr_scales']),
    (dict(layer_group_lr_scales=[1e-5, -1e-4]), ValueError, ['-0.0001']),
    (dict(layer_group_lr_scales='1e-5,1e-4'), ValueError, ["'1e-5,1e-4'"]),
    (dict(layer_group_lr_scales=[1e-5], layer_decay_rate=0.6), KeyError,
     ['layer_decay_rate']),
    (dict(layer_group_lr_scales=[1e-5],
          custom_keys={'cls_token': dict(lr_mult=2.)}), ValueError,
     ['cls_token', 'decay_mult']),
])
def test_bad_paramwise_cfg_is_refused(paramwise_cfg, error, names):
    cfg = Config.fromfile(LGP_DEMO_CFG)
    cfg.optim_wrapper.paramwise_cfg = paramwise_cfg
    init_default_scope('mmpretrain')
    model = MODELS.build(cfg.model)
    with raises_naming(error, *names):
        build_optim_wrapper(model, cfg.optim_wrapper)


def test_custom_keys_set_decay():
    cfg = Config.fromfile(LGP_DEMO_CFG)
    cfg.optim_wrapper.paramwise_cfg.custom_keys = {
        'cls_token': dict(decay_mult=0.)}
    init_default_scope('mmpretrain')
    model = MODELS.build(cfg.model)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    settings = settings_by_name(model, wrapper.optimizer)
    assert settings['backbone.cls_token']['weight_decay'] == 0.0
    assert settings['backbone.layers.0.attn.qkv.weight'][
        'weight_decay'] == WEIGHT_DECAY


@pytest.mark.parametrize('depth, group', [(0, 0), (1, 0), (4, 0), (5, 1),
                                          (8, 1), (9, 2), (12, 2), (13, 2)])
def test_block_group_of_each_depth_for_12_blocks_in_3_groups(depth, group):
    assert block_group(depth, 12, 3) == group
