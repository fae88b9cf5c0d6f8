"""Narrow model configs and the grouping of the full-size configs
(mmropim/utils/model_narrowing.py, mmropim/utils/config_groups.py), as the
config checks and the benchmarks use them."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmropim.utils.config_groups import (full_size_configs, group_by_setting,
                                         is_demo_config)
from mmropim.utils.model_narrowing import (iter_dicts, narrow_model,
                                           without_stochastic_depth)
from helpers import REPO_ROOT

MAE = dict(
    type='MAE',
    backbone=dict(type='MAEViT', arch='b', patch_size=16, out_indices=[3, 11],
                  drop_path_rate=0.1,
                  init_cfg=dict(type='Pretrained', checkpoint='mae.pth')),
    neck=dict(type='MAEPretrainDecoder', embed_dim=768, decoder_embed_dim=512,
              decoder_depth=8, decoder_num_heads=16, in_chans=3,
              patch_size=16),
    head=dict(type='MAEPretrainHead', patch_size=16,
              loss=dict(type='PixelReconstructionLoss', criterion='L2')))


def test_narrow_model_divides_widths_and_heads_only():
    init_default_scope('mmpretrain')
    narrow = narrow_model(MAE, width_divisor=4)
    arch = narrow.backbone.arch  # 'b' expanded: 768 wide, 12 heads
    assert (arch.embed_dims, arch.num_heads, arch.feedforward_channels,
            arch.num_layers) == (192, 3, 768, 12)
    assert (narrow.neck.embed_dim, narrow.neck.decoder_embed_dim,
            narrow.neck.decoder_num_heads, narrow.neck.decoder_depth) == \
        (192, 128, 4, 8)
    # patch size, image channels, token layout: as shipped
    assert narrow.backbone.patch_size == narrow.neck.patch_size == 16
    assert narrow.neck.in_chans == 3
    assert narrow.backbone.out_indices == [3, 11]
    assert narrow.backbone.init_cfg is None  # no checkpoint of this width
    assert MAE['backbone']['arch'] == 'b'  # the input is left alone


def test_narrow_model_caps_depths_and_out_indices():
    init_default_scope('mmpretrain')
    narrow = narrow_model(MAE, width_divisor=16, max_depth=2)
    assert narrow.backbone.arch.num_layers == 2
    assert narrow.neck.decoder_depth == 2
    assert narrow.backbone.out_indices == [1]
    assert narrow.backbone.arch.num_heads == 1  # at least one head


def test_narrow_model_names_a_width_it_cannot_divide():
    with pytest.raises(ValueError, match='width 96 .* divisor 64'):
        narrow_model(dict(type='X', embed_dims=96), width_divisor=64)
    with pytest.raises(ValueError, match='width_divisor must be >= 1, got 0'):
        narrow_model(MAE, width_divisor=0)


def test_without_stochastic_depth_reaches_every_nested_rate():
    cfg = dict(type='A', drop_path_rate=0.1, parts=[
        dict(type='B', drop_path_rate=0.2, inner=dict(drop_path_rate=0.3))
    ])
    off = without_stochastic_depth(cfg)
    rates = [node['drop_path_rate'] for node in iter_dicts(off)
             if 'drop_path_rate' in node]
    assert rates == [0, 0, 0]
    assert cfg['parts'][0]['inner']['drop_path_rate'] == 0.3  # a copy
    ade = Config.fromfile(osp.join(
        REPO_ROOT, 'configs', 'downstream', 'ade20k',
        'upernet_ropim-beit-base-p16_8xb2-amp-160k_ade20k-512x512.py'))
    assert ade.model.backbone.drop_path_rate > 0
    assert all(node['drop_path_rate'] == 0
               for node in iter_dicts(without_stochastic_depth(ade.model))
               if 'drop_path_rate' in node)


def write_config(folder, name, lr=1e-3, epochs=100, batch=4):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f'model = dict(type="M", width=8)\n'
        f'train_dataloader = dict(batch_size={batch}, dataset=dict('
        f'type="RepeatDataset", times=2, dataset=dict(type="D", '
        f'pipeline=[dict(type="LoadImageFromFile")])))\n'
        f'optim_wrapper = dict(optimizer=dict(type="AdamW", lr={lr}), '
        f'paramwise_cfg=dict(layer_decay_rate=0.65))\n'
        f'train_cfg = dict(max_epochs={epochs})\n')
    return str(path)


def test_schedule_variants_share_a_group(tmp_path):
    short = write_config(tmp_path, 'a/m_100e.py')
    longer = write_config(tmp_path, 'a/m_800e.py', lr=2e-3, epochs=800)
    other = write_config(tmp_path, 'b/m_bs8_100e.py', batch=8)
    write_config(tmp_path, 'a/_base_/m.py')
    write_config(tmp_path, 'a/m_demo-64px.py')
    assert is_demo_config('a/m_demo-64px.py')
    assert full_size_configs(str(tmp_path)) == [short, longer, other]
    assert group_by_setting([short, other, longer]) == [[short, longer],
                                                        [other]]
    with pytest.raises(FileNotFoundError, match='nowhere'):
        full_size_configs(str(tmp_path / 'nowhere'))
