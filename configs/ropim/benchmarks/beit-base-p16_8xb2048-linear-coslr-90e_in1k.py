# Linear probe of a ROPIM ViT-B/16 (BEiT-style) on ImageNet-1k, MMPretrain's
# MAE protocol (mae/benchmarks/vit-base-p16_8xb2048-linear-coslr-90e_
# in1k.py): the backbone frozen, the class token after the final norm,
# BatchNorm without affine parameters (ClsBatchNormNeck), a linear head; LARS
# lr 6.4 for a total batch of 16384, 90 epochs. The pre-training checkpoint
# loads as it is (the shared relative position table is copied into each
# layer):
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
        type='BEiTViT',
        arch='base',
        img_size=224,
        patch_size=16,
        layer_scale_init_value=0.1,
        use_abs_pos_emb=False,
        use_rel_pos_bias=True,
        use_shared_rel_pos_bias=False,
        frozen_stages=12,  # every layer, the final norm included
        out_type='cls_token',
        final_norm=True,
        # one DropPath per branch (none at rate 0), as the fine-tuning
        layer_cfgs=dict(ffn_cfg=dict(add_identity=False, dropout_layer=None)),
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
# backbone weight stops the run before training instead
custom_hooks = [
    *_base_.custom_hooks,
    dict(type='PretrainedWeightsCheckHook'),
]
