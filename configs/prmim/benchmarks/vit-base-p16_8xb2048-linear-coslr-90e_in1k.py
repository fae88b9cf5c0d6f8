# Linear probe of a PR-MIM (or MAE / ROPIM-ViT) ViT-B/16 on ImageNet-1k,
# MMPretrain's MAE protocol (mae/benchmarks/vit-base-p16_8xb2048-linear-
# coslr-90e_in1k.py): the backbone frozen, the class token after the final
# norm, BatchNorm without affine parameters (ClsBatchNormNeck), a linear
# head; LARS lr 6.4 for a total batch of 16384, 90 epochs. The pre-training
# checkpoint loads as it is:
#   --cfg-options model.backbone.init_cfg.checkpoint=CKPT
_base_ = [
    '../../_base_/datasets/imagenet_bs2048_linear_224.py',
    '../../_base_/schedules/lars_bs16384_linear_90e.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        num_classes=1000,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='VisionTransformer',
        arch='base',
        img_size=224,
        patch_size=16,
        norm_cfg=dict(type='LN', eps=1e-6),
        frozen_stages=12,  # every layer, the final norm included
        out_type='cls_token',
        final_norm=True,
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    neck=dict(type='ClsBatchNormNeck', input_features=768),
    head=dict(
        type='VisionTransformerClsHead',
        num_classes=1000,
        in_channels=768,
        loss=dict(type='CrossEntropyLoss'),
        init_cfg=[dict(type='TruncNormal', layer='Linear', std=0.01)]))

default_hooks = dict(logger=dict(interval=10))

# MMEngine's Pretrained init loads with strict=False: a checkpoint lacking a
# backbone weight (e.g. a BEiT-style one, without pos_embed, in this plain-
# ViT config) stops the run before training instead
custom_hooks = [
    *_base_.custom_hooks,
    dict(type='PretrainedWeightsCheckHook'),
]
