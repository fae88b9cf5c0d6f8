# Tiny CPU transfer of the demo PR-MIM model with MAE's ADE20K recipe (the
# full-size config's): absolute position embedding interpolated from 8 x 8
# to 16 x 16, zero relative position biases and layer scale 1.0 added:
#   python tools/train.py <this config> --cfg-options \
#     model.backbone.init_cfg.checkpoint=work_dirs/prmim_demo/epoch_20.pth
_base_ = ['upernet_ropim-beit-mini-p8_1xb4-40iter_demo-nuclei-128px.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='TransferBEiTViT',
        arch=_base_.mini_arch,
        img_size=(128, 128),
        patch_size=8,
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.1,
        use_abs_pos_emb=True,
        use_rel_pos_bias=True,
        use_shared_rel_pos_bias=False,
        layer_scale_init_value=1.0,
        bias=True,
        norm_cfg=dict(type='LN', eps=1e-6),
        fresh_parameters=('relative_position_bias_table', 'gamma_1',
                          'gamma_2'),
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')))
