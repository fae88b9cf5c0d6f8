# UPerNet on a PR-MIM (or MAE) ViT-B/16 on ADE20K, 160k iterations,
# 8 GPUs x 2, layer decay 0.75 as the PR-MIM paper (paper: 46.9 mIoU after
# 800-epoch pre-training). The pre-training checkpoint loads as it is:
#   --cfg-options model.backbone.init_cfg.checkpoint=CKPT
_base_ = ['_base_/upernet_transfer-vit-base_8xb2-160k_ade20k-512x512.py']

optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.75))
