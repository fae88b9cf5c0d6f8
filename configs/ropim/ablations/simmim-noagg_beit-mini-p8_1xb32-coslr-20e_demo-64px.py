# The controlled counterpart of ropim_beit-mini-p8_1xb32-coslr-20e_demo-64px:
# SimMIM-style masking (mask token, loss on the masked pixels, mask ratio
# 0.6, no partial reconstruction and no aggregator) on the same BEiT-style
# ViT, linear decoder, optimizer, schedule, data and augmentation. Only the
# corruption differs, so a comparison of the two measures ROPIM's projection
# against masking (tools/benchmarks/ropim_evidence.py).
_base_ = ['../ropim_beit-mini-p8_1xb32-coslr-20e_demo-64px.py']

model = dict(
    type='PRMIMSimMIM',
    data_preprocessor=dict(
        _delete_=True,
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    # everything else (arch, init, layer scale, relative position bias,
    # drop path) is the ROPIM config's backbone
    backbone=dict(type='PRMIMSimMIMBEiTViT'),
    # 1x1 convolution + pixel shuffle: the layers of the ROPIM config's
    # SimMIMLinearDecoder, weight names included
    neck=dict(
        _delete_=True,
        type='PRMIMLinearDecoder',
        in_channels=96,
        patch_size=8,
        aggregator=None),
    head=dict(
        _delete_=True,
        type='SimMIMHead',
        patch_size=8,
        loss=dict(type='PixelReconstructionLoss', criterion='L1', channel=3)))

# The ROPIM config's crop and flip, then SimMIM's mask (throw ratio 0: every
# token is encoded, the masked ones as the mask token).
train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(type='LoadImageFromFile'),
        dict(
            type='RandomResizedCrop',
            scale=64,
            crop_ratio_range=(0.67, 1.0),
            backend='pillow',
            interpolation='bicubic'),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(
            type='FurthestSampling',
            input_size=64,
            patch_size=8,
            mask_ratio=0.6,
            throw_ratio=0.0,
            mode='random'),
        dict(type='PackInputs', algorithm_keys=['throw_mask']),
    ]))
