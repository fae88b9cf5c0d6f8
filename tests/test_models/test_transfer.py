"""Pre-trained ViTs into MMSegmentation: loud checkpoint loading with
interpolation, layer-wise lr decay, configs, and tiny real transfer runs."""
import glob
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS as PRETRAIN_MODELS
from mmseg.registry import MODELS as SEG_MODELS
from timm.layers import resample_abs_pos_embed

import mmropim.downstream  # noqa: F401  (registers into MMSeg, MMDet)
from mmropim.utils import (load_backbone_weights,
                           resize_relative_position_bias_table)
from helpers import (REPO_ROOT, assert_test_reproduces_validation,
                     ffn_branches_dropping_twice, fp32_optim_wrapper_cfg,
                     raises_naming, run_tool, vitdet_weight_decay_violations,
                     weight_decay_violations)

MINI = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
ADE_DIR = osp.join(REPO_ROOT, 'configs', 'downstream', 'ade20k')
SEG_CONFIGS = sorted(glob.glob(osp.join(ADE_DIR, '*.py')))


def save_pretraining_checkpoint(backbone_type, path, img_size=32,
                                rel_table=None, **kwargs):
    """A pre-training-style checkpoint: backbone + neck keys, a 4 x 4 grid
    (32 px) unless ``img_size`` says otherwise; ``rel_table`` replaces the
    shared relative position table (initialized to zeros, which every
    resize keeps)."""
    init_default_scope('mmpretrain')
    backbone = PRETRAIN_MODELS.build(
        dict(type=backbone_type, arch=MINI, img_size=img_size, patch_size=8,
             **kwargs))
    backbone.init_weights()
    state = {f'backbone.{k}': v for k, v in backbone.state_dict().items()}
    if rel_table is not None:
        key = 'backbone.rel_pos_bias.relative_position_bias_table'
        assert state[key].shape == rel_table.shape
        state[key] = rel_table
    state['neck.decoder.0.weight'] = torch.zeros(3, 32, 1, 1)
    torch.save({'state_dict': state, 'meta': {'epoch': 1}}, path)
    return state


def golden_table(golden_source):
    """A 2-head shared relative position table: the offsets hold
    ``golden_source`` (head 1: -2 times it), then 3 class-token rows."""
    offsets = torch.tensor(golden_source).reshape(-1, 1)
    return torch.cat([
        torch.cat([offsets, -2 * offsets], dim=1),
        torch.tensor([[7., -7.], [8., -8.], [9., -9.]])
    ])


def assert_golden_table(table, golden, side):
    """``table`` is ``golden_table`` resized to ``side`` x ``side`` offsets:
    the golden values (head 1: -2 times them), the class-token rows kept."""
    golden = torch.tensor(golden).reshape(-1)
    assert table.shape == (side * side + 3, 2)
    torch.testing.assert_close(table[:-3, 0], golden, atol=1e-4, rtol=0)
    torch.testing.assert_close(table[:-3, 1], -2 * golden, atol=2e-4,
                               rtol=0)
    torch.testing.assert_close(table[-3:], golden_table([[0]])[-3:])


def resampled_positions(pos_embed, src_hw, dst_hw, num_extra_tokens):
    """A position embedding resized by another route than the backbones'
    (MMPretrain's ``resize_pos_embed``): timm's resampler with MMPretrain's
    settings, bicubic without antialiasing."""
    return resample_abs_pos_embed(
        pos_embed, list(dst_hw), list(src_hw),
        num_prefix_tokens=num_extra_tokens, interpolation='bicubic',
        antialias=False)


def build_seg_backbone(backbone_type, checkpoint, registry=None,
                       img_size=(64, 64), **kwargs):
    """A downstream backbone loading ``checkpoint``; by default an 8 x 8
    grid instead of the checkpoint's 4 x 4."""
    return (registry or SEG_MODELS).build(
        dict(
            type=backbone_type,
            arch=MINI,
            img_size=img_size,
            patch_size=8,
            out_indices=(0, 1),
            init_cfg=dict(
                type='Pretrained', checkpoint=checkpoint,
                prefix='backbone.'),
            **kwargs))


def downstream_registries():
    """MMSeg's registry with global attention, MMDet's with ViTDet windows
    (4 x 4 windows, layer 1 global), which keep 8 x 8 global tables."""
    from mmdet.registry import MODELS as det_models
    return [
        pytest.param(SEG_MODELS, {}, id='mmseg'),
        pytest.param(
            det_models, dict(window_size=4, global_indices=(1, )),
            id='mmdet'),
    ]


@pytest.mark.parametrize('pretraining_backbone',
                         ['ROPIMBEiTViT', 'PRMIMSimMIMBEiTViT'])
@pytest.mark.parametrize('registry,window', downstream_registries())
def test_beit_style_checkpoint_loads_into_downstream_backbone(
        registry, window, pretraining_backbone, tmp_path):
    """The shared table of a 3 x 3 grid (24 px) holds the 5 x 5 offsets of
    the golden values below: in every layer of the 5 x 5 grid (40 px) it is
    their 9 x 9 resize (computed with interp2d, not with the function the
    backbone calls); in 3 x 3 windows, of the checkpoint's size, a copy."""
    path = str(tmp_path / 'beit_style.pth')
    source = save_pretraining_checkpoint(pretraining_backbone, path,
                                         img_size=24,
                                         rel_table=golden_table(GOLDEN_SOURCE))
    if window:
        window = dict(window, window_size=3)
    backbone = build_seg_backbone('TransferBEiTViT', path, registry,
                                  img_size=(40, 40), **window)
    backbone.init_weights()
    shared = source['backbone.rel_pos_bias.relative_position_bias_table']
    windowed_layers = {0} if window else set()
    checked = 0
    for key, value in backbone.state_dict().items():
        if key.endswith('relative_position_index'):
            continue
        if key.endswith('attn.relative_position_bias_table'):
            layer = int(key.split('.')[1])
            if layer in windowed_layers:  # same size: copied, not resized
                torch.testing.assert_close(value, shared)
            else:  # (2*3-1)^2 + 3 rows -> (2*5-1)^2 + 3 rows
                assert_golden_table(value, GOLDEN_RESIZED, 9)
        else:
            torch.testing.assert_close(value, source['backbone.' + key])
        checked += 1
    assert checked == len(list(backbone.parameters()))
    features = backbone(torch.randn(1, 3, 40, 40))
    assert [f.shape for f in features] == [(1, 32, 5, 5)] * 2


