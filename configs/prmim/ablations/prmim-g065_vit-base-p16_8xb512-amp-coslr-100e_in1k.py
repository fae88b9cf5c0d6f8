# Ablation, ViT-B/16, 100 epochs: PR-MIM (furthest sampling + aggregator),
# throw ratio 0.65.
# The paper's ViT-B 100-epoch ablation: PR-MIM 81.7-81.8 at throw ratio
# 0.25 / 0.5 / 0.65; plain partial reconstruction 81.4 / 81.1 / 80.3.
_base_ = ['../prmim_vit-base-p16_8xb512-amp-coslr-100e_in1k.py']

train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(type='LoadImageFromFile'),
        dict(
            type='RandomResizedCrop',
            scale=224,
            crop_ratio_range=(0.2, 1.0),
            backend='pillow',
            interpolation='bicubic'),
        dict(type='RandomFlip', prob=0.5),
        dict(
            type='FurthestSampling',
            input_size=224,
            patch_size=16,
            mask_ratio=0.75,
            throw_ratio=0.65,
            mode='furthest'),
        dict(type='PackInputs', algorithm_keys=['throw_mask']),
    ]))
