# Image classifier for the tiny CPU fine-tuning of a mini ViT demo checkpoint
# on the 14-class 64 px demo images: plain ViT (mini_arch, patch 8), mean
# pooling, linear head, label smoothing 0.1, drop path 0.1. Configs of
# BEiT-style backbones replace the backbone.
_base_ = ['vit-mini-p8.py']

model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        num_classes=14,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='VisionTransformer',
        arch=_base_.mini_arch,
        img_size=64,
        patch_size=8,
        drop_path_rate=0.1,
        norm_cfg=dict(type='LN', eps=1e-6),
        final_norm=False,
        out_type='avg_featmap',
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    neck=None,
    head=dict(
        type='LinearClsHead',
        num_classes=14,
        in_channels=96,
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        init_cfg=[dict(type='TruncNormal', layer='Linear', std=2e-5)]))