@pytest.mark.parametrize('img_size', [(64, 64), (64, 40)],
                         ids=['square', 'tall'])
@pytest.mark.parametrize('registry,window', downstream_registries())
def test_vit_style_checkpoint_loads_into_downstream_backbone(
        registry, window, img_size, tmp_path):
    path = str(tmp_path / 'prmim.pth')
    source = save_pretraining_checkpoint('PRMIMViT', path)
    backbone = build_seg_backbone('TransferViT', path, registry,
                                  img_size=img_size, **window)
    backbone.init_weights()
    grid = (img_size[0] // 8, img_size[1] // 8)
    for key, value in backbone.state_dict().items():
        expected = source['backbone.' + key]
        if key == 'pos_embed':  # 1 + 4x4 tokens -> 1 + 8x8 (8x5) tokens
            expected = resampled_positions(expected, (4, 4), grid, 1)
        torch.testing.assert_close(value, expected)


MAE_RECIPE = dict(
    use_abs_pos_emb=True, use_rel_pos_bias=True, use_shared_rel_pos_bias=False,
    layer_scale_init_value=1.0, bias=True,
    fresh_parameters=('relative_position_bias_table', 'gamma_1', 'gamma_2'))


def test_mae_recipe_adds_zero_relative_bias_and_layer_scale(tmp_path):
    """MAE's ADE20K recipe on an MAE / PR-MIM checkpoint: every weight of
    the checkpoint loads (position embedding resized), the relative position
    tables start at zero and the layer scales at 1.0; they are named in the
    log. Any other weight the checkpoint lacks still raises."""
    path = str(tmp_path / 'prmim.pth')
    source = save_pretraining_checkpoint('PRMIMViT', path)
    backbone = build_seg_backbone('TransferBEiTViT', path, **MAE_RECIPE)
    report = load_backbone_weights(backbone, path, 'backbone.',
                                   MAE_RECIPE['fresh_parameters'])
    assert len(report['fresh']) == 3 * MINI['num_layers']
    backbone.init_weights()
    fresh = 0
    for key, value in backbone.named_parameters():
        if key.endswith('relative_position_bias_table'):
            assert not value.any()
            fresh += 1
        elif key.endswith(('gamma_1', 'gamma_2')):
            assert (value == 1.0).all()
            fresh += 1
        elif key == 'pos_embed':
            torch.testing.assert_close(
                value, resampled_positions(source['backbone.pos_embed'],
                                           (4, 4), (8, 8), 1))
        else:
            torch.testing.assert_close(value, source['backbone.' + key])
    assert fresh == 3 * MINI['num_layers']
    state = torch.load(path)['state_dict']
    del state['backbone.layers.0.attn.qkv.bias']  # not in the allow-list
    torch.save({'state_dict': state}, path)
    with raises_naming(KeyError, path, 'layers.0.attn.qkv.bias'):
        build_seg_backbone('TransferBEiTViT', path,
                           **MAE_RECIPE).init_weights()


@pytest.mark.parametrize('registry,window', downstream_registries())
def test_checkpoint_missing_backbone_weights_raises(registry, window,
                                                    tmp_path):
    path = str(tmp_path / 'partial.pth')
    save_pretraining_checkpoint('PRMIMViT', path)
    state = torch.load(path)['state_dict']
    del state['backbone.layers.1.ffn.layers.1.weight']
    torch.save({'state_dict': state}, path)
    with raises_naming(KeyError, path, 'layers.1.ffn.layers.1.weight'):
        build_seg_backbone('TransferViT', path, registry,
                           **window).init_weights()
    # a checkpoint of something else entirely: nothing under backbone.
    torch.save({'state_dict': {'head.fc.weight': torch.zeros(2, 2)}}, path)
    # names the prefix under which it found nothing
    with raises_naming(KeyError, path, 'backbone.'):
        build_seg_backbone('TransferViT', path, registry,
                           **window).init_weights()


def test_checkpoint_of_another_width_raises(tmp_path):
    path = str(tmp_path / 'wide.pth')
    save_pretraining_checkpoint('PRMIMViT', path)
    backbone = SEG_MODELS.build(
        dict(type='TransferViT',
             arch=dict(MINI, embed_dims=48),
             img_size=(32, 32), patch_size=8, out_indices=(1, ),
             init_cfg=dict(type='Pretrained', checkpoint=path)))
    with raises_naming(ValueError, path, 'TransferViT'):
        backbone.init_weights()


def test_empty_checkpoint_path_says_how_to_set_it():
    backbone = build_seg_backbone('TransferViT', '')
    with pytest.raises(ValueError, match='init_cfg.checkpoint'):
        backbone.init_weights()


# MMPretrain 1.2.0's resize_relative_position_bias_table (BEiT's geometric
# spacing + scipy.interpolate.interp2d(kind='cubic')) run with SciPy 1.13.1,
# the last release with interp2d, on GOLDEN_SOURCE (5 x 5 -> 9 x 9, rounded
# to 5 decimals): an independent reference for the replacement that SciPy
# >= 1.14 needs.
GOLDEN_SOURCE = [[((i * 5 + j) % 7) - 3 + 0.25 * i * j for j in range(5)]
                 for i in range(5)]
GOLDEN_RESIZED = [
    -3.0, -3.0, -2.77143, -2.0, -1.0, 0.0, 0.77143, 1.0, 1.0,
    -3.0, -3.0, -2.77143, -2.0, -1.0, 0.0, 0.77143, 1.0, 1.0,
    0.34285, 0.34285, 4.68103, 1.50666, -5.10285, -4.04571, 0.83093, 2.33143,
    2.33143,
    2.0, 2.0, 6.04571, 3.25, -2.5, -1.25, 1.27428, 0.0, 0.0,
    0.0, 0.0, 0.44952, 1.5, 3.0, 4.5, 2.56381, -1.0, -1.0,
    -2.0, -2.0, -1.6, -0.25, 1.5, 3.25, 4.6, 5.0, 5.0,
    -0.34285, -0.34285, -0.81098, -1.49333, -1.21714, 0.72572, 4.89972,
    7.98857, 7.98857,
    3.0, 3.0, -0.44952, -2.0, -0.0, 2.0, 3.43619, 4.0, 4.0,
    3.0, 3.0, -0.44952, -2.0, -0.0, 2.0, 3.43619, 4.0, 4.0,
]


# the same for a 9 x 9 -> 11 x 11 table, where BEiT's ratio search lands
# inside its bracket (q ~ 1.19) rather than at its bound
GOLDEN_SOURCE_9 = [[((i * 9 + 2 * j) % 11) - 5 + 0.1 * i * j
                    for j in range(9)] for i in range(9)]
GOLDEN_RESIZED_11 = [
    [-5, -3.68875, -2.33989, -0.73282, 1, 3, 5, -3.0104, -4.20891, 0.54892,
     0.0],
    [2.97943, -8.81633, -4.98422, -0.07522, -0.67767, 2.1325, 4.00833,
     4.89895, -2.26298, -8.87426, 1.06026],
    [3.74056, 1.61521, -3.34103, -4.65804, -0.79225, 0.72079, 3.01177,
     5.49606, 3.10951, -1.69931, -3.13391],
    [1.6798, 6.63848, 1.26787, -3.96011, -3.00004, -0.29354, 1.79417,
     3.63051, 6.11921, 6.08577, -1.31224],
    [0.0, -0.35717, 4.61204, 3.6472, -4.1, -1.8, 0.5, 2.49601, 4.33677,
     5.89699, 7.4],
    [-2, 0.12509, 0.73288, 3.48593, 5.2, -3.4, -1, 1.20831, 2.84579, 4.82116,
     6.2],
    [-4, -2.55725, -0.51141, 1.20396, 3.5, 6, -2.5, -0.6982, 2.13275, 2.811,
     5],
    [4.01085, -3.21773, -2.86183, -0.14584, 1.9058, 4.98777, 5.94905,
     -0.95642, -1.0312, 4.11529, 3.96903],
    [5.20834, 4.2647, -0.44161, -2.23868, 0.81358, 2.85787, 7.53703, 4.89471,
     0.90897, -0.17056, 2.98511],
    [0.45176, 10.62744, 4.82836, -2.03091, -0.66858, 2.81375, 3.13149,
     10.82899, 6.42887, -3.43901, 2.19992],
    [1, 0.9631, 6.28334, 5.709, -1.6, 1.2, 4, 6.38165, 9.06556, 8.86809,
     1.4],
]


def test_resized_relative_table_matches_interp2d_golden_values():
    table = torch.tensor(GOLDEN_SOURCE).reshape(25, 1)
    two_heads = torch.cat([table, -2 * table], dim=1)
    resized = resize_relative_position_bias_table(5, 9, two_heads, 2)
    golden = torch.tensor(GOLDEN_RESIZED)
    assert resized.shape == (81, 2)
    torch.testing.assert_close(resized[:, 0], golden, atol=1e-5, rtol=0)
    torch.testing.assert_close(resized[:, 1], -2 * golden, atol=2e-5,
                               rtol=0)
    table = torch.tensor(GOLDEN_SOURCE_9).reshape(81, 1)
    resized = resize_relative_position_bias_table(9, 11, table, 1)
    torch.testing.assert_close(resized.view(11, 11),
                               torch.tensor(GOLDEN_RESIZED_11),
                               atol=1e-4, rtol=0)


def test_layer_decay_reaches_the_backbone_of_a_segmentor():
    cfg = Config.fromfile(
        osp.join(ADE_DIR,
                 'upernet_ropim-beit-mini-p8_1xb4-40iter_'
                 'demo-nuclei-128px.py'))
    init_default_scope('mmseg')
    model = SEG_MODELS.build(cfg.model)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    lrs = {group['param_name']: group['lr']
           for group in wrapper.optimizer.param_groups}
    base_lr = cfg.optim_wrapper.optimizer.lr
    rate = cfg.optim_wrapper.paramwise_cfg.layer_decay_rate
    num_depths = cfg.model.backbone.arch.num_layers + 2
    assert lrs['backbone.patch_embed.projection.weight'] == pytest.approx(
        base_lr * rate**(num_depths - 1))
    assert lrs['backbone.layers.3.attn.proj.weight'] == pytest.approx(
        base_lr * rate)
    assert lrs['decode_head.conv_seg.weight'] == pytest.approx(base_lr)


@pytest.mark.parametrize('path', SEG_CONFIGS,
                         ids=lambda p: osp.relpath(p, ADE_DIR))
def test_downstream_config_loads_and_builds(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmseg'
    init_default_scope('mmseg')
    model = SEG_MODELS.build(cfg.model)
    assert type(model.backbone).__name__ in ('TransferViT',
                                             'TransferBEiTViT')
    assert cfg.optim_wrapper.constructor == \
        'BackboneLayerDecayOptimWrapperConstructor'
    wrapper = build_optim_wrapper(model,
                                  fp32_optim_wrapper_cfg(cfg.optim_wrapper))
    # MMSeg's and BEiT's constructors exempt 1-D parameters only: their
    # 'pos_embed' / 'cls_token' names never match 'backbone.pos_embed'
    assert weight_decay_violations(
        model, wrapper.optimizer, decayed=('pos_embed', 'cls_token')) == []
    assert ffn_branches_dropping_twice(model) == []


def test_full_size_segmentor_runs_a_forward_pass_on_cpu():
    cfg = Config.fromfile(
        osp.join(ADE_DIR,
                 'upernet_ropim-beit-base-p16_8xb2-amp-160k_'
                 'ade20k-512x512.py'))
    init_default_scope('mmseg')
    model = SEG_MODELS.build(cfg.model).eval()
    with torch.no_grad():
        logits = model(torch.randn(1, 3, 512, 512), mode='tensor')
    assert logits.shape == (1, 150, 128, 128)


@pytest.mark.slow
@pytest.mark.parametrize('method', ['ropim', 'prmim'])
def test_tiny_transfer_from_our_pretraining_checkpoints(
        method, pretrain_run, prmim_run, tmp_path_factory, repo_root):
    demo = str(tmp_path_factory.mktemp('ade') / 'ade20k')
    from mmropim.datasets.demo import write_ade20k_style
    write_ade20k_style(demo)
    checkpoint = (pretrain_run if method == 'ropim' else prmim_run)[
        'checkpoint']
    config = glob.glob(osp.join(ADE_DIR, f'upernet_{method}-*mini*.py'))[0]
    work_dir = str(tmp_path_factory.mktemp(f'seg_{method}'))
    data = [f'{split}_dataloader.dataset.data_root={demo}'
            for split in ('train', 'val', 'test')]
    run_tool('tools/train.py', config, '--work-dir', work_dir,
             '--cfg-options',
             f'model.backbone.init_cfg.checkpoint={checkpoint}',
             'train_cfg.max_iters=10', 'train_cfg.val_interval=10',
             'default_hooks.checkpoint.interval=10', *data)
    with open(glob.glob(osp.join(work_dir, '*', '*.log'))[0]) as f:
        log = f.read()
    # PR-MIM transfers with MAE's recipe: zero relative position biases and
    # layer scale added, named in the log line of the checkpoint's loading
    fresh = [line for line in log.splitlines()
             if "['layers.0.attn.relative_position_bias_table'" in line]
    assert bool(fresh) == (method == 'prmim')
    assert all(checkpoint in line for line in fresh)
    out = str(tmp_path_factory.mktemp('metrics') / 'seg.json')
    run_tool('tools/test.py', config, osp.join(work_dir, 'iter_10.pth'),
             '--work-dir', work_dir, '--out', out, '--cfg-options', *data)
    with open(out) as f:
        metrics = json.load(f)
    assert_test_reproduces_validation(work_dir, metrics, ['mIoU'])


# ---------------------------------------------------------------- detection
from mmdet.registry import MODELS as DET_MODELS  # noqa: E402
from mmdet.structures import DetDataSample  # noqa: E402

from mmropim.models.backbones.window_attention import (  # noqa: E402
    beit_windowed_block, decomposed_relative_bias, relative_position_table,
    vitdet_block, window_partition, window_unpartition)

COCO_DIR = osp.join(REPO_ROOT, 'configs', 'downstream', 'coco')
DET_CONFIGS = sorted(glob.glob(osp.join(COCO_DIR, '*.py')))


def test_window_partition_round_trip_with_padding():
    tokens = torch.randn(2, 5 * 7, 4)
    windows, padded = window_partition(tokens, (5, 7), 3)
    assert windows.shape == (2 * 2 * 3, 9, 4) and padded == (6, 9)
    torch.testing.assert_close(
        window_unpartition(windows, 2, padded, (5, 7), 3), tokens)
    # window 0 of image 0 holds the top-left 3 x 3 tokens
    grid = tokens.view(2, 5, 7, 4)
    torch.testing.assert_close(windows[0].view(3, 3, 4), grid[0, :3, :3])


@pytest.mark.parametrize('backbone_type', ['TransferViT', 'TransferBEiTViT'])
def test_one_window_over_the_whole_grid_is_global_attention(backbone_type):
    init_default_scope('mmdet')
    common = dict(type=backbone_type, arch=MINI, img_size=(64, 64),
                  patch_size=8, out_indices=(1, ))
    windowed = DET_MODELS.build(dict(common, window_size=8,
                                     global_indices=()))
    plain = DET_MODELS.build(common)
    plain.load_state_dict(windowed.state_dict())
    windowed.eval(), plain.eval()
    x = torch.randn(2, 3, 64, 64)
    torch.testing.assert_close(windowed(x)[0], plain(x)[0])
    small = DET_MODELS.build(dict(common, window_size=4, global_indices=()))
    small.load_state_dict(windowed.state_dict(), strict=False)
    small.eval()
    assert not torch.allclose(small(x)[0], plain(x)[0])


def vitdet_backbone(**kwargs):
    """A TransferViT as ViTDet's backbone (no class token), 8 x 8 grid."""
    init_default_scope('mmdet')
    cfg = dict(type='TransferViT', arch=MINI, img_size=(64, 64),
               patch_size=8, out_indices=(1, ), with_cls_token=False)
    cfg.update(kwargs)
    return DET_MODELS.build(cfg)


def test_vitdet_blocks_without_relative_positions_are_the_vit():
    """ViTDet's block (attention-only windows) over one window covering the
    grid is MMPretrain's layer; smaller windows are not."""
    windowed = vitdet_backbone(window_size=8, global_indices=())
    plain = vitdet_backbone()
    plain.load_state_dict(windowed.state_dict())
    windowed.eval(), plain.eval()
    x = torch.randn(2, 3, 64, 64)
    torch.testing.assert_close(windowed(x)[0], plain(x)[0])
    small = vitdet_backbone(window_size=3, global_indices=(1, ))
    small.load_state_dict(windowed.state_dict())
    small.eval()
    assert not torch.allclose(small(x)[0], plain(x)[0])


def test_vitdet_windows_pad_after_the_norm_and_attend_per_window():
    """Window attention as ViTDet: ln1, zero-pad the grid (8 x 8 -> 9 x 9
    for 3 x 3 windows), MMPretrain's attention per window, crop, add; then
    the FFN on the real tokens."""
    backbone = vitdet_backbone(window_size=3, global_indices=(1, ))
    backbone.eval()
    layer = backbone.layers[0]
    tokens = torch.randn(2, 64, 32)
    ours = vitdet_block(layer, tokens, (8, 8), 3)
    normed = layer.ln1(tokens)
    windows, padded = window_partition(normed, (8, 8), 3)
    assert padded == (9, 9)
    attended = window_unpartition(layer.attn(windows), 2, padded, (8, 8), 3)
    x = tokens + attended
    expected = layer.ffn(layer.ln2(x), identity=x)
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-5)


def test_decomposed_relative_bias_is_vitdets():
    """bias[(i1, j1), (i2, j2)] = q(i1, j1) . (Rh[i1 - i2] + Rw[j1 - j2]),
    with the tables indexed by offset + s - 1; resized linearly for
    another grid."""
    torch.manual_seed(0)
    q = torch.randn(2, 3, 4 * 5, 6)
    rel_h, rel_w = torch.randn(7, 6), torch.randn(9, 6)
    bias = decomposed_relative_bias(q, rel_h, rel_w, (4, 5))
    assert bias.shape == (2, 3, 20, 20)
    for b, n, (i1, j1), (i2, j2) in [(0, 0, (0, 0), (3, 4)),
                                     (1, 2, (2, 1), (0, 3)),
                                     (1, 1, (3, 4), (3, 4))]:
        query = q[b, n, i1 * 5 + j1]
        expected = query @ rel_h[i1 - i2 + 3] + query @ rel_w[j1 - j2 + 4]
        torch.testing.assert_close(bias[b, n, i1 * 5 + j1, i2 * 5 + j2],
                                   expected)
    # a (2 * 4 - 1) table read on a 7-wide axis: linear resize to 13 rows
    table = relative_position_table(7, rel_h)
    assert table.shape == (7, 7, 6)
    torch.testing.assert_close(table[3, 3], rel_h[3])  # the centre stays


def test_vitdet_drop_path_is_per_image_not_per_window():
    """Each image's attention branch is dropped or kept whole (ViTDet); per
    window, parts of an image were dropped."""
    torch.manual_seed(0)
    backbone = vitdet_backbone(window_size=2, global_indices=(),
                               drop_path_rate=0.5)
    layer = backbone.layers[1]  # drop path 0.5 on the last layer
    layer.ffn.dropout_layer = torch.nn.Identity()  # look at attention only
    layer.train()
    tokens = torch.randn(16, 64, 32)
    with torch.no_grad():
        out = vitdet_block(layer, tokens, (8, 8), 2)
        without_attention = layer.ffn(layer.ln2(tokens), identity=tokens)
    kept = (out - without_attention).abs().amax(-1) > 1e-6  # (B, tokens)
    per_image = kept.all(1) | (~kept).all(1)
    assert per_image.all()
    assert 0 < int((~kept).all(1).sum()) < 16  # some dropped, some kept


def windowed_beit_backbone(**kwargs):
    """A TransferBEiTViT with ViTDet's windows (3 x 3 on the 8 x 8 grid,
    padded to 9 x 9), layer 1 global."""
    init_default_scope('mmdet')
    cfg = dict(type='TransferBEiTViT', arch=MINI, img_size=(64, 64),
               patch_size=8, out_indices=(1, ), window_size=3,
               global_indices=(1, ))
    cfg.update(kwargs)
    return DET_MODELS.build(cfg)


def test_beit_windows_pad_after_the_norm_and_carry_the_class_token():
    """A windowed BEiT layer as ViTDet's block with a class token copy per
    window: ln1, zero-pad, the layer's attention per window (with its
    relative tables), the copies averaged, layer scale, then the FFN on the
    real tokens; the whole backbone runs it in its windowed layers."""
    backbone = windowed_beit_backbone()
    backbone.eval()
    layer = backbone.layers[0]
    torch.manual_seed(0)
    for parameter in (layer.gamma_1, layer.gamma_2):
        parameter.data.uniform_(0.5, 1.5)  # not one value everywhere
    tokens = torch.randn(2, 1 + 64, 32)
    with torch.no_grad():
        ours = beit_windowed_block(layer, tokens, (8, 8), 3)
        normed = layer.ln1(tokens)
        windows, padded = window_partition(normed[:, 1:], (8, 8), 3)
        cls = normed[:, :1].repeat_interleave(9, dim=0)
        out = layer.attn(torch.cat([cls, windows], 1), rel_pos_bias=None)
        attended = torch.cat([
            out[:, :1].view(2, 9, 1, 32).mean(1),
            window_unpartition(out[:, 1:], 2, padded, (8, 8), 3)
        ], 1)
        x = tokens + layer.gamma_1 * attended
        expected = x + layer.gamma_2 * layer.ffn(layer.ln2(x))
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-5)
    with torch.no_grad():
        ran = backbone.run_layer_windowed(0, layer, tokens, (8, 8))
    torch.testing.assert_close(ran, ours)


