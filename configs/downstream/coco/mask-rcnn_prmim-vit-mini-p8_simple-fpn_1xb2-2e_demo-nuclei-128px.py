# Tiny CPU transfer of the demo PR-MIM model (plain ViT, absolute position
# embedding interpolated from 8 x 8 to 16 x 16):
#   python tools/train.py <this config> --cfg-options \
#     model.backbone.init_cfg.checkpoint=work_dirs/prmim_demo/epoch_20.pth
_base_ = [
    'mask-rcnn_ropim-beit-mini-p8_simple-fpn_1xb2-2e_demo-nuclei-128px.py'
]

model = dict(
    backbone=dict(
        _delete_=True,
        type='TransferViT',
        arch=_base_.mini_arch,
        img_size=(128, 128),
        patch_size=8,
        out_indices=(3, ),
        drop_path_rate=0.1,
        norm_cfg=dict(type='LN', eps=1e-6),
        window_size=8,
        global_indices=(1, 3),
        with_cls_token=False,  # ViTDet's backbone, as the full-size config
        use_rel_pos=True,
        fresh_parameters=('rel_pos_h', 'rel_pos_w'),
        pretrain_img_size=64,  # the demo pre-training's images
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')))
