# Mask R-CNN, ViTDet-style, on a PR-MIM (or MAE) ViT-B/16, LSJ 100 epochs,
# 32 GPUs x 2 = batch 64 (paper reports the half-batch variant below).
# The learning rate is batch 64's: launch 32 processes (4 machines x 8 GPUs),
#   NNODES=4 NODE_RANK=<0..3> MASTER_ADDR=<host 0> \
#   bash tools/dist_train.sh <this config> 8 --cfg-options \
#     model.backbone.init_cfg.checkpoint=work_dirs/<run>/epoch_800.pth
# or, on fewer GPUs, add --auto-scale-lr (linear scaling from batch 64).
_base_ = [
    '_base_/'
    'mask-rcnn_transfer-vit-base-p16_simple-fpn_32xb2-lsj-100e_coco.py'
]