def test_beit_window_drop_path_is_per_image_not_per_window():
    """Each image's attention branch is dropped or kept whole, as ViTDet's
    block (per window, parts of an image were dropped)."""
    torch.manual_seed(0)
    backbone = windowed_beit_backbone(drop_path_rate=0.5, global_indices=())
    layer = backbone.layers[1]  # drop path 0.5 on the last layer
    layer.gamma_2.data.zero_()  # look at the attention branch only
    layer.train()
    tokens = torch.randn(16, 1 + 64, 32)
    with torch.no_grad():
        out = backbone.run_layer_windowed(1, layer, tokens, (8, 8))
    changed = (out - tokens).abs().amax(-1) > 1e-6  # (B, tokens)
    assert (changed.all(1) | (~changed).all(1)).all()
    assert 0 < int((~changed).all(1).sum()) < 16  # some dropped, some kept


def test_vitdet_block_with_a_class_token_copies_it_into_windows():
    """TransferViT with a class token and windows: each window attends with
    a copy of it, averaged back; one window over the grid is the layer."""
    backbone = vitdet_backbone(with_cls_token=True, window_size=3,
                               global_indices=(1, ))
    backbone.eval()
    layer = backbone.layers[0]
    tokens = torch.randn(2, 1 + 64, 32)
    with torch.no_grad():
        ours = backbone.run_layer_windowed(0, layer, tokens, (8, 8))
        normed = layer.ln1(tokens)
        windows, padded = window_partition(normed[:, 1:], (8, 8), 3)
        cls = normed[:, :1].repeat_interleave(9, dim=0)
        out = layer.attn(torch.cat([cls, windows], 1))
        attended = torch.cat([
            out[:, :1].view(2, 9, 1, 32).mean(1),
            window_unpartition(out[:, 1:], 2, padded, (8, 8), 3)
        ], 1)
        x = tokens + attended
        expected = layer.ffn(layer.ln2(x), identity=x)
        whole = vitdet_block(layer, tokens, (8, 8), 8, num_extra_tokens=1)
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-5)
    torch.testing.assert_close(whole, layer(tokens), rtol=0, atol=1e-5)


