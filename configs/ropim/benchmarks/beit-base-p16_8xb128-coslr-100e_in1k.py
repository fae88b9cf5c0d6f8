# Fine-tune a ROPIM ViT-B/16 (BEiT-style) on ImageNet-1k: 100 epochs, base lr
# 5e-3 per 512 images, layer decay 0.75, mean pooling + fc norm, head init
# scale 0.001, mixup 0.8, cutmix 1.0, label smoothing 0.1, drop path 0.1.
# The pre-training checkpoint loads as it is (no key surgery):
#   python tools/train.py <this config> \
#     --cfg-options model.backbone.init_cfg.checkpoint=CKPT
_base_ = [
    '../../_base_/datasets/imagenet_bs128_finetune_224.py',
    '../../_base_/default_runtime.py',
]

pretrained = ''  # path of the ROPIM pre-training checkpoint

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
        drop_path_rate=0.1,
        layer_scale_init_value=0.1,
        use_abs_pos_emb=False,
        use_rel_pos_bias=True,  # the shared table is copied into each layer
        use_shared_rel_pos_bias=False,
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
        # trunc-normal(0.02) scaled by the authors' head init scale 0.001
        init_cfg=[dict(type='TruncNormal', layer='Linear', std=2e-5)]),
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='CutMix', alpha=1.0),
    ]))

optim_wrapper = dict(
    optimizer=dict(
        type='AdamW',
        lr=5e-3 * 1024 / 512,
        betas=(0.9, 0.999),
        weight_decay=0.05),
    constructor='LearningRateDecayOptimWrapperConstructor',
    paramwise_cfg=dict(
        layer_decay_rate=0.75,
        custom_keys={
            '.ln': dict(decay_mult=0.0),
            '.bias': dict(decay_mult=0.0),
            'q_bias': dict(decay_mult=0.0),
            'v_bias': dict(decay_mult=0.0),
            '.cls_token': dict(decay_mult=0.0),
            '.pos_embed': dict(decay_mult=0.0),
            '.gamma': dict(decay_mult=0.0),
            'relative_position_bias_table': dict(decay_mult=0.0),
        }))

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=95,
        eta_min=1e-6,
        by_epoch=True,
        begin=5,
        end=100,
        convert_to_iter_based=True),
]

train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=1024)
default_hooks = dict(
    checkpoint=dict(type='SafeCheckpointHook', interval=1, max_keep_ckpts=2,
                    save_best='auto'))
