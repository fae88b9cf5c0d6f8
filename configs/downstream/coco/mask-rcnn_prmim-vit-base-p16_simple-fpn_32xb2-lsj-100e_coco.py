# Mask R-CNN, ViTDet-style, on a PR-MIM (or MAE) ViT-B/16, LSJ 100 epochs,
# 32 GPUs x 2 = batch 64 (paper reports the half-batch variant below).
#   bash tools/dist_train.sh <this config> 8 --cfg-options \
#     model.backbone.init_cfg.checkpoint=work_dirs/<run>/epoch_800.pth
_base_ = [
    '_base_/'
    'mask-rcnn_transfer-vit-base-p16_simple-fpn_32xb2-lsj-100e_coco.py'
]