def test_mae_checkpoint_into_vitdet_backbone(tmp_path):
    """ViTDet's recipe on an MAE / PR-MIM checkpoint: the class token and
    its position are left out, the position embedding is resized from the
    4 x 4 to the 8 x 8 grid, the decomposed tables start at zero (the
    allow-list), everything else is strict; gradients reach the tables."""
    path = str(tmp_path / 'prmim.pth')
    source = save_pretraining_checkpoint('PRMIMViT', path)
    init_cfg = dict(type='Pretrained', checkpoint=path, prefix='backbone.')
    backbone = vitdet_backbone(
        window_size=2, global_indices=(1, ), use_rel_pos=True,
        fresh_parameters=('rel_pos_h', 'rel_pos_w'), init_cfg=init_cfg)
    backbone.init_weights()
    assert backbone.num_extra_tokens == 0
    expected = resampled_positions(source['backbone.pos_embed'][:, 1:],
                                   (4, 4), (8, 8), 0)
    torch.testing.assert_close(backbone.pos_embed, expected)
    for key, value in backbone.state_dict().items():
        if 'rel_pos' in key:
            assert not value.any()  # zero-initialized
        elif key != 'pos_embed':
            torch.testing.assert_close(value, source['backbone.' + key])
    # windowed layer 0: 2 x 2 windows, global layer 1: the 8 x 8 grid
    assert backbone.layers[0].attn.rel_pos_h.shape == (3, 16)
    assert backbone.layers[1].attn.rel_pos_w.shape == (15, 16)
    backbone.train()
    backbone(torch.randn(2, 3, 64, 64))[0].square().mean().backward()
    assert all(layer.attn.rel_pos_h.grad.abs().sum() > 0
               for layer in backbone.layers)
    # without the allow-list the new tables are missing weights
    strict = vitdet_backbone(window_size=2, global_indices=(1, ),
                             use_rel_pos=True, init_cfg=init_cfg)
    with pytest.raises(KeyError, match='rel_pos_h'):
        strict.init_weights()


