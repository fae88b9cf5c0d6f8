# UPerNet on a ROPIM ViT-B/16 (BEiT-style) on ADE20K, 160k iterations,
# 8 GPUs x 2, with BEiT's recipe for self-supervised checkpoints (the ROPIM
# code is BEiT's): lr 7e-4, layer decay 0.65, per-layer relative position
# tables from the shared one, layer scale kept (docs/fidelity.md). The
# pre-training checkpoint loads as it is:
#   bash tools/dist_train.sh <this config> 8 --cfg-options \
#     model.backbone.init_cfg.checkpoint=work_dirs/<ropim run>/epoch_300.pth
_base_ = ['_base_/upernet_transfer-vit-base_8xb2-160k_ade20k-512x512.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='TransferBEiTViT',
        arch='base',
        img_size=(512, 512),
        patch_size=16,
        out_indices=(3, 5, 7, 11),
        drop_path_rate=0.1,
        layer_scale_init_value=0.1,
        norm_cfg=dict(type='LN', eps=1e-6),
        init_cfg=dict(type='Pretrained', checkpoint='',
                      prefix='backbone.')))

# BEiT's upernet_beit_base_12_512_slide_160k_ade20k_pt.py ("for BEiT models
# self-supervised pre-trained on ImageNet"); MAE's recipe (the base) uses 1e-4
optim_wrapper = dict(optimizer=dict(lr=7e-4))
