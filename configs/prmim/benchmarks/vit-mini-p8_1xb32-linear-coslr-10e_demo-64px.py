# Tiny CPU linear probe of a plain-ViT demo checkpoint (MAE / PR-MIM /
# SimMIM / ROPIM-ViT) on the 14-class demo images, in the style of
# vit-base-p16_8xb2048-linear-coslr-90e_in1k.py, 10 epochs:
#   --cfg-options model.backbone.init_cfg.checkpoint=CKPT
_base_ = [
    '../../_base_/models/vit-mini-p8_linear.py',
    '../../_base_/datasets/demo_bs32_64px.py',
    '../../_base_/schedules/demo_linear_10e.py',
    '../../_base_/default_runtime.py',
]

train_dataloader = dict(drop_last=True)
default_hooks = dict(
    logger=dict(interval=7), checkpoint=dict(interval=5, max_keep_ckpts=1))

# MMEngine's Pretrained init loads with strict=False: a checkpoint lacking a
# backbone weight (e.g. a BEiT-style one, without pos_embed, in this plain-
# ViT config) stops the run before training instead
custom_hooks = [
    *_base_.custom_hooks,
    dict(type='PretrainedWeightsCheckHook'),
]