@pytest.mark.parametrize('with_cls_token', [False, True])
def test_vitdet_keeps_pretraining_positions_and_resizes_per_forward(
        tmp_path, with_cls_token):
    """``pretrain_img_size`` (ViTDet's): the checkpoint's 4 x 4 positions
    are the parameter, interpolated to the input's 8 x 8 grid in every
    forward, which at the start computes what resizing once at load does;
    a checkpoint of another grid is resized to the kept one."""
    path = str(tmp_path / 'prmim.pth')
    source = save_pretraining_checkpoint('PRMIMViT', path)
    init_cfg = dict(type='Pretrained', checkpoint=path, prefix='backbone.')
    common = dict(with_cls_token=with_cls_token, init_cfg=init_cfg)
    if not with_cls_token:
        common.update(window_size=2, global_indices=(1, ), use_rel_pos=True,
                      fresh_parameters=('rel_pos_h', 'rel_pos_w'))
    kept = vitdet_backbone(pretrain_img_size=32, **common)
    kept.init_weights()
    assert kept.pos_embed_grid == (4, 4)
    extra = 0 if with_cls_token else 1  # the class token's entry left out
    torch.testing.assert_close(kept.pos_embed,
                               source['backbone.pos_embed'][:, extra:])
    resized_once = vitdet_backbone(**common)
    resized_once.init_weights()
    assert resized_once.pos_embed.shape[1] == 64 + 1 - extra
    kept.eval(), resized_once.eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(kept(x)[0], resized_once(x)[0])
    kept.train()
    kept(x)[0].square().mean().backward()
    assert kept.pos_embed.grad.shape == (1, 16 + 1 - extra, 32)
    assert kept.pos_embed.grad.abs().sum() > 0
    # a 4 x 4 checkpoint into a kept 6 x 6 grid (pre-training at 48 px)
    other = vitdet_backbone(pretrain_img_size=48, **common)
    other.init_weights()
    torch.testing.assert_close(
        other.pos_embed,
        resampled_positions(source['backbone.pos_embed'][:, extra:], (4, 4),
                            (6, 6), 1 - extra))
    for bad in (30, 0, 32.0, True):
        with raises_naming(ValueError, 'pretrain_img_size', 'patch size 8',
                           repr(bad)):
            vitdet_backbone(pretrain_img_size=bad)
    # frozen stages stay frozen; only feature maps can come out
    frozen = vitdet_backbone(pretrain_img_size=32, frozen_stages=1)
    assert not frozen.pos_embed.requires_grad
    with raises_naming(ValueError, 'pretrain_img_size=32', 'out_type',
                       "'featmap'", "'cls_token'"):
        vitdet_backbone(pretrain_img_size=32, with_cls_token=True,
                        out_type='cls_token')


