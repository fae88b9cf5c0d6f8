# Tiny SimMIM + PR-MIM pre-training for the CPU on the demo images (64 px,
# patch 8, mask ratio 0.6, throw ratio 0.3); throw_ratio=0 is plain SimMIM:
#   --cfg-options train_dataloader.dataset.pipeline.3.throw_ratio=0.0
_base_ = ['prmim_vit-mini-p8_1xb32-coslr-20e_demo-64px.py']

model = dict(
    _delete_=True,
    type='PRMIMSimMIM',
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='PRMIMSimMIMViT',
        arch=_base_.mini_arch,
        img_size=64,
        patch_size=8,
        norm_cfg=dict(type='LN', eps=1e-6)),
    neck=dict(
        type='PRMIMLinearDecoder',
        in_channels=96,
        patch_size=8,
        aggregator=dict(type='SpatialAggregator', kernel_size=3)),
    head=dict(
        type='SimMIMHead',
        patch_size=8,
        loss=dict(type='PixelReconstructionLoss', criterion='L1', channel=3)))

train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(type='LoadImageFromFile'),
        dict(
            type='RandomResizedCrop',
            scale=64,
            crop_ratio_range=(0.67, 1.0),
            backend='pillow',
            interpolation='bicubic'),
        dict(type='RandomFlip', prob=0.5),
        dict(
            type='FurthestSampling',
            input_size=64,
            patch_size=8,
            mask_ratio=0.6,
            throw_ratio=0.3,
            mode='furthest'),
        dict(type='PackInputs', algorithm_keys=['throw_mask']),
    ]))

# SimMIM's recipe takes 2/3 of MAE's learning rate per image (2e-4 per 512
# against 1.5e-4 per 256), so 2/3 of the tiny MAE-family configs' 1.5e-3.
optim_wrapper = dict(optimizer=dict(lr=1e-3))
