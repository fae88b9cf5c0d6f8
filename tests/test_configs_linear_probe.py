"""Linear-probe configs (MMPretrain's MAE protocol: frozen backbone, class
token after the final norm, BatchNorm without affine before a linear head,
LARS, 90 epochs): the full-size ones load and build, the demo ones train
through tools/train.py on the demo images, and only the head learns."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope, init_default_scope
from mmpretrain.registry import MODELS

import mmropim  # noqa: F401
from mmropim.utils import load_local_checkpoint
from helpers import PRMIM_TINY_CFG, REPO_ROOT, ROPIM_TINY_CFG, run_tool

CONFIGS = osp.join(REPO_ROOT, 'configs')
FULL_SIZE = {
    'ropim': 'ropim/benchmarks/beit-base-p16_8xb2048-linear-coslr-90e_in1k.py',
    'prmim': 'prmim/benchmarks/vit-base-p16_8xb2048-linear-coslr-90e_in1k.py',
}
# the demo configs and the demo pre-training whose checkpoint they read
DEMO = {
    'ropim': ('ropim/benchmarks/beit-mini-p8_1xb32-linear-coslr-10e_'
              'demo-64px.py', ROPIM_TINY_CFG),
    'prmim': ('prmim/benchmarks/vit-mini-p8_1xb32-linear-coslr-10e_'
              'demo-64px.py', PRMIM_TINY_CFG),
}
ALL = [*FULL_SIZE.values(), *(config for config, _ in DEMO.values())]
HEAD = ['head.layers.head.weight', 'head.layers.head.bias']


def build(cfg_model):
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        init_default_scope('mmpretrain')
        return MODELS.build(cfg_model)


@pytest.mark.parametrize('relpath', ALL)
def test_linear_probe_follows_the_mae_protocol(relpath):
    """As MMPretrain's mae/benchmarks/vit-base-p16_8xb2048-linear-coslr-
    90e_in1k.py: the class token after the final norm, BatchNorm without
    affine, a linear head, LARS without weight decay, 10 warmup epochs of 90
    (demo: 1 of 10), the pre-training checkpoint checked before the first
    step."""
    cfg = Config.fromfile(osp.join(CONFIGS, relpath))
    backbone = cfg.model.backbone
    assert backbone.out_type == 'cls_token' and backbone.final_norm
    assert backbone.get('drop_path_rate', 0) == 0
    assert backbone.init_cfg == dict(type='Pretrained', checkpoint='',
                                     prefix='backbone.')
    assert cfg.model.neck.type == 'ClsBatchNormNeck'
    assert not cfg.model.neck.get('affine', False)
    assert cfg.model.head.type == 'VisionTransformerClsHead'
    assert cfg.model.head.get('hidden_dim') is None
    assert not (cfg.model.get('train_cfg') or {}).get('augments')
    optimizer = cfg.optim_wrapper.optimizer
    assert optimizer.type == 'LARS' and optimizer.weight_decay == 0
    assert optimizer.momentum == 0.9
    assert 'constructor' not in cfg.optim_wrapper
    assert cfg.train_dataloader.drop_last
    demo = '_demo-' in relpath
    assert cfg.train_cfg.max_epochs == (10 if demo else 90)
    warmup, cosine = cfg.param_scheduler
    assert warmup.type == 'LinearLR' and warmup.end == cosine.begin == (
        1 if demo else 10)
    assert cosine.end == cosine.begin + cosine.T_max == \
        cfg.train_cfg.max_epochs
    hooks = [h for h in cfg.custom_hooks
             if h.type == 'PretrainedWeightsCheckHook']
    assert len(hooks) == 1 and not hooks[0].get('fresh_parameters')
    if not demo:
        assert cfg.train_dataloader.batch_size == 2048
        assert optimizer.lr == pytest.approx(0.1 * 16384 / 256)
        assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
        assert cfg.model.head.num_classes == 1000


@pytest.mark.parametrize('relpath', ALL)
def test_only_the_head_is_trained(relpath):
    """Every backbone parameter is frozen; the head's are the only ones
    that require and receive a gradient (the BatchNorm has no affine
    parameters; it only keeps running statistics)."""
    cfg = Config.fromfile(osp.join(CONFIGS, relpath))
    cfg.model.backbone.init_cfg = None  # no checkpoint here
    model = build(cfg.model)
    model.init_weights()
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable == HEAD
    assert list(model.neck.parameters()) == []
    from mmengine.optim import build_optim_wrapper
    optim_cfg = cfg.optim_wrapper.copy()
    optim_cfg.type = 'OptimWrapper'  # no CUDA
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        optimizer = build_optim_wrapper(model, optim_cfg).optimizer
    assert type(optimizer).__name__ == 'LARS'
    if '_demo-' not in relpath:
        return  # the full-size models are built, not run
    size = model.backbone.patch_embed.init_input_size
    model.train()
    images = torch.randint(0, 256, (4, 3, *size), dtype=torch.uint8)
    data = model.data_preprocessor(dict(inputs=images), training=True)
    from mmpretrain.structures import DataSample
    samples = [DataSample().set_gt_label(i) for i in range(4)]
    loss = model(data['inputs'], samples, mode='loss')['loss']
    loss.backward()
    with_grad = [n for n, p in model.named_parameters()
                 if p.grad is not None and p.grad.abs().sum() > 0]
    assert with_grad == HEAD
    assert model.neck.bn.running_mean.abs().sum() > 0


def save_pretraining_checkpoint(pretrain_cfg, path):
    """A checkpoint of the demo pre-training model as tools/train.py writes
    one (its weights as initialized: only the loading is tested here)."""
    model = build(Config.fromfile(pretrain_cfg).model)
    model.init_weights()
    torch.save({'state_dict': model.state_dict(), 'meta': {'epoch': 1}},
               path)
    return model.state_dict()


@pytest.mark.parametrize('method', sorted(DEMO))
def test_demo_linear_probe_trains_through_train_py(method, small_demo_root,
                                                   tmp_path):
    """One epoch on the cut demo set, validation included: the backbone
    weights leave the run exactly as the pre-training checkpoint held them
    (the shared relative position table of the BEiT-style model copied
    into every layer), the head and the BatchNorm statistics change."""
    relpath, pretrain_cfg = DEMO[method]
    pretrained = str(tmp_path / 'pretrained.pth')
    source = save_pretraining_checkpoint(pretrain_cfg, pretrained)
    work_dir = str(tmp_path / 'work')
    out = run_tool(
        'tools/train.py', osp.join(CONFIGS, relpath), '--work-dir', work_dir,
        '--cfg-options', f'model.backbone.init_cfg.checkpoint={pretrained}',
        f'train_dataloader.dataset.data_root={small_demo_root}',
        f'val_dataloader.dataset.data_root={small_demo_root}',
        'train_cfg.max_epochs=1')
    assert 'accuracy/top1' in out
    state = load_local_checkpoint(osp.join(work_dir,
                                           'epoch_1.pth'))['state_dict']
    shared = 'backbone.rel_pos_bias.relative_position_bias_table'
    checked = 0
    for key, value in state.items():
        if not key.startswith('backbone.') or key.endswith(
                'relative_position_index'):
            continue
        if key.endswith('attn.relative_position_bias_table'):
            torch.testing.assert_close(value, source[shared])
        else:
            torch.testing.assert_close(value, source[key], msg=key)
        checked += 1
    assert checked > 20
    cfg = Config.fromfile(osp.join(CONFIGS, relpath))
    initial = build(cfg.model)  # the head as initialized, seed aside
    assert state['head.layers.head.weight'].shape == \
        initial.head.layers.head.weight.shape
    assert state['head.layers.head.bias'].abs().sum() > 0
    assert state['neck.bn.running_mean'].abs().sum() > 0
    assert state['neck.bn.num_batches_tracked'] == 1


@pytest.mark.parametrize('relpath', sorted(FULL_SIZE.values()))
def test_full_size_probe_narrows_for_the_config_checks(relpath):
    """tools/analysis/check_configs.py narrows the models (widths / 64, 2
    layers): the BatchNorm's width follows the backbone's, and the frozen
    stages (all 12) are cut to the 2 layers left, all still frozen."""
    from mmropim.utils.model_narrowing import narrow_model
    cfg = Config.fromfile(osp.join(CONFIGS, relpath))
    narrow = narrow_model(cfg.model, 64, max_depth=2)
    assert narrow.backbone.frozen_stages == 2
    assert narrow.neck.input_features == 12
    model = build(narrow)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable == HEAD
    model.train()
    images = torch.randint(0, 256, (2, 3, 224, 224), dtype=torch.uint8)
    data = model.data_preprocessor(dict(inputs=images), training=True)
    feats = model.extract_feat(data['inputs'])
    assert feats[-1].shape == (2, 12)