def test_vitdet_checkpoint_with_class_position_but_no_class_token(tmp_path):
    """detectron2's ViTDet keeps the class token's position (1 + 14 * 14
    entries here 1 + 4 * 4) without a class token: the extra entry is left
    out as well."""
    path = str(tmp_path / 'vitdet.pth')
    state = save_pretraining_checkpoint('PRMIMViT', path)
    del state['backbone.cls_token']
    torch.save({'state_dict': state}, path)
    init_cfg = dict(type='Pretrained', checkpoint=path, prefix='backbone.')
    for kwargs in (dict(pretrain_img_size=32), {}):
        backbone = vitdet_backbone(
            window_size=2, global_indices=(1, ), init_cfg=init_cfg, **kwargs)
        backbone.init_weights()
        expected = state['backbone.pos_embed'][:, 1:]
        if not kwargs:
            expected = resampled_positions(expected, (4, 4), (8, 8), 0)
        torch.testing.assert_close(backbone.pos_embed, expected)


def test_checkpoint_without_class_token_keeps_every_position(tmp_path):
    """Only a checkpoint with a class token has the class token's position
    stripped: a 5 x 2 grid without one (10 entries, 9 a square) reloads
    unchanged."""
    first = vitdet_backbone(img_size=(40, 16))
    first.init_weights()
    path = str(tmp_path / 'vitdet.pth')
    torch.save({'state_dict': {f'backbone.{k}': v
                               for k, v in first.state_dict().items()}},
               path)
    again = vitdet_backbone(img_size=(40, 16), init_cfg=dict(
        type='Pretrained', checkpoint=path, prefix='backbone.'))
    again.init_weights()
    torch.testing.assert_close(again.pos_embed, first.pos_embed)


