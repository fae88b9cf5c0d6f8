# Mask R-CNN, ViTDet-style, on a ROPIM ViT-B/16 (BEiT-style: per-layer
# relative tables resized to the 14 x 14 windows and the 64 x 64 global
# grid), LSJ 100 epochs, batch 64.
_base_ = [
    '_base_/'
    'mask-rcnn_transfer-vit-base-p16_simple-fpn_32xb2-lsj-100e_coco.py'
]

model = dict(
    backbone=dict(
        _delete_=True,
        type='TransferBEiTViT',
        arch='base',
        img_size=(1024, 1024),
        patch_size=16,
        out_indices=(11, ),
        drop_path_rate=0.1,
        layer_scale_init_value=0.1,
        norm_cfg=dict(type='LN', eps=1e-6),
        window_size=14,
        global_indices=(2, 5, 8, 11),
        init_cfg=dict(type='Pretrained', checkpoint='',
                      prefix='backbone.')))
