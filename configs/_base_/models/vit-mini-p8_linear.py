# Image classifier for the tiny CPU linear probe of a mini ViT demo
# checkpoint on the 14-class 64 px demo images, MMPretrain's MAE linear
# probe at demo size: plain ViT (mini_arch, patch 8) frozen whole, the class
# token after the final norm, BatchNorm without affine parameters
# (ClsBatchNormNeck), a linear head. Configs of BEiT-style backbones replace
# the backbone.
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
        norm_cfg=dict(type='LN', eps=1e-6),
        # every layer, the final norm included
        frozen_stages=_base_.mini_arch['num_layers'],
        out_type='cls_token',
        final_norm=True,
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    neck=dict(type='ClsBatchNormNeck', input_features=96),
    head=dict(
        type='VisionTransformerClsHead',
        num_classes=14,
        in_channels=96,
        loss=dict(type='CrossEntropyLoss'),
        init_cfg=[dict(type='TruncNormal', layer='Linear', std=0.01)]))