def test_windowed_beit_checkpoint_tables_match_window_and_grid(tmp_path):
    """The shared table of a 5 x 5 grid (40 px) holds the 9 x 9 offsets of
    the golden values: the global layer of the 6 x 6 grid (48 px) gets
    their 11 x 11 resize, the layer with 2 x 2 windows the source's central
    3 x 3 offsets (BEiT's spacing keeps offsets -1, 0 and 1 where they were
    and the cubic interpolation passes through its data)."""
    path = str(tmp_path / 'ropim.pth')
    source = save_pretraining_checkpoint(
        'ROPIMBEiTViT', path, img_size=40,
        rel_table=golden_table(GOLDEN_SOURCE_9))
    init_default_scope('mmdet')
    backbone = DET_MODELS.build(
        dict(type='TransferBEiTViT', arch=MINI, img_size=(48, 48),
             patch_size=8, out_indices=(1, ), window_size=2,
             global_indices=(1, ),
             init_cfg=dict(type='Pretrained', checkpoint=path)))
    backbone.init_weights()
    shared = source['backbone.rel_pos_bias.relative_position_bias_table']
    centre = [row[3:6] for row in GOLDEN_SOURCE_9[3:6]]
    windowed = backbone.layers[0].attn.relative_position_bias_table
    assert_golden_table(windowed, centre, 3)
    torch.testing.assert_close(windowed[:-3], shared[:-3].view(
        9, 9, 2)[3:6, 3:6].reshape(9, 2))
    assert_golden_table(backbone.layers[1].attn.relative_position_bias_table,
                        GOLDEN_RESIZED_11, 11)
    with raises_naming(ValueError, 'img_size=(48, 48)', '(5, 6)'):
        backbone(torch.randn(1, 3, 40, 48))


def test_simple_feature_pyramid_levels():
    init_default_scope('mmdet')
    neck = DET_MODELS.build(
        dict(type='SimpleFeaturePyramid', in_channels=32, out_channels=16))
    outs = neck((torch.randn(2, 32, 8, 8), ))
    assert [tuple(o.shape[-2:]) for o in outs] == [(32, 32), (16, 16),
                                                   (8, 8), (4, 4), (2, 2)]
    assert all(o.shape[:2] == (2, 16) for o in outs)


@pytest.mark.parametrize('path', DET_CONFIGS,
                         ids=lambda p: osp.relpath(p, COCO_DIR))
