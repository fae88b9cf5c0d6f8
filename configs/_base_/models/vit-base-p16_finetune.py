# Image classifier for fine-tuning a pre-trained plain ViT-B/16 on
# ImageNet-1k: mean pooling (no final norm), linear head (trunc-normal 0.02
# scaled by the head init scale 0.001), label smoothing 0.1, mixup 0.8,
# cutmix 1.0, drop path 0.1. Configs of BEiT-style backbones replace the
# backbone; the pre-training checkpoint loads as it is:
#   --cfg-options model.backbone.init_cfg.checkpoint=CKPT
pretrained = ''  # path of the pre-training checkpoint

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
        drop_path_rate=0.1,
        norm_cfg=dict(type='LN', eps=1e-6),
        final_norm=False,
        out_type='avg_featmap',
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=None,
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=768,
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        init_cfg=[dict(type='TruncNormal', layer='Linear', std=2e-5)]),
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='CutMix', alpha=1.0),
    ]))