def test_detection_config_loads_and_builds(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmdet'
    init_default_scope('mmdet')
    model = DET_MODELS.build(cfg.model)
    assert type(model.neck).__name__ == 'SimpleFeaturePyramid'
    assert model.backbone.window_size is not None
    if 'demo' not in path:  # ViTDet's windows
        assert model.backbone.window_size == 14
    if type(model.backbone).__name__ == 'TransferViT':
        # ViTDet's MAE backbone: no class token, decomposed relative
        # positions (windows: 2 * 14 - 1 rows, global: the grid's)
        assert model.backbone.num_extra_tokens == 0
        sides = {layer.attn.rel_pos_h.shape[0]
                 for layer in model.backbone.layers}
        grid = model.backbone.patch_resolution[0]
        assert sides == {2 * model.backbone.window_size - 1, 2 * grid - 1}
        # the pre-training positions, interpolated in every forward
        side = 8 if 'demo' in path else 14  # 64 / 8 px, 224 / 16 px
        assert model.backbone.pos_embed_grid == (side, side)
        assert model.backbone.pos_embed.shape[1] == side * side
    # ViTDet's LN2d eps, in the neck and the heads
    norms = [m for m in model.modules()
             if type(m).__name__ == 'LayerNorm2d']
    assert norms and all(m.eps == 1e-6 for m in norms)
    wrapper = build_optim_wrapper(model,
                                  fp32_optim_wrapper_cfg(cfg.optim_wrapper))
    # ViTDet's groups: only the blocks' norms and pos_embed are exempt
    assert vitdet_weight_decay_violations(model, wrapper.optimizer) == []
    assert ffn_branches_dropping_twice(model) == []


@pytest.mark.slow
def test_full_size_detector_runs_a_forward_pass_on_cpu():
    cfg = Config.fromfile(
        osp.join(COCO_DIR, 'mask-rcnn_ropim-beit-base-p16_simple-fpn_'
                 '32xb2-lsj-100e_coco.py'))
    init_default_scope('mmdet')
    model = DET_MODELS.build(cfg.model).eval()
    sample = DetDataSample(metainfo=dict(
        img_shape=(1024, 1024), ori_shape=(1024, 1024),
        scale_factor=(1., 1.), pad_shape=(1024, 1024),
        batch_input_shape=(1024, 1024)))
    with torch.no_grad():
        result = model.predict(torch.randn(1, 3, 1024, 1024), [sample])[0]
    assert result.pred_instances.masks.shape[-2:] == (1024, 1024)


@pytest.mark.slow
@pytest.mark.parametrize('method', ['ropim', 'prmim'])
def test_tiny_detection_from_our_pretraining_checkpoints(
        method, pretrain_run, prmim_run, tmp_path_factory):
    demo = str(tmp_path_factory.mktemp('coco') / 'coco')
    from mmropim.datasets.demo import write_coco_style
    write_coco_style(demo)
    checkpoint = (pretrain_run if method == 'ropim' else prmim_run)[
        'checkpoint']
    config = glob.glob(osp.join(COCO_DIR, f'mask-rcnn_{method}-*mini*.py'))[0]
    work_dir = str(tmp_path_factory.mktemp(f'det_{method}'))
    data = [f'{split}_dataloader.dataset.data_root={demo}/'
            for split in ('train', 'val', 'test')] + [
                f'{split}_evaluator.ann_file='
                f'{demo}/annotations/instances_val.json'
                for split in ('val', 'test')]
    run_tool('tools/train.py', config, '--work-dir', work_dir,
             '--cfg-options',
             f'model.backbone.init_cfg.checkpoint={checkpoint}',
             'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
             'default_hooks.checkpoint.interval=1', *data)
    out = str(tmp_path_factory.mktemp('metrics') / 'det.json')
    run_tool('tools/test.py', config, osp.join(work_dir, 'epoch_1.pth'),
             '--work-dir', work_dir, '--out', out, '--cfg-options', *data)
    with open(out) as f:
        metrics = json.load(f)
    assert_test_reproduces_validation(
        work_dir, metrics, ['coco/bbox_mAP', 'coco/segm_mAP'])


def test_converted_checkpoint_is_plain_tensors_and_loads_the_same(
        pretrain_run, tmp_path):
    converted = str(tmp_path / 'backbone.pth')
    run_tool('tools/convert_checkpoint.py', pretrain_run['checkpoint'],
             converted)
    state = torch.load(converted, weights_only=True)['state_dict']
    assert state and not any(k.startswith('backbone.') for k in state)
    cfg = Config.fromfile(
        osp.join(ADE_DIR,
                 'upernet_ropim-beit-mini-p8_1xb4-40iter_'
                 'demo-nuclei-128px.py'))
    init_default_scope('mmseg')
    loaded = []
    for checkpoint in (pretrain_run['checkpoint'], converted):
        backbone_cfg = dict(cfg.model.backbone)
        backbone_cfg['init_cfg'] = dict(
            type='Pretrained', checkpoint=checkpoint, prefix='backbone.')
        backbone = SEG_MODELS.build(backbone_cfg)
        backbone.init_weights()
        loaded.append(backbone.state_dict())
    for key, value in loaded[0].items():
        torch.testing.assert_close(value, loaded[1][key])


@pytest.mark.parametrize('backbone_type', ['TransferViT', 'TransferBEiTViT'])
def test_a_failed_default_init_keeps_the_pretrained_config(
        backbone_type, monkeypatch):
    """The host's init_weights runs without the Pretrained entry; an error
    there leaves the entry in place (it was left as None)."""
    from mmpretrain.models import BEiTViT, VisionTransformer
    init_cfg = dict(type='Pretrained', checkpoint='never-read.pth')
    arch = dict(embed_dims=32, num_layers=2, num_heads=2,
                feedforward_channels=64)
    backbone = PRETRAIN_MODELS.build(
        dict(type=backbone_type, arch=arch, img_size=32, patch_size=8,
             out_indices=(1, ), init_cfg=init_cfg))

    def fails(self):
        assert self.init_cfg is None  # the host's init sees no Pretrained
        raise RuntimeError('default init failed')

    host = VisionTransformer if backbone_type == 'TransferViT' else BEiTViT
    monkeypatch.setattr(host, 'init_weights', fails)
    with pytest.raises(RuntimeError, match='default init failed'):
        backbone.init_weights()
    assert backbone.init_cfg == init_cfg
